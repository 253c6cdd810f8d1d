"""Every word the app shows, in Chinese (zh-CN) and English, keyed by message id."""

from __future__ import annotations

from collections.abc import Iterable

from fieldkit import domain

from .messages import cases, connect, day, evidence, keys, platform

ZH = "zh"
EN = "en"
LANGUAGES = (ZH, EN)

# message id -> (中文, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    # app and bindings
    "app.title": ("fieldkit 资金监管下沉指导", "fieldkit fund-supervision field tool"),
    "key.sync_now": ("立即同步", "Sync now"),
    "key.sync_screen": ("同步详情", "Sync details"),
    "key.dashboard": ("统计", "Dashboard"),
    "key.settings": ("设置", "Settings"),
    "key.search": ("搜索", "Search"),
    "key.open": ("打开", "Open"),
    "key.back": ("返回", "Back"),
    "key.quit": ("退出", "Quit"),
    "key.filter": ("筛选", "Filter"),
    "key.sort": ("排序", "Sort"),
    "key.more": ("更多", "Load more"),
    "key.in_progress": ("进行中", "In progress"),
    "key.done": ("完成", "Done"),
    "key.blocked": ("受阻", "Blocked"),
    "key.todo": ("重置待办", "Back to to-do"),
    "key.contact": ("改联系人", "Edit contact"),
    "key.visit": ("开始走访", "Start visit"),
    "key.qr": ("收款码", "Payment code"),
    "key.end_visit": ("结束走访", "End visit"),
    "key.cancel_visit": ("放弃走访", "Discard visit"),
    "key.discard": ("丢弃", "Discard"),
    "key.open_institution": ("打开机构", "Open institution"),
    "key.level": ("切换层级", "Switch level"),
    "key.language": ("切换语言", "Switch language"),
    "key.cancel": ("取消", "Cancel"),
    "key.yes": ("是", "Yes"),
    "key.tab_checklist": ("清单页", "Checklist tab"),
    "key.tab_details": ("详情页", "Details tab"),
    "key.tab_visits": ("走访记录页", "Visits tab"),
    "key.tab_qr": ("收款码页", "Payment code tab"),
    "key.palette": ("命令", "Commands"),
    "key.qr_png": ("PNG 海报", "PNG poster"),
    "key.qr_pdf": ("PDF 海报", "PDF poster"),
    "key.qr_size": ("海报尺寸", "Poster size"),
    "key.demo_network": ("断网/联网（演示）", "Cut/restore network (demo)"),
    "demo.offline": (
        "演示：已断网。更改照常保存在本机，标记为未发送。",
        "Demo: network cut. Changes are saved on this laptop as unsent.",
    ),
    "demo.online": (
        "演示：网络已恢复，正在同步未发送的更改。",
        "Demo: network back; sending the unsent changes now.",
    ),
    "palette.help": ("在当前界面执行：{what}", "Run on this screen: {what}"),
    "palette.language": ("语言：中文 / English", "Language: 中文 / English"),
    "palette.placeholder": ("搜索命令…", "Search for commands…"),
    "palette.theme_search": ("搜索配色…", "Search for themes…"),
    "palette.no_matches": ("没有匹配的命令", "No matches found"),
    "palette.theme": ("主题（配色）", "Theme"),
    "palette.theme_help": ("更换界面配色", "Change the colours"),
    "palette.keys": ("按键说明", "Keys"),
    "palette.keys_help": (
        "本屏幕的全部按键及其作用（同 F1）",
        "Every key of this screen and what it does (as F1)",
    ),
    "palette.maximize": ("最大化", "Maximize"),
    "palette.maximize_help": ("放大当前控件", "Maximize the focused widget"),
    "palette.minimize": ("还原", "Minimize"),
    "palette.minimize_help": ("控件恢复正常大小", "Restore the widget to its normal size"),
    "palette.screenshot": ("截图", "Screenshot"),
    "palette.screenshot_help": (
        "把当前界面保存为 SVG 图片",
        "Save an SVG picture of this screen",
    ),
    # status bar
    "status.offline": ("离线", "offline"),
    "status.online": ("在线", "online"),
    "status.unknown": ("未连接", "not yet connected"),
    "status.sending": ("发送中…", "sending…"),
    "status.unsent": ("未发送 {n}", "unsent {n}"),
    "status.rejected": ("被拒 {n}", "rejected {n}"),
    "status.last_sync": ("上次同步 {when}", "last sync {when}"),
    "status.never": ("从未同步", "never synced"),
    "status.no_sync": ("未配置同步", "sync not set up"),
    "status.sync_started": ("正在同步…", "Syncing…"),
    # first run
    "first.title": ("欢迎使用 fieldkit", "Welcome to fieldkit"),
    "first.intro": (
        "连接到办公室服务器，或先试用演示数据。",
        "Connect to your office's server, or try the demo first.",
    ),
    "first.url": ("服务器地址", "Server address"),
    "first.url_hint": ("例如 https://office.example:8400", "e.g. https://office.example:8400"),
    "first.token": ("令牌（办公室发放）", "Token (issued by the office)"),
    "first.connect": ("连接", "Connect"),
    "first.demo": ("试用演示", "Try the demo"),
    "first.demo_hint": (
        "请退出后在终端运行：fieldkit demo",
        "Quit, then run in a terminal: fieldkit demo",
    ),
    "first.need_both": ("请填写服务器地址和令牌", "Enter both the server address and the token"),
    "first.ok": ("已连接：{office}，{name}", "Connected: {office}, {name}"),
    # assignments
    "list.title": ("我的机构", "My institutions"),
    "list.search": (
        "搜索：名称、拼音首字母（csxc）、信用代码、地址、联系人",
        "Search: name, initials (csxc), code, address, contact",
    ),
    "list.count": ("共 {total} 家", "{total} institutions"),
    "list.filter_title": ("筛选", "Filter"),
    "list.sort_title": ("排序", "Sort"),
    "list.empty": ("没有符合条件的机构", "No matches"),
    "col.name": ("机构名称", "Institution"),
    "col.county": ("区县", "County"),
    "col.progress": ("进度", "Progress"),
    "col.next_step": ("下一步", "Next step"),
    "col.bank": ("银行核验", "Bank"),
    "col.last_visit": ("上次", "Last"),
    "col.next_visit": ("下次", "Next"),
    "col.unsent": ("未发", "Out"),
    "filter.all": ("全部", "All"),
    "filter.not_started": ("未开始", "New"),
    "filter.in_progress": ("进行中", "Started"),
    "filter.blocked": ("受阻", "Blocked"),
    "filter.full_process": ("全流程", "Full"),
    "filter.follow_up_due": ("待回访", "Follow-up"),
    "sort.priority": ("优先级", "Priority"),
    "sort.name": ("名称", "Name"),
    "sort.county": ("区县", "County"),
    "bank.pending": ("待核验", "pending"),
    "bank.passed": ("已通过", "passed"),
    "bank.failed": ("未通过", "failed"),
    "step.all_done": ("全部完成", "all done"),
    # a step's name in the list's next-step column when the whole name does not fit (12 cells)
    "step_short.registered": ("平台注册", "Registration"),
    "step_short.qualification": ("资质审核", "Credentials"),
    "step_short.personnel": ("人员审核", "Staff review"),
    "step_short.courses": ("课程审核", "Courses"),
    "step_short.account": ("账户审核", "Account"),
    "step_short.bank_verified": ("银行核验", "Bank check"),
    "step_short.payment_enabled": ("支付开通", "Payment on"),
    "step_short.first_purchase": ("平台购课", "1st purchase"),
    "step_short.first_consumption": ("平台销课", "1st lesson"),
    "step_short.refund_flow": ("退费流程", "Refund flow"),
    "step_short.parent_app": ("家长端指导", "Parent app"),
    # institution
    "inst.tab_checklist": ("清单", "Checklist"),
    "inst.tab_details": ("详情", "Details"),
    "inst.tab_visits": ("走访记录", "Visits"),
    "inst.tab_qr": ("收款码", "Payment code"),
    "inst.missing": (
        "缓存中没有机构 {id}（可能已被重新分配）",
        "Institution {id} is not in the cache (it may have been reassigned)",
    ),
    "inst.uscc": ("统一社会信用代码", "Credit code"),
    "inst.uscc_bad": ("⚠ 信用代码有误：{why}", "⚠ Credit code is wrong: {why}"),
    "inst.licence": ("办学许可证", "Licence"),
    "inst.address": ("地址", "Address"),
    "inst.division": ("区划", "Division"),
    "inst.contact": ("联系人", "Contact"),
    "inst.phone": ("联系电话", "Phone"),
    "inst.kind": ("类别", "Kind"),
    "inst.kind_academic": ("学科类", "academic"),
    "inst.kind_non_academic": ("非学科类", "non-academic"),
    "inst.bank": ("银行核验", "Bank verification"),
    "inst.bank_reason": ("银行原因", "Bank's reason"),
    "inst.orders": ("平台订单", "Platform orders"),
    "inst.orders_value": ("{n} 单，{yuan} 元", "{n} orders, {yuan} yuan"),
    "inst.sync_col": ("同步", "Sync"),
    "inst.sync_state": ("同步状态", "Sync state"),
    "inst.guidance_check": ("查看", "Check"),
    "inst.guidance_collect": ("采集", "Collect"),
    "inst.guidance_pitfalls": ("常见问题", "Common pitfalls"),
    "inst.step": ("步骤", "Step"),
    "inst.status": ("状态", "Status"),
    "inst.note": ("原因/备注", "Reason"),
    "inst.saved": ("已保存：{what}", "Saved: {what}"),
    "inst.server_step": ("此步骤由银行核验结果决定", "This step comes from the bank's answer"),
    "inst.no_visits": ("还没有走访记录", "No visits yet"),
    "inst.qr_button": ("显示收款码", "Show the payment code"),
    "inst.qr_help": (
        "显示、核对机构的平台收款码",
        "Show and check the institution's platform code",
    ),
    "inst.code_check": (
        "现场核码：扫描枪扫描、粘贴前台的收款码内容或图片路径",
        "On-site check: scan or paste the code at the front desk (or an image path)",
    ),
    "inst.code_recorded": ("核码结果已记录（待同步）", "Check recorded (not yet sent)"),
    "visit.code_check": (
        "现场核码（不符时自动记入问题）",
        "On-site code check (a mismatch is added to the issues)",
    ),
    "inst.contact_saved": ("联系人已保存（待同步）", "Contact saved (not yet sent)"),
    "sync.synced": ("已同步", "synced"),
    "sync.unsent": ("未发送", "unsent"),
    "sync.sending": ("发送中", "sending"),
    "sync.rejected": ("被拒绝", "rejected"),
    # visits
    "visit.title": ("走访记录：{name}", "Visit: {name}"),
    "visit.started": ("开始时间 {when}", "Started {when}"),
    "visit.kind": ("走访类型", "Kind of visit"),
    "visit.steps": ("本次推进的步骤", "Steps advanced"),
    "visit.outcome": ("结果", "Outcome"),
    "visit.issues": ("发现的问题（每行一条）", "Issues found (one per line)"),
    "visit.rect_items": (
        "整改通知书事项（每行一条，留空表示不下发）",
        "Rectification notice items (one per line; empty = no notice)",
    ),
    "visit.rect_deadline": ("整改期限（YYYY-MM-DD）", "Rectification deadline (YYYY-MM-DD)"),
    "visit.interview": ("建议约谈", "Interview recommended"),
    "visit.next": ("下次走访日期（YYYY-MM-DD）", "Next visit date (YYYY-MM-DD)"),
    "visit.notes": ("备注", "Notes"),
    "visit.end": ("结束并保存", "End and save"),
    "visit.cancel": ("放弃", "Discard"),
    "visit.bad_date": ("日期格式应为 YYYY-MM-DD：{value}", "Dates are YYYY-MM-DD: {value}"),
    "visit.deadline_needed": (
        "下发整改通知书时请填写整改期限",
        "A rectification notice needs a deadline",
    ),
    "visit.saved": ("走访已保存（待同步）", "Visit saved (not yet sent)"),
    "visit.row": ("{when} {kind} · {outcome}", "{when} {kind} · {outcome}"),
    "visit.rect_short": ("整改 {n} 项，期限 {deadline}", "{n} rectification items, due {deadline}"),
    "visit.none": ("—", "—"),
    # sync screen
    "syncs.title": ("同步", "Sync"),
    "syncs.unsent": ("待发送的修改（{n}）", "Changes not yet sent ({n})"),
    "syncs.rejected": ("被拒绝的修改（{n}）", "Rejected changes ({n})"),
    "syncs.conflicts": ("与他人同时修改（{n}）", "Edited by someone else at the same time ({n})"),
    "syncs.errors": ("最近的错误", "Last errors"),
    "syncs.no_errors": ("没有错误", "No errors"),
    "syncs.col_when": ("时间", "When"),
    "syncs.col_kind": ("修改", "Change"),
    "syncs.col_inst": ("机构", "Institution"),
    "syncs.col_reason": ("原因", "Reason"),
    "syncs.col_state": ("状态", "State"),
    "syncs.confirm_discard": (
        "丢弃这条被拒绝的修改？本机的改动将被办公室的数据替换。",
        "Discard this rejected change? The office's data will replace it on the next sync.",
    ),
    "syncs.discarded": ("已丢弃", "Discarded"),
    "syncs.pick_rejected": ("请先在“被拒绝的修改”中选择一条", "Pick a rejected change first"),
    "op.step.set": ("步骤：{step} → {status}", "Step: {step} → {status}"),
    "op.visit.create": ("新走访", "New visit"),
    "op.visit.amend": ("修改走访", "Visit amended"),
    "op.contact.set": ("联系人", "Contact"),
    "op.poster.printed": ("打印收款码", "Poster printed"),
    "op.qr.checked": ("现场核码", "On-site code check"),
    "reason.server_owned": (
        "该项由办公室/银行决定，技术人员不能修改",
        "The office or the bank owns this; technicians cannot change it",
    ),
    "reason.not_assigned": (
        "该机构已不在你的名单中",
        "This institution is no longer assigned to you",
    ),
    "reason.prerequisite": ("前置步骤尚未完成", "A step it needs is not done yet"),
    "reason.invalid": ("数据无效", "The data is invalid"),
    "reason.unknown_institution": (
        "办公室不认识该机构",
        "The office does not know this institution",
    ),
    "reason.unknown_visit": ("办公室不认识该走访", "The office does not know this visit"),
    "reason.unknown_kind": ("办公室不认识这种修改", "The office does not know this kind of change"),
    # dashboard
    "dash.title": ("统计", "Dashboard"),
    "dash.scope_mine": ("我的名单", "My list"),
    "dash.scope_zone": ("辖区：{zone}", "Zone: {zone}"),
    "dash.institutions": ("机构", "Institutions"),
    "dash.by_step": ("各步骤完成数", "Done per step"),
    "dash.bank_rate": ("银行核验通过率", "Bank verification pass rate"),
    "dash.full_process": ("全流程监管", "Full-process supervision"),
    "dash.orders": ("平台订单", "Platform orders"),
    "dash.amount": ("订单金额", "Order amount"),
    "dash.yuan": ("{yuan} 元", "{yuan} yuan"),
    "dash.visits": ("走访次数", "Visits"),
    "dash.rectifications": ("整改通知书", "Rectification notices"),
    "dash.by_division": ("分区进度（{level}）", "Progress by division ({level})"),
    "dash.level_county": ("区县", "county"),
    "dash.level_city": ("市州", "city"),
    "dash.col_division": ("区划", "Division"),
    "dash.col_institutions": ("机构", "Inst."),
    "dash.col_bank": ("核验", "Bank"),
    "dash.col_full": ("全流程", "Full"),
    # settings
    "settings.title": ("设置", "Settings"),
    "settings.language": ("界面语言", "Language"),
    "settings.profile": ("配置", "Profile"),
    "settings.server": ("服务器", "Server"),
    "settings.office": ("办公室", "Office"),
    "settings.technician": ("技术人员", "Technician"),
    "settings.cache": ("本地缓存", "Local cache"),
    "settings.theme_hint": (
        "配色：命令面板（Ctrl+P）→ 主题",
        "Colours: command palette (Ctrl+P) → theme",
    ),
    "settings.saved": ("语言已保存", "Language saved"),
    "role.technician": ("技术人员", "technician"),
    "role.supervisor": ("督导", "supervisor"),
    # dialogs
    "dialog.reason_title": ("“{step}”受阻的原因", "Why is “{step}” blocked?"),
    "dialog.reason_hint": (
        "例如：负责人不在，下周再来",
        "e.g. the manager is away until next week",
    ),
    # --- issue 14 (ui-a) ---
    "dialog.reason_required": (
        "请填写受阻的原因（例如：负责人不在，下周再来），再按回车。",
        "A reason is required: type why the step is blocked, then press Enter.",
    ),
    "visit.sent_now": ("走访已发送到办公室", "Visit sent to the office"),
    "settings.who": ("{name}（{role}，{zone}）", "{name} ({role}, {zone})"),
    # --- end issue 14 (ui-a) ---
    "dialog.ok": ("确定", "OK"),
    "dialog.cancel": ("取消", "Cancel"),
    "dialog.yes": ("是", "Yes"),
    "dialog.no": ("否", "No"),
    "dialog.contact_title": ("修改联系人", "Edit contact"),
    "dialog.confirm_leave_visit": (
        "放弃这次走访？填写的内容不会保存。",
        "Discard this visit? What you entered will not be saved.",
    ),
    # errors
    "error.worker": ("操作失败：{why}", "That did not work: {why}"),
    "error.cache": ("本地缓存出错：{why}", "Local cache problem: {why}"),
    "error.sync": ("同步出错：{why}", "Sync problem: {why}"),
    "error.config": ("配置出错：{why}", "Settings problem: {why}"),
    "error.kept": ("已保存的数据没有丢失。", "Nothing already saved was lost."),
    "common.none": ("—", "—"),
    "common.yes": ("是", "yes"),
    "common.no": ("否", "no"),
}


