"""`fieldkit server cases` (the rectification ledger, on screen or as .xlsx) and
`fieldkit server campaign` (a look-back round)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from fieldkit import domain
from fieldkit.domain import cases as dc
from fieldkit.server import enforcement
from fieldkit.server.auth import Caller, division_filter
from fieldkit.server.store import institutions, technicians

from .exits import ExitCode
from .server import _fail, _open, _say

# One row per item; the case's columns repeat on each of its items.
XLSX_HEADERS = (
    "案件编号",
    "机构编号",
    "机构名称",
    "行政区划",
    "开具人",
    "开具日期",
    "整改期限",
    "现行期限",
    "案件状态",
    "序号",
    "整改内容",
    "整改项状态",
    "原因",
    "复查走访",
    "整改确认日期",
    "约谈日期",
    "约谈地点",
    "约谈结果",
    "建议吊销日期",
    "结案日期",
    "升级记录",
    "通知书走访证据数",
    "整改证据数",
    "整改证据文件",
)
DATE_FORMAT = "yyyy-mm-dd"


def _date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{what}“{text}”不是日期，请写成 YYYY-MM-DD / {what} '{text}' is not a date: "
            "write YYYY-MM-DD"
        ) from None


def _last(case: dict[str, Any], step: str) -> dict[str, Any] | None:
    found = [e for e in case["escalation"] if e["step"] == step]
    return found[-1] if found else None


def _escalation_text(case: dict[str, Any]) -> str:
    parts = []
    for e in case["escalation"]:
        zh, _ = dc.ESCALATION_NAMES.get(e["step"], (e["step"], e["step"]))
        detail = "，".join(str(v) for v in (e.get("place"), e.get("outcome"), e.get("note")) if v)
        parts.append(f"{e['on']} {zh}" + (f"（{detail}）" if detail else ""))
    return "；".join(parts)


def _files_text(files: list[dict[str, Any]]) -> str:
    """Evidence files as the office files them: name, the hash's first 12, not yet uploaded."""
    return "；".join(
        f"{f['name'] or '—'}（{f['sha256'][:12]}）" + ("" if f["stored"] else "（未上传）")
        for f in files
    )


def ledger_rows(cases: list[dict[str, Any]], names: dict[str, str]) -> list[list[Any]]:
    """The ledger as sheet rows (one per item), dates as `date` values."""
    rows: list[list[Any]] = []
    for case in cases:
        held, scheduled = _last(case, "interview_held"), _last(case, "interview_scheduled")
        revoked, closed = _last(case, "revocation_recommended"), _last(case, "closed")
        state_zh = dc.CASE_STATE_NAMES[case["state"]][0]
        for index, item in enumerate(case["items"], start=1):
            rows.append(
                [
                    case["case_id"],
                    case["institution_id"],
                    case["institution_name"],
                    domain.full_name(case["division_code"]),
                    names.get(case["issued_by"], case["issued_by"]),
                    date.fromisoformat(case["issued_on"]),
                    date.fromisoformat(case["deadline"]),
                    date.fromisoformat(case["current_deadline"]),
                    state_zh,
                    index,
                    item["text"],
                    dc.ITEM_STATUS_NAMES.get(item["status"], (item["status"],))[0],
                    item.get("reason") or "",
                    item.get("visit_id") or "",
                    date.fromisoformat(item["on"]) if item.get("on") else None,
                    date.fromisoformat((held or scheduled or {}).get("on") or "")
                    if held or scheduled
                    else None,
                    (scheduled or {}).get("place") or "",
                    (held or {}).get("outcome") or "",
                    date.fromisoformat(revoked["on"]) if revoked else None,
                    date.fromisoformat(closed["on"]) if closed else None,
                    _escalation_text(case),
                    len(case.get("files") or []),
                    len(item.get("files") or []),
                    _files_text(item.get("files") or []),
                ]
            )
    return rows


