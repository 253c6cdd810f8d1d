"""Every word the app shows, in Chinese (zh-CN) and English, keyed by message id."""

from __future__ import annotations

from fieldkit import domain

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
    "palette.theme": ("主题（配色）", "Theme"),
    "palette.theme_help": ("更换界面配色", "Change the colours"),
    "palette.keys": ("按键说明", "Keys"),
    "palette.keys_help": (
        "显示或隐藏当前控件的说明和全部按键",
        "Show or hide the focused widget's help and every key",
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
    "first.checking": ("正在核对令牌…", "Checking the token…"),
    "first.need_both": ("请填写服务器地址和令牌", "Enter both the server address and the token"),
    "first.ok": ("已连接：{office}，{name}", "Connected: {office}, {name}"),
    # assignments
    "list.title": ("我的机构", "My institutions"),
    "list.search": (
        "搜索：名称、拼音首字母（如 csxc）、信用代码、地址、联系人",
        "Search: name, pinyin initials (e.g. csxc), credit code, address, contact",
    ),
    "list.count": ("共 {total} 家", "{total} institutions"),
    "list.filter_title": ("筛选", "Filter"),
    "list.sort_title": ("排序", "Sort"),
    "list.empty": ("没有符合条件的机构", "No institution matches"),
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
    # --- issue 14 ---
    "key.help": ("帮助", "Help"),
    "key.help_q": ("帮助", "Help"),
    "key.close_help": ("关闭", "Close"),
    "key.close_help_f1": ("关闭", "Close"),
    "key.close_help_q": ("关闭", "Close"),
    "key.close_help_letter": ("关闭", "Close"),
    "list.count_one": ("共 1 家", "1 institution"),
    "first.failed": (
        "连接未成功（{why}）。请检查地址和网络后再次点击“连接”。",
        "Could not connect ({why}). Check the address and the network, then press Connect again.",
    ),
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
        "Ctrl+P 打开命令面板，可搜索并执行所有操作（也可输入机构名称或拼音首字母直接打开机构）。"
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
    "palette.institution_help": (
        "打开机构：{county}，{id}",
        "Open the institution: {county}, {id}",
    ),
    "palette.theme_saved": ("配色已保存", "Colours saved"),
    # --- end issue 14 ---
    # --- issue 12: the platform's readings, courses, observed charges, discrepancies ---
    "filter.discrepancy": ("与平台不符", "Mismatch"),
    "dash.discrepancies": (
        "与平台不符的机构：{n} 家",
        "Institutions where the field and the platform differ: {n}",
    ),
    "dash.discrepancies_more": (
        "另有 {n} 家（在机构列表中用“与平台不符”筛选）",
        "{n} more (filter the list by Mismatch)",
    ),
    "op.charge.observed": ("现场收费记录", "Charge seen on site"),
    "reason.platform_confirmed": ("平台已确认完成，现场不能撤销", "The platform confirmed it done"),
    "reason.course_rules": ("有课程违反预收费规定", "A listed course breaks a fee rule"),
    "inst.tab_platform": ("平台与课程", "Platform & courses"),
    "key.charge": ("记录现场收费", "Record a charge"),
    "key.charge_notice": ("违规收费列入整改", "Charge breaches to notice"),
    "key.tab_platform": ("平台与课程", "Platform & courses"),
    "charge.amount_needed": ("请填写单次收费金额（元）", "Enter the amount of one charge (yuan)"),
    "platform.none": (
        "平台尚未导出这家机构的数据（办公室导入平台数据后显示）",
        "The platform has not reported on this institution yet (shown once the office imports it)",
    ),
    "platform.title": ("平台数据（{when} 导入）", "The platform's reading (imported {when})"),
    "platform.step_row": (
        "{step}：现场 {field} · 平台 {platform}",
        "{step}: field {field} · platform {platform}",
    ),
    "platform.done_on": ("{day} 完成", "done {day}"),
    "platform.not_done": ("未完成", "not done"),
    "platform.unknown": ("（导出未含此项）", "(not in the export)"),
    "platform.trade": (
        "订单 {orders} 笔，{yuan} 元；销课 {lessons} 节；退费 {refunds} 笔，{refund_yuan} 元",
        "{orders} orders, {yuan} yuan; {lessons} lessons consumed; {refunds} refunds, {refund_yuan} yuan",
    ),
    "platform.discrepancies": ("与平台不符之处", "Where the field and the platform differ"),
    "platform.no_discrepancy": ("现场与平台一致", "The field and the platform agree"),
    "courses.title": ("平台课程（{n} 门）", "Courses on the platform ({n})"),
    "courses.none": ("平台上没有这家机构的课程", "No courses listed on the platform"),
    "courses.row": (
        "{name}（{id}，{kind}，{hours} 课时，{start} 至 {end}）",
        "{name} ({id}, {kind}, {hours} hours, {start} to {end})",
    ),
    "courses.ok": ("✓ 符合预收费规定", "✓ keeps the prepaid-fee rules"),
    "charges.title": ("现场记录的收费", "Charges recorded on site"),
    "charges.row": ("{when} {course}：{yuan} 元", "{when} {course}: {yuan} yuan"),
    "charges.ok": ("✓ 符合规定且与平台一致", "✓ keeps the rules and matches the platform"),
    "charge.title": (
        "记录现场收费（价目表、收据或合同）",
        "Record a charge seen on site (price board, receipt, contract)",
    ),
    "charge.course": ("课程", "Course"),
    "charge.unlisted": ("（平台上没有这门课）", "(not listed on the platform)"),
    "charge.course_name": ("课程名称（未上平台时填写）", "Course name (when not listed)"),
    "charge.amount": ("单次收费金额（元）", "Amount of one charge (yuan)"),
    "charge.hours": ("覆盖课时（可空）", "Class hours it covers (optional)"),
    "charge.months": ("覆盖月数（可空）", "Months it covers (optional)"),
    "charge.collected": ("收费日期 YYYY-MM-DD（可空）", "Taken on YYYY-MM-DD (optional)"),
    "charge.start": (
        "开课日期 YYYY-MM-DD（未上平台时填写）",
        "Course starts YYYY-MM-DD (when not listed)",
    ),
    "charge.source": ("依据", "Seen on"),
    "charge.source_price_board": ("价目表", "price board"),
    "charge.source_receipt": ("收据", "receipt"),
    "charge.source_contract": ("合同", "contract"),
    "charge.source_word_of_mouth": ("口头告知", "word of mouth"),
    "charge.source_other": ("其他", "other"),
    "charge.bad_number": ("“{value}”不是正整数", "'{value}' is not a whole number above 0"),
    "charge.bad_date": (
        "日期“{value}”无效，应为 YYYY-MM-DD",
        "Date '{value}' is invalid: use YYYY-MM-DD",
    ),
    "charge.saved_ok": ("已记录收费：符合规定", "Charge recorded: it keeps the rules"),
    "charge.saved_breach": ("已记录收费，违反规定：{what}", "Charge recorded, it breaks: {what}"),
    "charge.in_visit": (
        "收费已加入本次走访的问题（Ctrl+T 列入整改通知书）",
        "Added to this visit's issues (Ctrl+T puts it in the rectification notice)",
    ),
    "charge.to_notice_done": ("已列入整改事项", "Added to the rectification items"),
    "charge.nothing_to_notice": ("没有违规收费可列入", "No charge breach to add"),
    # --- issue 13 ---
    "key.evidence": ("证据", "Evidence"),
    "key.close": ("关闭", "Close"),
    "key.open_viewer": ("用系统查看器打开", "Open with the system viewer"),
    "key.attach_inbox": ("附上文件夹中的新照片", "Attach the folder's new photos"),
    "key.previous": ("上一个", "Previous"),
    "key.next": ("下一个", "Next"),
    "evidence.title": ("证据 — {name}", "Evidence — {name}"),
    "evidence.col_name": ("文件", "File"),
    "evidence.col_on": ("附于", "On"),
    "evidence.col_size": ("大小", "Size"),
    "evidence.col_taken": ("拍摄时间", "Taken"),
    "evidence.col_state": ("状态", "State"),
    "evidence.none": ("还没有证据文件", "No evidence yet"),
    "evidence.on_visit": ("走访", "visit"),
    "evidence.on_check": ("核码", "code check"),
    "evidence.on_case": ("整改事项", "case item"),
    "evidence.state_unsent": ("未发送", "unsent"),
    "evidence.state_uploading": ("待上传", "uploading"),
    "evidence.state_sent": ("已到办公室", "at the office"),
    "evidence.state_at_office": ("在办公室（打开时下载）", "at the office (fetched when opened)"),
    "evidence.state_rejected": ("被拒绝", "rejected"),
    "evidence.state_discarded": ("已丢弃", "discarded"),
    "evidence.target_visit": ("走访 {when}（{kind}）", "Visit {when} ({kind})"),
    "evidence.target_case": ("　整改事项 {n}：{item}", "  Case item {n}: {item}"),
    "evidence.target_check": ("核码 {when}（{found}）", "Code check {when} ({found})"),
    "evidence.no_target": (
        "请先记录一次走访，再把证据附在走访、核码或整改事项上。",
        "Log a visit first; evidence goes on a visit, a code check or a case item.",
    ),
    "evidence.path_hint": (
        "照片或 PDF 的路径（可把文件拖入终端），回车附上；输入文件夹则监视该文件夹",
        "Path of a photo or PDF (drop files into the terminal), Enter; a folder is watched",
    ),
    "evidence.keys": (
        "↑↓ 选择 · 空白处回车 打开 · Ctrl+A 附上文件夹中的新照片 · Esc 关闭",
        "↑↓ select · Enter on an empty field opens · Ctrl+A attaches the folder's new photos · Esc closes",
    ),
    "evidence.attaching": ("正在缩小并保存…", "Reducing and saving…"),
    "evidence.kept": (
        "已保存 {n} 个文件，同步时随记录上传。",
        "Saved {n} file(s); they upload with the record at the next sync.",
    ),
    "evidence.no_watch": (
        "未监视文件夹（输入手机照片同步到的文件夹即可监视）",
        "No folder watched (give the folder your phone's photos sync to)",
    ),
    "evidence.watching": (
        "正在监视 {folder}：{n} 张新照片",
        "Watching {folder}: {n} new photos",
    ),
    "evidence.inbox_empty": ("文件夹中没有新照片", "No new photos in the folder"),
    "evidence.taken": ("拍摄时间：{when}", "Taken: {when}"),
    "evidence.place": ("拍摄位置：{where}", "Place: {where}"),
    "evidence.loading": ("正在读取文件…", "Reading the file…"),
    "evidence.not_here": (
        "这个文件不在本机，且当前无法连接办公室；联网后再打开。",
        "This file is not on this laptop and the office cannot be reached; open it when online.",
    ),
    "evidence.pdf_viewer": (
        "PDF 已用系统查看器打开。",
        "The PDF was opened with the system viewer.",
    ),
    "evidence.cannot_draw": (
        "终端无法显示图片（{why}），按 o 用系统查看器打开。",
        "The terminal cannot draw the image ({why}); press o to open it with the system viewer.",
    ),
    "evidence.preview_keys": (
        "o 用系统查看器打开 · Esc 关闭",
        "o opens with the system viewer · Esc closes",
    ),
    "evidence.opened": ("已用系统查看器打开 {path}", "Opened {path} with the system viewer"),
    "evidence.no_viewer": (
        "无法打开系统查看器（{why}）。文件在：{path}",
        "No system viewer could be started ({why}). The file is at: {path}",
    ),
    "evidence.count": ("证据 {n}", "Evidence {n}"),
    "evidence.upload_status": ("上传文件 {done}/{total} MiB", "uploading {done}/{total} MiB"),
    "evidence.files_waiting": ("文件待上传 {n}", "files to upload {n}"),
    "visit.evidence": (
        "证据照片或 PDF（路径，可拖入终端；回车添加，随走访一起保存）",
        "Evidence photos or PDFs (path, or drop into the terminal; Enter adds; saved with the visit)",
    ),
    "visit.evidence_added": ("将随走访保存：{names}", "Saved with the visit: {names}"),
    "visit.keep_check_photo": (
        "保留这张核码照片作为证据？",
        "Keep the photo of this code as evidence?",
    ),
}


