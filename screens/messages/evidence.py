"""Evidence: photos and files on visits, code checks and case items (issue 13)."""

from __future__ import annotations

# message id -> (中文, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
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
        "拖入或输入照片/PDF 路径，回车附上；文件夹则监视",
        "Drop or type a photo/PDF path, Enter; a folder is watched",
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
    # --- issue 13: the watched folder in the background, evidence in the ledger and cases ---
    "key.take_photos": ("加入新照片", "Add new photos"),
    "key.case_evidence": ("证据", "Evidence"),
    "inbox.arrived": (
        "手机文件夹“{folder}”有 {n} 张新照片：{names}。走访时按 Ctrl+A 加入，或在机构页按 e 附上。",
        "New photos in '{folder}' ({n}): {names}. Ctrl+A in a visit adds them, or e on an "
        "institution attaches them.",
    ),
    "inbox.offer": (
        "手机文件夹新照片 {n} 张：{names} — Ctrl+A 加入本次走访",
        "New photos in the phone folder ({n}): {names} — Ctrl+A adds them to this visit",
    ),
    "inbox.empty": (
        "手机文件夹没有新照片（在证据窗口 e 中输入文件夹路径即开始监视）",
        "No new photos in the phone folder (type a folder's path in the evidence dialog, e, "
        "to watch it)",
    ),
    "inbox.taking": (
        "正在加入 {n} 张新照片，随走访一起保存",
        "Adding the new photos ({n}); they are saved with the visit",
    ),
    "col.evidence": ("证据", "Files"),
    "case.evidence": ("证据…", "Evidence…"),
    "case.files": ("证据：{names}", "Evidence: {names}"),
    "case.notice_files": (
        "开具通知书的走访证据：{names}",
        "Evidence of the notice's visit: {names}",
    ),
}
