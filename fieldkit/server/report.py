"""`fieldkit server report`: the figures an office reports, one row per division a level down."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from fieldkit import domain

from . import enforcement, stats
from .auth import division_filter
from .store import Store, institutions

HEADERS = (
    ("排名", "rank"),
    ("区划代码", "division"),
    ("区划名称", "name"),
    ("机构数", "institutions"),
    ("银行核验通过数", "bank verified"),
    ("银行核验通过率", "bank verification pass rate"),
    ("全流程监管数", "full-process"),
    ("全流程监管率", "full-process rate"),
    ("订单数", "orders"),
    ("订单金额（元）", "order amount (yuan)"),
    ("走访次数", "visits"),
    ("整改通知书", "rectification notices"),
    ("未结案件", "open cases"),
    ("逾期案件", "overdue cases"),
    ("现场标记全流程数", "full-process marked on site"),
    ("现场标记支付开通数", "payment enabled marked on site"),
)


class ReportError(Exception):
    """The report cannot be written as asked; zh and en say what to do."""

    def __init__(self, zh: str, en: str, code: int = 5) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.code = zh, en, code  # 5: bad input (fieldkit.cli.exits)


def report_rows(
    store: Store, division: str, today: date | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one figures entry per division a level down, ranked by full-process rate; the totals).

    Each entry also counts its cases still open and those overdue on `today` (the office's date).
    """
    try:
        code = domain.validate_division(division, "division")
    except domain.ValidationError as exc:
        raise ReportError(exc.zh, exc.en) from None
    with store.engine.connect() as conn:
        scope = division_filter(institutions.c.division_code, code)
        total = stats.figures(conn, scope, code, domain.full_name(code))
        cases = enforcement.open_counts(conn, scope, today or date.today())
    children = list(total.get("children") or [])
    level = domain.DIVISIONS[code].level
    below = (
        [c.code for c in domain.CITIES]
        if level == "province"
        else [c.code for c in domain.counties_of(code)]
        if level == "city"
        else []
    )
    present = {c["division"] for c in children}
    empty = {k: v for k, v in total.items() if k not in ("division", "name", "children")}
    for child in below:  # every division a level down has its row, even without institutions
        if child not in present:
            children.append(_zeroed(empty) | {"division": child, "name": domain.full_name(child)})
    if not children:  # a county: its own row
        children = [dict(total, children=[])]
    for entry in (*children, total):
        entry["open_cases"], entry["overdue_cases"] = _cases_within(cases, entry["division"])
    ranked = sorted(
        children,
        key=lambda c: (-_rate(c["full_process"], c["institutions"]), c["division"] or ""),
    )
    return ranked, total


def _cases_within(counts: dict[str, int], division: str) -> tuple[int, int]:
    """(open, overdue) cases of the institutions inside a division, from per-county counts."""
    width = {"province": 2, "city": 4}.get(domain.DIVISIONS[division].level, 6)
    prefix = division[:width]
    found = {"open": 0, "overdue": 0}
    for key, n in counts.items():
        county, what = key.split(":")
        if county.startswith(prefix):
            found[what] += n
    return found["open"], found["overdue"]


def _zeroed(value: Any) -> Any:
    """The same shape with every number 0."""
    if isinstance(value, dict):
        return {k: _zeroed(v) for k, v in value.items()}
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return 0
    return value


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _cells(rank: int | str, f: dict[str, Any]) -> list[Any]:
    field = f.get("field") or {}
    return [
        rank,
        f["division"],
        f["name"],
        f["institutions"],
        f["bank_verified"],
        _rate(f["bank_verified"], f["institutions"]),
        f["full_process"],
        _rate(f["full_process"], f["institutions"]),
        f["orders"],
        f["order_amount_fen"] / 100,
        f["visits"],
        f["rectification_notices"],
        f["open_cases"],
        f["overdue_cases"],
        field.get("full_process", 0),
        (field.get("by_step") or {}).get("payment_enabled", 0),
    ]


def write_report(store: Store, division: str, path: Path) -> int:
    """Write the report workbook (Chinese headers, English below); the number of division rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    ranked, total = report_rows(store, division)
    if not path.parent.is_dir():
        raise ReportError(
            f"文件夹“{path.parent}”不存在，请先创建或换一个路径",
            f"the folder '{path.parent}' does not exist: create it or choose another path",
        )
    book = Workbook()
    sheet = book.active
    sheet.title = "统计报表"
    sheet.append(
        [f"{total['name']}（{total['division']}）校外培训机构资金监管统计，按全流程监管率排名"]
    )
    sheet.append([zh for zh, _ in HEADERS])
    sheet.append([en for _, en in HEADERS])
    for cell in (*sheet[2], *sheet[3]):
        cell.font = Font(bold=True)
    for rank, figures in enumerate(ranked, start=1):
        sheet.append(_cells(rank, figures))
    sheet.append(_cells("合计 / total", total))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=4):
        row[5].number_format = row[7].number_format = "0.00%"
        row[9].number_format = "#,##0.00"
    for letter, width in zip(
        "ABCDEFGHIJKLMN", (8, 10, 24, 8, 14, 14, 12, 14, 8, 16, 8, 10, 16, 16), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    # Written next to the target, then moved: a report half-written is never left under its name.
    handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".xlsx.part")
    os.close(handle)
    try:
        book.save(temp)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ReportError(
            f"无法写入“{path}”：{exc.strerror}（文件是否在 Excel 中打开？）",
            f"cannot write '{path}': {exc.strerror} (is it open in Excel?)",
        ) from None
    return len(ranked)