# Each area's words, in the order they were added (a later area may refine an earlier word).
for _area in (keys, platform, evidence, cases, day, connect):  # day, connect: issue 14
    MESSAGES.update(_area.MESSAGES)


# English says "1 visit", not "1 visits": a counted message's English for a count of one, by key
# (the count's placeholder, the text). Chinese has no plural.
SINGULAR: dict[str, tuple[str, str]] = {
    "list.count": ("total", "{total} institution"),
    "due.count": ("n", "{n} task"),
    "ledger.count": ("n", "{n} case"),
    "round.started": ("n", "Look-back started: {n} institution, due by {due}"),
    "notice.saved": ("pages", "Rectification notice saved ({pages} page): {path}"),
    "evidence.watching": ("n", "Watching {folder}: {n} new photo"),
    "draft.at_start": (
        "n",
        "{n} visit was not ended and is kept as a draft: {names}. Open the institution to go on.",
    ),
    "inst.orders_value": ("n", "{n} order, {yuan} yuan"),
    "visit.rect_short": ("n", "{n} rectification item, due {deadline}"),
    "notice.choice": ("n", "#{short}  {when}  {n} item, deadline {deadline}"),
}


def tr(key: str, lang: str, **values: object) -> str:
    """The message `key` in `lang`, with its placeholders filled; an unknown key shows itself."""
    pair = MESSAGES.get(key)
    if pair is None:
        return f"⟨{key}⟩"
    if lang.startswith(ZH):
        text = pair[0]
    else:
        one = SINGULAR.get(key)
        text = one[1] if one is not None and values.get(one[0]) == 1 else pair[1]
    return text.format(**values) if values else text


