"""Help, keys, drafts and server addresses: the technician's day (issue 14)."""

from __future__ import annotations

# message id -> (中文, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    "key.help": ("帮助", "Help"),
    # Textual's own keys that its widgets show in the key bar (no id: named by description)
    "key.textual.Dismiss menu": ("收起菜单", "Close the menu"),
    "key.textual.Exit the command palette": ("退出命令面板", "Leave the command palette"),
    "key.textual.Open link": ("打开链接", "Open the link"),
    "key.help_q": ("帮助", "Help"),
    "key.close_help": ("关闭", "Close"),
    "key.close_help_f1": ("关闭", "Close"),
    "key.close_help_q": ("关闭", "Close"),
    "key.close_help_letter": ("关闭", "Close"),
    "list.count_one": ("共 1 家", "1 institution"),
    "draft.offer": (
        "这家机构有一次未结束的走访（开始于 {when}），填写的内容已保存在本机。继续填写？"
        "（选“否”则保留草稿，按 v 可随时继续）",
        "A visit here was not ended (started {when}); what was typed is kept on this laptop. "
        "Go on with it? (No keeps the draft; press v to go on later)",
    ),
    "draft.at_start": (
        "有 {n} 次未结束的走访已保存为草稿：{names}。打开机构即可继续。",
        "{n} visits were not ended and are kept as drafts: {names}. Open the institution to go on.",
    ),
    "key.leave_search": ("离开搜索框", "Leave the search box"),
    "help.title": ("按键说明：{screen}", "Keys: {screen}"),
    "help.this_screen": ("当前界面", "this screen"),
    "help.footer": (
        # lines of their own: a Chinese sentence has no spaces to wrap at, and Rich would leave
        # "Ctrl+P" alone on a line then fill the next to the border
        "Ctrl+P：打开命令面板，搜索并执行所有操作；\n"
        "也可输入机构名称或拼音首字母直接打开机构。\n"
        "按 Esc、F1 或 ? 关闭本帮助。",
        "Ctrl+P opens the command palette: search and run any action there (or type an "
        "institution's name or pinyin initials to open it). Esc, F1 or ? closes this help.",
    ),
    "help.screen.AssignmentsScreen": ("机构列表", "the institution list"),
    "help.screen.InstitutionScreen": ("机构详情", "the institution"),
    "help.screen.VisitScreen": ("走访记录", "the visit form"),
    "help.screen.SyncScreen": ("同步详情", "sync details"),
    "help.screen.DashboardScreen": ("统计", "the dashboard"),
    "help.screen.SettingsScreen": ("设置", "settings"),
    "help.screen.QRScreen": ("收款码", "the payment code"),
    "help.screen.FirstRunScreen": ("首次连接", "first connection"),
    "help.screen.EvidenceDialog": ("证据", "evidence"),
    "palette.institution_help": (
        "打开机构：{county}，{id}",
        "Open the institution: {county}, {id}",
    ),
    "palette.theme_saved": ("配色已保存", "Colours saved"),
}
