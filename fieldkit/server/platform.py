"""The platform's export imported: each step's platform reading and the institution's trade."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from fieldkit import domain
from fieldkit.domain.platform import EARLIEST, PLATFORM_STEPS

from . import office
from .bulk import executemany
from .imports import ImportReport
from .readings import (
    BATCH,
    TRADE,
    _no_trade,
    check_against_platform,
    demo_platform_steps,
    platform_change_rows,
    platform_detail,
    platform_wire,
    readings_of,
    seed_readings,
)
from .sheets import SheetError, columns, open_sheet, parse_count, parse_date, parse_yuan
from .store import (
    Store,
    dumps,
    emit,
    institutions,
    now_iso,
    platform_steps,
    platform_trade,
)

# The readings' names, kept importable from here.
__all__ = [
    "BATCH",
    "TRADE",
    "Target",
    "check_against_platform",
    "demo_platform_steps",
    "find_target",
    "import_platform",
    "institution_index",
    "platform_change_rows",
    "platform_detail",
    "platform_wire",
    "readings_of",
    "seed_readings",
]

# Changed rows written per executemany round (the whole import is still one transaction).
WRITE_BATCH = 2000

PLATFORM_HEADERS: dict[str, tuple[str, ...]] = {
    "uscc": ("uscc", "统一社会信用代码", "信用代码"),
    "platform_id": ("platform_id", "平台机构编号", "机构编号"),
    "registered_on": ("registered_on", "注册日期", "平台注册日期"),
    "qualification_on": ("qualification_on", "资质审核通过日期"),
    "personnel_on": ("personnel_on", "人员审核通过日期"),
    "courses_on": ("courses_on", "课程审核通过日期"),
    "account_on": ("account_on", "账户审核通过日期"),
    "bank_verified_on": ("bank_verified_on", "银行核验通过日期"),
    "payment_enabled_on": ("payment_enabled_on", "支付开通日期"),
    "first_purchase_on": ("first_purchase_on", "首次购课日期"),
    "first_consumption_on": ("first_consumption_on", "首次销课日期"),
    "refund_flow_on": ("refund_flow_on", "退费流程开通日期"),
    "orders": ("orders", "订单数"),
    "order_amount": ("order_amount", "订单金额（元）", "订单金额"),
    "lessons_consumed": ("lessons_consumed", "销课节数"),
    "refunds": ("refunds", "退费笔数"),
    "refund_amount": ("refund_amount", "退费金额（元）", "退费金额"),
}
COUNTS = ("orders", "lessons_consumed", "refunds")
AMOUNTS = {"order_amount": "order_amount_fen", "refund_amount": "refund_amount_fen"}
TRADE_COLUMNS = tuple(platform_trade.c[k] for k in TRADE)


class _Refused(Exception):
    """Raised inside the import's transaction so that a refused file writes nothing."""


@dataclass(frozen=True)
class Target:
    """An institution a row of an export names."""

    id: str
    division_code: str


def office_today() -> date:
    """The office's date (UTC) against which future dates are refused."""
    return date.fromisoformat(now_iso()[:10])


def institution_index(conn: Connection) -> tuple[dict[str, Target], dict[str, Target]]:
    """Every institution of the office by credit code and by platform id."""
    by_uscc: dict[str, Target] = {}
    by_id: dict[str, Target] = {}
    for row in conn.execute(
        select(institutions.c.id, institutions.c.uscc, institutions.c.division_code)
    ):
        target = Target(row.id, row.division_code)
        by_uscc[row.uscc] = by_id[row.id] = target
    return by_uscc, by_id


def find_target(
    row: Mapping[str, str], by_uscc: Mapping[str, Target], by_id: Mapping[str, Target]
) -> Target:
    """The institution a row names by credit code or platform id (ValueError in words)."""
    uscc, platform_id = row.get("uscc", ""), row.get("platform_id", "").upper()
    if not uscc and not platform_id:
        raise ValueError(
            "缺少统一社会信用代码或平台机构编号 / the credit code or platform id is missing"
        )
    target = None
    if uscc:
        try:
            code = domain.validate_uscc(uscc)
        except domain.ValidationError as exc:
            raise ValueError(f"{exc.zh} / {exc.en}") from None
        target = by_uscc.get(code)
        if target is None:
            raise ValueError(
                f"办公室没有信用代码为{code}的机构，请先导入机构名单 / no institution with credit "
                f"code {code}: import it with import-institutions first"
            )
    if platform_id:
        by_platform = by_id.get(platform_id)
        if by_platform is None:
            raise ValueError(
                f"办公室没有平台机构编号为{platform_id}的机构 / no institution with platform id "
                f"{platform_id}"
            )
        if target is not None and target != by_platform:
            raise ValueError(
                f"信用代码与平台机构编号{platform_id}不是同一家机构 / the credit code and platform "
                f"id {platform_id} name different institutions"
            )
        target = by_platform
    assert target is not None
    return target


