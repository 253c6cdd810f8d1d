"""A technician's day (issue 14, part B): printing the notice, what was sent, screenshots."""

from __future__ import annotations

# message id -> (中文, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    "key.print_notice": ("打印整改通知书", "Print rectification notice"),
    "notice.none": (
        "这家机构的走访中还没有整改通知书：在走访表中填写整改事项和期限后即可打印。",
        "No visit of this institution has a rectification notice yet: fill in its items and "
        "deadline in the visit form, then print it.",
    ),
    "notice.pick": ("打印哪次走访的整改通知书？", "Print the notice of which visit?"),
    "notice.choice": (
        "#{short}  {when}  {n} 项，期限 {deadline}",
        "#{short}  {when}  {n} items, deadline {deadline}",
    ),
    "notice.writing": ("正在生成整改通知书…", "Writing the rectification notice…"),
    "notice.saved": (
        "整改通知书已保存（{pages} 页）：{path}",
        "Rectification notice saved ({pages} pages): {path}",
    ),
    "notice.failed": ("整改通知书未能保存：{why}", "The notice was not saved: {why}"),
    "inst.code_sent": ("核码结果已发送到办公室", "Check recorded and sent to the office"),
    "screenshot.saved": ("截图已保存：{path}", "Screenshot saved: {path}"),
    "screenshot.failed": (
        "截图未能保存：{why}。请检查磁盘空间和文件夹权限。",
        "The screenshot was not saved: {why}. Check disk space and folder permissions.",
    ),
}
