"""The platform's readings, courses, observed charges and discrepancies (issue 12)."""

from __future__ import annotations

# message id -> (中文, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
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
        "Orders: {orders}, {yuan} yuan; lessons consumed: {lessons}; refunds: {refunds}, {refund_yuan} yuan",
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
    # the dashboard: the platform's figures, the field's beside them
    "dash.col_platform": ("平台", "Platform"),
    "dash.col_field": ("现场标记", "Field"),
    "dash.col_full_field": ("现场全流程", "Field full"),
    "dash.source_office": (
        "平台数据 · 办公室统计（联网，{when}）",
        "The platform's figures · from the office (online, {when})",
    ),
    "dash.source_cache": (
        "平台数据 · 本机缓存（离线，上次同步 {when}）",
        "The platform's figures · this laptop's copy (offline, last sync {when})",
    ),
    "dash.platform_listed": (
        "平台已列出 {listed}/{total} 家",
        "the platform lists {listed} of {total}",
    ),
    "dash.platform_none": (
        "办公室尚未导入平台数据：平台各项为 0，右列为现场标记",
        "No platform export imported yet: the platform's figures are 0, the field's are beside",
    ),
}