def checked_date(text: str, field: str, today: date) -> date:
    """A date of the platform: not in the future, not before 2021 (ValueError in words)."""
    day = parse_date(text, field)
    if day > today:
        raise ValueError(
            f"“{field}”的日期{day}晚于今天（{today}），请核对 / '{field}' date {day} is in the "
            f"future (today is {today}): check it"
        )
    if day < EARLIEST:
        raise ValueError(
            f"“{field}”的日期{day}早于2021年（平台资金监管始于2021年），请核对 / '{field}' date "
            f"{day} is before 2021, when the platform's fund supervision began: check it"
        )
    return day


def check_platform_row(
    row: Mapping[str, str], known: Sequence[str], today: date
) -> tuple[dict[str, str | None], dict[str, int]]:
    """One export row's step readings (step → ISO date or None) and trade (ValueError in words)."""
    readings: dict[str, str | None] = {}
    for key in known:
        text = row.get(f"{key}_on", "")
        readings[key] = checked_date(text, f"{key}_on", today).isoformat() if text else None
    trade: dict[str, int] = {}
    for key in COUNTS:
        text = row.get(key, "")
        trade[key] = parse_count(text, key) if text else 0
    for key, column in AMOUNTS.items():
        text = row.get(key, "")
        trade[column] = parse_yuan(text, key) if text else 0
    if trade["refunds"] > trade["orders"] and "orders" in row:
        raise ValueError(
            f"退费笔数（{trade['refunds']}）多于订单数（{trade['orders']}） / more refunds "
            f"({trade['refunds']}) than orders ({trade['orders']})"
        )
    return readings, trade


def import_platform(store: Store, path: Path) -> ImportReport:
    """Import the platform's export: every row or none; a re-import changes nothing it has.

    What the office holds is read once, up front (one query per table), and each row compared
    with it in memory, so an unchanged row costs no statement and a changed one a row of a
    batched write (executemany), all in the one transaction that a refused row rolls back.
    """
    report = ImportReport(("平台数据", "platform readings"))
    try:
        sheet = open_sheet(path)
    except SheetError as exc:
        report.fatal = str(exc)
        return report
    report.encoding = sheet.format
    where = columns(sheet.header, PLATFORM_HEADERS)
    if "uscc" not in where and "platform_id" not in where:
        report.fatal = (
            "缺少“统一社会信用代码”（uscc）或“平台机构编号”（platform_id）列 / the file needs a "
            "uscc or platform_id column"
        )
        return report
    known = [k for k in PLATFORM_STEPS if f"{k}_on" in where]
    if not known and not any(k in where for k in (*COUNTS, *AMOUNTS)):
        report.fatal = (
            "表头中没有任何平台数据列（如“注册日期”“订单数”），请检查是否选错了文件 / the header "
            "has no platform column (registered_on, orders…): is this the right file?"
        )
        return report
    today = office_today()
    has_trade = "orders" in where
    try:
        with store.writing() as conn:
            by_uscc, by_id = institution_index(conn)
            held = held_readings(conn)
            seen: dict[str, int] = {}
            batch: list[Change] = []
            for line, value in _rows(sheet.rows, where, report):
                try:
                    target = find_target(value, by_uscc, by_id)
                    readings, trade = check_platform_row(value, known, today)
                except ValueError as exc:
                    report.rejected.append((line, str(exc)))
                    continue
                if target.id in seen:
                    report.rejected.append(
                        (
                            line,
                            f"与第{seen[target.id]}行是同一家机构 / the same institution as "
                            f"line {seen[target.id]}",
                        )
                    )
                    continue
                seen[target.id] = line
                if report.rejected:
                    continue  # the file is refused: go on only to list every refused row
                change = _compare(held.get(target.id), target, readings, trade, has_trade)
                if change is not None:
                    report.added += change.added
                    report.updated += not change.added
                    batch.append(change)
                if len(batch) >= WRITE_BATCH:
                    _write(store, conn, batch)
                    batch = []
            if report.rejected or not seen:
                if not seen and not report.rejected:
                    report.fatal = "文件里没有数据行 / the file has no data rows"
                raise _Refused
            _write(store, conn, batch)
            store.save_clock(conn)
    except _Refused:
        report.added = report.updated = 0
    except SheetError as exc:  # a problem found only while streaming the rows
        report.fatal, report.added, report.updated = str(exc), 0, 0
    return report