def pick(pair: tuple[str, str], lang: str) -> str:
    """One side of a (zh, en) pair from fieldkit.domain."""
    return pair[0] if lang.startswith(ZH) else pair[1]


def listed(items: Iterable[str], lang: str) -> str:
    """Names one after another: 甲、乙 in Chinese, "a, b" in English."""
    return ("、" if lang.startswith(ZH) else ", ").join(items)


def step_name(key: str | None, lang: str) -> str:
    """A checklist step's name, or 'all done' for None."""
    if key is None:
        return tr("step.all_done", lang)
    step = domain.STEPS_BY_KEY.get(key)
    return step.name(lang) if step else key


def status_name(status: str, lang: str) -> str:
    """A step status's name."""
    return pick(domain.STATUS_NAMES.get(status, (status, status)), lang)


def shown_sync_state(state: str, round_running: bool) -> str:
    """An op's sync state as the user should read it: 'sending' only while a round is running
    (an op stays 'sending' in the cache after a round that failed, until it is sent again)."""
    return "unsent" if state == "sending" and not round_running else state


def visit_kind_name(kind: str, lang: str) -> str:
    """A visit kind's name."""
    return pick(domain.VISIT_KIND_NAMES.get(kind, (kind, kind)), lang)


def outcome_name(outcome: str | None, lang: str) -> str:
    """A visit outcome's name."""
    if outcome is None:
        return tr("common.none", lang)
    return pick(domain.OUTCOME_NAMES.get(outcome, (outcome, outcome)), lang)


def error_text(error: BaseException, lang: str) -> str:
    """Words for an error: its own bilingual message when it has one, else its text."""
    message = getattr(error, "message", None)
    if callable(message):
        try:
            return str(message(lang))
        except TypeError:
            pass
    zh, en = getattr(error, "zh", None), getattr(error, "en", None)
    if zh and en:
        return str(zh if lang.startswith(ZH) else en)
    return str(error) or type(error).__name__