def write_xlsx(path: Path, rows: list[list[Any]], title: str) -> None:
    """Stream the ledger into an .xlsx file (openpyxl write-only), dates formatted as dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("整改台账")
    sheet.freeze_panes = "A2"
    for column, width in zip(
        "ABCDEFGHIJK", (22, 16, 28, 22, 10, 12, 12, 12, 10, 6, 40), strict=True
    ):
        sheet.column_dimensions[column].width = width
    for column, width in (("V", 12), ("W", 10), ("X", 48)):  # the evidence columns
        sheet.column_dimensions[column].width = width
    sheet.append(list(XLSX_HEADERS))
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, date):
                cell.number_format = DATE_FORMAT
            cells.append(cell)
        sheet.append(cells)
    book.properties.title = title
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def cmd_cases(args: argparse.Namespace) -> int:
    """The rectification ledger of a division: printed, or written as .xlsx."""
    try:
        today = _date(args.on, "日期 / date") or date.today()
    except ValueError as exc:
        return _fail(*str(exc).split(" / ", 1), code=ExitCode.BAD_INPUT)
    code = args.division or domain.PROVINCE_CODE
    if code not in domain.DIVISIONS:
        return _fail(
            f"未知的行政区划代码“{code}”",
            f"unknown division code '{code}'",
            code=ExitCode.BAD_INPUT,
        )
    if args.state is not None and args.state not in dc.CASE_STATES:
        return _fail(
            f"状态应为：{'、'.join(dc.CASE_STATES)}",
            f"the state must be one of {', '.join(dc.CASE_STATES)}",
            code=ExitCode.BAD_INPUT,
        )
    store = _open(args)
    try:
        store.create_schema()
        with store.engine.connect() as conn:
            scope = division_filter(institutions.c.division_code, code)
            cases = enforcement.ledger(conn, scope, today, args.state, files=True)
            names = enforcement.technician_names(conn)
    finally:
        store.close()
    rows = ledger_rows(cases, names)
    if args.xlsx:
        target = Path(args.xlsx)
        try:
            write_xlsx(target, rows, f"{domain.full_name(code)}整改台账")
        except OSError as exc:
            return _fail(
                f"无法写入“{target}”：{exc.strerror or exc}",
                f"cannot write '{target}': {exc.strerror or exc}",
            )
        _say(
            f"已写入整改台账：{len(cases)} 个案件，{len(rows)} 项整改内容 → {target}",
            f"wrote the ledger: {len(cases)} cases, {len(rows)} items → {target}",
        )
        return 0
    for case in cases:
        zh, en = dc.CASE_STATE_NAMES[case["state"]]
        evidence = len(case["files"]) + sum(len(i["files"]) for i in case["items"])
        print(
            f"{case['case_id'][:8]}  {case['institution_name']}  {case['issued_on']} → "
            f"{case['current_deadline']}  {zh}/{en}  "
            f"{len(case['items']) - sum(i['status'] == 'open' for i in case['items'])}"
            f"/{len(case['items'])}  证据/evidence {evidence}"
            + (f"  {_escalation_text(case)}" if case["escalation"] else "")
        )
    _say(
        f"{domain.full_name(code)}：{len(cases)} 个案件（{today.isoformat()}）",
        f"{code}: {len(cases)} cases (as of {today.isoformat()})",
    )
    return 0


def _percent(text: str) -> float | str:
    """'20', '20%' or '12.5' as a number; anything else as typed (the domain refuses it)."""
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        return text


def cmd_campaign(args: argparse.Namespace) -> int:
    """Start a look-back round (回头看): a follow-up falls due for each picked institution."""
    try:
        due = _date(args.due, "到期日期 / due date")
        today = _date(args.today, "日期 / date") or date.today()
    except ValueError as exc:
        return _fail(*str(exc).split(" / ", 1), code=ExitCode.BAD_INPUT)
    assert due is not None
    store = _open(args)
    try:
        store.create_schema()
        caller = None
        if args.supervisor:
            with store.engine.connect() as conn:
                row = conn.execute(
                    technicians.select().where(technicians.c.id == args.supervisor)
                ).first()
            if row is None:
                return _fail(
                    f"没有人员“{args.supervisor}”",
                    f"no technician '{args.supervisor}'",
                    code=ExitCode.NOT_FOUND,
                )
            caller = Caller(row.id, row.name, row.role, row.zone)
        made = enforcement.create_round(
            store, args.division, due, today, _percent(args.sample), args.filter, caller
        )
    except domain.ValidationError as exc:
        return _fail(exc.zh, exc.en, code=ExitCode.BAD_INPUT)
    finally:
        store.close()
    _say(
        f"回头看 {made['round_id']}：{domain.full_name(args.division)}符合条件 {made['matching']} 家，"
        f"抽取 {len(made['institutions'])} 家（{made['sample']}%），{due.isoformat()} 前回访；"
        f"涉及技术人员 {len(made['technicians'])} 名",
        f"round {made['round_id']}: {made['matching']} matching, "
        f"{len(made['institutions'])} picked ({made['sample']}%), follow-up due "
        f"{due.isoformat()}, on {len(made['technicians'])} technicians' lists",
    )
    return 0