def _rows(
    rows: Iterator[Any], where: Mapping[str, int], report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, field → cell) of each data row; rows the reader refused go to the report."""
    for row in rows:
        if row.problem:
            report.rejected.append((row.line, row.problem))
            continue
        yield row.line, {key: row.cells[i] for key, i in where.items() if i < len(row.cells)}


@dataclass(frozen=True)
class Held:
    """The office's reading of one institution: {step: ISO date or None}, and its trade (or None
    when the platform never listed it)."""

    steps: dict[str, str | None]
    trade: dict[str, int] | None


@dataclass(frozen=True)
class Change:
    """A row of the export that changes what the office holds."""

    target: Target
    old: Held | None
    steps: dict[str, str | None]
    trade: dict[str, int]

    @property
    def added(self) -> bool:
        """Whether the platform lists this institution for the first time."""
        return self.old is None or self.old.trade is None


def held_readings(conn: Connection) -> dict[str, Held]:
    """Every platform reading the office holds, by institution id (one query per table)."""
    steps: dict[str, dict[str, str | None]] = {}
    for inst_id, step, done_on in conn.execute(
        select(platform_steps.c.institution_id, platform_steps.c.step, platform_steps.c.done_on)
    ):
        steps.setdefault(inst_id, {})[step] = done_on
    trade: dict[str, dict[str, int]] = {}
    for row in conn.execute(select(platform_trade.c.institution_id, *TRADE_COLUMNS)):
        trade[row[0]] = dict(zip(TRADE, map(int, row[1:]), strict=True))
    return {i: Held(steps.get(i, {}), trade.get(i)) for i in steps.keys() | trade.keys()}


def _compare(
    old: Held | None,
    target: Target,
    readings: dict[str, str | None],
    trade: dict[str, int],
    has_trade: bool,
) -> Change | None:
    """The change a row makes to the office's reading, or None when it holds it already."""
    if old is None or old.trade is None:  # never listed: added (with any stray step rows kept)
        return Change(
            target, old, (old.steps if old else {}) | readings, trade if has_trade else _no_trade()
        )
    merged_steps = old.steps | readings
    merged_trade = trade if has_trade else old.trade
    if merged_steps == old.steps and merged_trade == old.trade:
        return None
    return Change(target, old, merged_steps, merged_trade)


def _write(store: Store, conn: Connection, batch: Sequence[Change]) -> None:
    """Store a batch of changed readings (executemany per statement) and log each as changed."""
    if not batch:
        return
    stamp = now_iso()
    new_steps: list[dict[str, Any]] = []
    moved_steps: list[dict[str, Any]] = []
    new_trade: list[dict[str, Any]] = []
    moved_trade: list[dict[str, Any]] = []
    for c in batch:
        held = c.old.steps if c.old else {}
        for key, done_on in c.steps.items():
            if key not in held:
                new_steps.append({"institution_id": c.target.id, "step": key, "done_on": done_on})
            elif held[key] != done_on:
                moved_steps.append({"b_id": c.target.id, "b_step": key, "b_on": done_on})
        (new_trade if c.added else moved_trade).append(
            {"institution_id": c.target.id, **c.trade, "imported_at": stamp}
        )
    executemany(conn, insert(platform_steps), new_steps)
    if moved_steps:
        executemany(
            conn,
            update(platform_steps)
            .where(
                platform_steps.c.institution_id == bindparam("b_id"),
                platform_steps.c.step == bindparam("b_step"),
            )
            .values(done_on=bindparam("b_on")),
            moved_steps,
        )
    executemany(conn, insert(platform_trade), new_trade)  # listed for the first time
    if moved_trade:
        executemany(
            conn,
            update(platform_trade)
            .where(platform_trade.c.institution_id == bindparam("b_id"))
            .values({k: bindparam(f"b_{k}") for k in (*TRADE, "imported_at")}),
            [
                {f"b_{k}": v for k, v in t.items()} | {"b_id": t["institution_id"]}
                for t in moved_trade
            ],
        )
    moved = [
        {
            "id": c.target.id,
            "orders": c.trade["orders"],
            "order_amount_fen": c.trade["order_amount_fen"],
        }
        for c in batch
        if c.old is None
        or c.old.trade is None
        or any(c.old.trade[k] != c.trade[k] for k in ("orders", "order_amount_fen"))
    ]
    if moved:  # the institution's own orders and amount travel with it (DESIGN.md wire shape)
        office.update_institutions(conn, moved, store.clock(conn).now())
    emit(
        conn,
        [
            {
                "kind": "platform",
                "entity_id": c.target.id,
                "institution_id": c.target.id,
                "division_code": c.target.division_code,
                "data": dumps(
                    platform_wire(
                        c.target.id, {"steps": c.steps, "trade": c.trade, "imported_at": stamp}
                    )
                ),
            }
            for c in batch
        ],
    )