# --- issue 16 --- enforcement: the due list, cases and their escalation, reviews, the ledger, rounds
MESSAGES.update(
    {
        "key.due_list": ("待办", "Due list"),
        "help.screen.DueListScreen": ("待办", "the due list"),
        "help.screen.LedgerScreen": ("整改台账", "the ledger"),
        "key.ledger": ("整改台账", "Ledger"),
        "key.range": ("切换范围", "Range"),
        "key.start_task": ("开始该走访", "Start this visit"),
        "key.tab_cases": ("整改页", "Cases tab"),
        "key.campaign": ("发起回头看", "Start a look-back"),
        "key.state": ("切换状态", "State"),
        "due.title": ("我的待办 · {today}", "Due · {today}"),
        "due.range": ("范围", "Show"),
        "due.all": ("全部", "all"),
        "due.count": ("{n} 项", "{n} tasks"),
        "due.empty": (
            "没有逾期、今天或本周到期的事项",
            "Nothing overdue, due today or this week",
        ),
        "due.section": ("{name}（{n}）", "{name} ({n})"),
        "col.due_on": ("日期", "Date"),
        "col.task": ("事项", "Task"),
        "col.street": ("街道", "Street"),
        "col.institution": ("机构", "Institution"),
        "col.detail": ("说明", "Details"),
        "task.follow_up": ("回访", "follow-up"),
        "task.case": ("整改到期", "deadline"),
        "task.round": ("回头看", "look-back"),
        "task.returned": ("退回修改", "returned"),
        "due.no_amend_here": (
            "这次走访不在本机，请先同步",
            "That visit is not on this laptop; sync first",
        ),
        "ledger.title": ("整改台账 · {zone} · {today}", "Rectification ledger · {zone} · {today}"),
        "ledger.count": ("{n} 个案件", "{n} cases"),
        "ledger.empty": ("没有整改案件", "No cases"),
        "ledger.state": ("状态", "State"),
        "col.case_state": ("状态", "State"),
        "col.issued_on": ("开具", "Issued"),
        "col.deadline": ("期限", "Deadline"),
        "col.items": ("整改项", "Items"),
        "col.escalation": ("升级", "Escalation"),
        "inst.tab_cases": ("整改", "Cases"),
        "case.none": ("这家机构没有整改案件", "No cases for this institution"),
        "case.header": (
            "整改通知书 {issued}（{by}）期限 {deadline} · {state}",
            "Notice of {issued} ({by}), due {deadline} · {state}",
        ),
        "case.unsent": ("待同步", "not yet sent"),
        "case.item_line": ("{n}. {text}：{status}", "{n}. {text} — {status}"),
        "case.escalation_title": ("升级记录", "Escalation"),
        "case.pick": ("案件", "Case"),
        "case.waive": ("免于整改…", "Waive item…"),
        "case.schedule": ("安排约谈…", "Schedule interview…"),
        "case.held": ("约谈已进行…", "Interview held…"),
        "case.revoke": ("建议吊销…", "Recommend revocation…"),
        "case.close": ("结案", "Close case"),
        "case.print": ("打印约谈通知书", "Print interview notice"),
        "case.printed": ("约谈通知书已保存：{path}", "Interview notice saved: {path}"),
        "case.saved": ("已保存（待同步）：{what}", "Saved (not yet sent): {what}"),
        "case.on": ("日期（YYYY-MM-DD）", "Date (YYYY-MM-DD)"),
        "case.place": ("约谈地点", "Place"),
        "case.attendees": ("参加人员", "Who attends"),
        "case.outcome": ("约谈结果", "Outcome"),
        "case.new_deadline": (
            "新的整改期限（YYYY-MM-DD，可空）",
            "New deadline (YYYY-MM-DD, optional)",
        ),
        "case.note": ("说明 / 理由", "Note / reason"),
        "case.item_no": ("整改项序号", "Item number"),
        "case.reason": ("原因", "Reason"),
        "case.ok": ("保存", "Save"),
        "case.supervisor_only": (
            "升级、结案和审核由主管进行",
            "Escalation, closing and review are a supervisor's",
        ),
        "visit.rectified": ("本次复查确认已整改的项", "Items this check confirms rectified"),
        "visit.amend_title": ("修改被退回的走访：{name}", "Amend the returned visit: {name}"),
        "visit.returned_comment": ("主管意见：{comment}", "Supervisor's comment: {comment}"),
        "visit.amended": ("修改已保存（待同步）", "Amendment saved (not yet sent)"),
        "visit.nothing_changed": ("没有修改任何内容", "Nothing was changed"),
        "visit.choose_outcome": ("请选择结果", "Choose the outcome"),
        "review.title": ("主管审核", "Supervisor review"),
        "review.pick": ("走访", "Visit"),
        "review.approve": ("通过", "Approve"),
        "review.return": ("退回修改…", "Return…"),
        "review.comment": ("退回意见（要修改什么）", "What to amend"),
        "review.state": (
            "审核：{decision}（{on}）{comment}",
            "Review: {decision} ({on}) {comment}",
        ),
        "review.none": ("尚无走访可审核", "No visit to review yet"),
        "round.title": ("回头看进度", "Look-back rounds"),
        "round.row": (
            "{due} {division}：抽取 {picked}，已回访 {done}，逾期 {overdue}",
            "{due} {division}: {picked} picked, {done} visited, {overdue} overdue",
        ),
        "round.none": ("还没有回头看", "No look-back rounds yet"),
        "round.division": ("区划代码", "Division code"),
        "round.due": ("回访期限（YYYY-MM-DD）", "Due by (YYYY-MM-DD)"),
        "round.sample": ("抽查比例 %（1–100）", "Sample % (1–100)"),
        "round.filter": ("范围", "Which institutions"),
        "round.started": (
            "回头看已发起：抽取 {n} 家，{due} 前回访",
            "Look-back started: {n} institutions, due by {due}",
        ),
        "round.offline": (
            "发起回头看需要连接办公室，请联网后再试",
            "Starting a look-back needs the office; try again when online",
        ),
    }
)


def tr(key: str, lang: str, **values: object) -> str:
    """The message `key` in `lang`, with its placeholders filled; an unknown key shows itself."""
    pair = MESSAGES.get(key)
    if pair is None:
        return f"⟨{key}⟩"
    text = pair[0] if lang.startswith(ZH) else pair[1]
    return text.format(**values) if values else text


def pick(pair: tuple[str, str], lang: str) -> str:
    """One side of a (zh, en) pair from fieldkit.domain."""
    return pair[0] if lang.startswith(ZH) else pair[1]


def step_name(key: str | None, lang: str) -> str:
    """A checklist step's name, or 'all done' for None."""
    if key is None:
        return tr("step.all_done", lang)
    step = domain.STEPS_BY_KEY.get(key)
    return step.name(lang) if step else key


def status_name(status: str, lang: str) -> str:
    """A step status's name."""
    return pick(domain.STATUS_NAMES.get(status, (status, status)), lang)


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
