"""CSV imports of the office: its list of institutions and the bank's verification answers."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from fieldkit import domain

from . import office, sheets
from .store import Store, institutions

T = TypeVar("T")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_ACCOUNT = re.compile(r"^\d{8,32}$")
_BREAKS = re.compile(r"[\t\r\n]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CELL_LIMITS = {"name": 100, "address": 200, "contact_name": 64, "licence_no": 64, "reason": 500}
DEFAULT_CELL_LIMIT = 100
# What the signed payment code carries of an institution's master data.
PAYMENT_FIELDS = {"name", "division_code"}

INSTITUTION_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "机构名称", "名称"),
    "uscc": ("uscc", "统一社会信用代码", "信用代码"),
    "licence_no": ("licence_no", "license_no", "办学许可证号", "许可证号", "办学许可证编号"),
    "division_code": ("division_code", "行政区划代码", "区划代码"),
    "address": ("address", "地址", "办学地址"),
    "contact_name": ("contact_name", "联系人"),
    "contact_phone": ("contact_phone", "联系电话", "手机号"),
    "kind": ("kind", "类别", "培训类别"),
}
INSTITUTION_REQUIRED = ("name", "uscc", "licence_no", "division_code", "kind")
KINDS = {
    "academic": domain.ACADEMIC,
    "学科类": domain.ACADEMIC,
    "non_academic": domain.NON_ACADEMIC,
    "non-academic": domain.NON_ACADEMIC,
    "非学科类": domain.NON_ACADEMIC,
}

BANK_HEADERS: dict[str, tuple[str, ...]] = {
    "uscc": ("uscc", "统一社会信用代码", "信用代码"),
    "result": ("result", "核验结果", "结果"),
    "reason": ("reason", "原因", "未通过原因"),
    "account_no": ("account_no", "监管账号", "账号"),
}
BANK_REQUIRED = ("uscc", "result")
RESULTS = {
    "passed": True,
    "pass": True,
    "通过": True,
    "failed": False,
    "fail": False,
    "未通过": False,
    "不通过": False,
}


@dataclass
class ImportReport:
    """What an import did, or why it did nothing: every rejected line with its reason."""

    what: tuple[str, str]
    added: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    fatal: str | None = None
    encoding: str = ""

    @property
    def ok(self) -> bool:
        """Whether the file was imported (all rows valid)."""
        return self.fatal is None and not self.rejected

    def lines(self) -> list[str]:
        """The report as printed by the command."""
        if self.fatal:
            return [self.fatal, "未导入任何数据 / nothing was imported"]
        if self.rejected:
            out = [f"第{n}行 / line {n}: {reason}" for n, reason in self.rejected]
            out.append(
                f"有 {len(self.rejected)} 行被拒绝，未导入任何数据；请改正这些行后重新导入整个文件 / "
                f"{len(self.rejected)} rows rejected, nothing was imported; fix them and "
                "import the whole file again"
            )
            return out
        return [
            f"已导入{self.what[0]}：新增 {self.added}，更新 {self.updated}（编码 {self.encoding}） / "
            f"imported {self.what[1]}: {self.added} added, {self.updated} updated "
            f"(encoding {self.encoding})"
        ]


# --- reading ------------------------------------------------------------------------------------
CHUNK_BYTES = 1 << 20  # how much of a file is read at once
BATCH_ROWS = 1000  # rows written per statement while importing


def physical_lines(path: Path) -> Iterator[bytes]:
    """The lines of a file as bytes with their endings (\\n, \\r\\n or \\r), read piece by piece."""
    with path.open("rb") as f:
        rest = f.read(CHUNK_BYTES)
        if rest.startswith(b"\xef\xbb\xbf"):
            rest = rest[3:]
        while rest:
            more = f.read(CHUNK_BYTES)
            lines = rest.splitlines(keepends=True)
            # The last line may go on in the next piece (even a \r whose \n comes next).
            rest = lines.pop() if more else b""
            yield from lines
            rest += more


def detect_encoding(path: Path) -> str:
    """UTF-8 (BOM or not) when any line is UTF-8 beyond ASCII or every line is; else GB18030."""
    every_line = True
    for line in physical_lines(path):
        if line.isascii():
            continue
        if _decodes(line, "utf-8"):
            return "UTF-8"
        every_line = False
    return "UTF-8" if every_line else "GB18030"


def decoded_lines(path: Path, encoding: str, bad: set[int]) -> Iterator[str]:
    """The lines of a file as text; the numbers of lines not in `encoding` are added to `bad`."""
    codec = encoding.lower()
    for n, line in enumerate(physical_lines(path), start=1):
        try:
            yield line.decode(codec)
        except UnicodeDecodeError:
            bad.add(n)
            yield line.decode(codec, errors="replace")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_rows(
    path: Path, headers: dict[str, tuple[str, ...]], required: tuple[str, ...], report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows of a CSV or .xlsx file with their line numbers, one at a time; bad lines go
    into the report (and a file that cannot be read at all sets `report.fatal`)."""
    if sheets.is_workbook(path):
        yield from _sheet_rows(path, headers, required, report)
        return
    try:
        report.encoding = detect_encoding(path)
        yield from _csv_rows(path, headers, required, report)
    except OSError as exc:
        report.fatal = (
            f"无法读取文件“{path}”：{exc.strerror} / cannot read '{path}': {exc.strerror}"
        )


def _sheet_rows(
    path: Path, headers: dict[str, tuple[str, ...]], required: tuple[str, ...], report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows of a workbook (Excel or WPS .xlsx), checked like a CSV file's."""
    try:
        sheet = sheets.open_sheet(path)
        report.encoding = sheet.format
        columns = _columns(sheet.header, headers)
        missing = [k for k in required if k not in columns]
        if missing:
            report.fatal = (
                f"缺少必需的列：{', '.join(missing)}（表头应含 {', '.join(required)}） / "
                f"missing columns: {', '.join(missing)}"
            )
            return
        for found in sheet.rows:
            if found.problem:
                report.rejected.append((found.line, found.problem))
                continue
            row = {key: _one_line(found.cells[i]) for key, i in columns.items()}
            problem = next((p for p in (_cell_problem(k, v) for k, v in row.items()) if p), None)
            if problem:
                report.rejected.append((found.line, problem))
                continue
            yield found.line, row
    except sheets.SheetError as exc:
        report.fatal = f"{exc.zh} / {exc.en}"


def _csv_rows(
    path: Path, headers: dict[str, tuple[str, ...]], required: tuple[str, ...], report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    encoding = report.encoding
    bad: set[int] = set()
    reader = csv.reader(decoded_lines(path, encoding, bad))
    try:
        header = next(reader)
    except StopIteration:
        report.fatal = "文件是空的 / the file is empty"
        return
    except csv.Error as exc:
        report.fatal = f"表头无法读取：{exc} / the header cannot be read: {exc}"
        return
    columns = _columns(header, headers)
    missing = [k for k in required if k not in columns]
    if missing:
        report.fatal = (
            f"缺少必需的列：{', '.join(missing)}（表头应含 {', '.join(required)}） / "
            f"missing columns: {', '.join(missing)}"
        )
        return
    start = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.fatal = (
                f"第{reader.line_num}行之后无法按CSV读取：{exc} / the file cannot be read as "
                f"CSV after line {reader.line_num}: {exc}"
            )
            return
        line, start = start + 1, reader.line_num
        if any(n in bad for n in range(line, start + 1)):
            report.rejected.append(
                (
                    line,
                    f"这一行不是{encoding}编码（文件其余部分是{encoding}），请整个文件用同一种编码"
                    f"另存 / this line is not {encoding} like the rest of the file; save the "
                    "whole file in one encoding (UTF-8 or GB18030)",
                )
            )
            continue
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            report.rejected.append(
                (
                    line,
                    f"应有{len(header)}列，这一行有{len(record)}列 / "
                    f"expected {len(header)} columns, found {len(record)}",
                )
            )
            continue
        row = {key: _one_line(record[i]) for key, i in columns.items()}
        problem = next((p for p in (_cell_problem(k, v) for k, v in row.items()) if p), None)
        if problem:
            report.rejected.append((line, problem))
            continue
        yield line, row


def _one_line(cell: str) -> str:
    """A cell as one line: line breaks and tabs typed inside it (Alt+Enter in Excel) become spaces."""
    return _BREAKS.sub(" ", cell).strip()


def _cell_problem(key: str, text: str) -> str | None:
    """Why a cell cannot be stored (control characters, too long), or None."""
    if _CONTROL.search(text):
        return (
            f"“{key}”含有不可见的控制字符，请在表格中删除后重新导入 / '{key}' contains invisible "
            "control characters: delete them in the spreadsheet and import again"
        )
    limit = CELL_LIMITS.get(key, DEFAULT_CELL_LIMIT)
    if len(text) > limit:
        return (
            f"“{key}”超过{limit}字（{len(text)}字） / '{key}' is over {limit} characters "
            f"({len(text)})"
        )
    return None


def _columns(header: list[str], names: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Which column holds each field, by its English or Chinese header."""
    found: dict[str, int] = {}
    for i, title in enumerate(header):
        clean = title.strip().lstrip("\ufeff").lower()
        for key, aliases in names.items():
            if clean in aliases and key not in found:
                found[key] = i
    return found


def _checked(
    rows: Iterable[tuple[int, dict[str, str]]],
    report: ImportReport,
    check: Callable[[dict[str, str]], dict[str, Any]],
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Validate each row as it comes, reporting errors and repeated credit codes by line number."""
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            value = check(row)
        except domain.DomainError as exc:
            report.rejected.append((line, f"{exc.zh} / {exc.en}"))
            continue
        if value["uscc"] in seen:
            report.rejected.append(
                (
                    line,
                    f"统一社会信用代码与第{seen[value['uscc']]}行重复 / "
                    f"same credit code as line {seen[value['uscc']]}",
                )
            )
            continue
        seen[value["uscc"]] = line
        yield line, value


def _batches(items: Iterable[T], size: int = BATCH_ROWS) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class FileChanged(Exception):
    """The file read differently the second time (someone saved it meanwhile): nothing imported."""


def _changed_meanwhile(report: ImportReport) -> None:
    report.fatal = (
        "文件在导入过程中被修改（两次读取结果不同），请保存好文件后重新导入 / the file changed "
        "while it was being imported (it read differently the second time): save it and "
        "import again"
    )


def _required(row: dict[str, str], keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if not row.get(k)]
    if missing:
        raise domain.ValidationError(
            "required",
            f"缺少必填项：{', '.join(missing)}",
            f"required fields are empty: {', '.join(missing)}",
            missing[0],
        )


# --- institutions ------------------------------------------------------------------------------
def check_institution(row: dict[str, str]) -> dict[str, Any]:
    """One institution row, validated and normalised (raises ValidationError)."""
    _required(row, INSTITUTION_REQUIRED)
    value = {k: row.get(k, "") for k in INSTITUTION_HEADERS}
    value["uscc"] = domain.validate_uscc(row["uscc"])
    value["division_code"] = domain.validate_division(row["division_code"])
    if domain.DIVISIONS[value["division_code"]].level == "province":
        raise domain.ValidationError(
            "division_level",
            "请填写机构所在的市或县（区）代码，而不是省代码",
            "use the institution's city or county code, not the province's",
            "division_code",
        )
    kind = KINDS.get(row["kind"].lower())
    if kind is None:
        raise domain.ValidationError(
            "kind",
            f"类别“{row['kind']}”无效，应为 学科类/非学科类 (academic/non_academic)",
            f"kind '{row['kind']}' must be academic or non_academic",
            "kind",
        )
    value["kind"] = kind
    phone = row.get("contact_phone", "")
    if phone:
        compact = re.sub(r"[\s]", "", phone)
        value["contact_phone"] = (
            compact if _LANDLINE.match(compact) else domain.validate_mobile(phone)
        )
    return value


def import_institutions(store: Store, path: Path) -> ImportReport:
    """Import or update (by credit code) the institutions of a CSV file; all rows or none.

    The file is read a row at a time, twice: first to check every row (a refused row stops
    the import before anything is written), then to write the rows in batches inside one
    transaction. Memory does not grow with the file.
    """
    report = ImportReport(("机构", "institutions"))
    _drain(
        _checked(
            read_rows(path, INSTITUTION_HEADERS, INSTITUTION_REQUIRED, report),
            report,
            check_institution,
        )
    )
    if not report.ok:
        return report
    key = store.private_key
    again = ImportReport(report.what)
    try:
        with store.writing() as conn:
            stamp = store.clock(conn).now()
            serials: dict[str, int] = {}
            rows = _checked(
                read_rows(path, INSTITUTION_HEADERS, INSTITUTION_REQUIRED, again),
                again,
                check_institution,
            )
            for batch in _batches(rows):
                added, updated = _write_institutions(conn, batch, serials, key, stamp)
                again.added, again.updated = again.added + added, again.updated + updated
            if not again.ok:
                raise FileChanged
            store.save_clock(conn)
    except FileChanged:
        _changed_meanwhile(report)
        return report
    report.added, report.updated = again.added, again.updated
    return report


def _drain(rows: Iterable[object]) -> None:
    """Read an iterator to its end (the checking pass keeps only what the report holds)."""
    for _ in rows:
        pass


def _write_institutions(
    conn: Connection,
    batch: list[tuple[int, dict[str, Any]]],
    serials: dict[str, int],
    private_key: str,
    stamp: str,
) -> tuple[int, int]:
    """Add the new institutions of a batch and update the known ones; (added, updated)."""
    existing = _by_uscc(conn, [v["uscc"] for _, v in batch])
    new = [v for _, v in batch if v["uscc"] not in existing]
    changed = [
        c
        for c in (
            _changes(existing[v["uscc"]], v, private_key) for _, v in batch if v["uscc"] in existing
        )
        if len(c) > 1
    ]
    codes = [v["division_code"] for v in new]
    for value, new_id in zip(new, office.next_ids(conn, codes, serials), strict=True):
        value["id"] = new_id
        value["pinyin"], value["initials"], value["name_latin"] = office.name_keys(value["name"])
    office.add_institutions(conn, new, [])
    office.update_institutions(conn, changed, stamp)
    return len(new), len(changed)


def _by_uscc(conn: Connection, codes: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for i in range(0, len(codes), 500):
        found |= {
            r.uscc: r
            for r in conn.execute(
                select(institutions).where(institutions.c.uscc.in_(codes[i : i + 500]))
            )
        }
    return found


def _changes(row: Any, value: dict[str, Any], private_key: str) -> dict[str, Any]:
    """The columns a re-imported row changes, with the id and, if it names them, a new payment code."""
    out: dict[str, Any] = {"id": row.id}
    for key in INSTITUTION_HEADERS:
        if key in ("contact_name", "contact_phone") and not value[key]:
            continue
        if getattr(row, key) != value[key]:
            out[key] = value[key]
    if "name" in out:
        out["pinyin"], out["initials"], out["name_latin"] = office.name_keys(out["name"])
    if row.payment_payload and PAYMENT_FIELDS & out.keys():
        payload, signature = office.payment_for(dict(row._mapping) | out, private_key)
        out["payment_payload"], out["payment_signature"] = payload, signature
    return out


# --- bank results ------------------------------------------------------------------------------
def check_bank_row(row: dict[str, str]) -> dict[str, Any]:
    """One bank answer, validated (raises ValidationError)."""
    _required(row, BANK_REQUIRED)
    passed = RESULTS.get(row["result"].lower())
    if passed is None:
        raise domain.ValidationError(
            "result",
            f"核验结果“{row['result']}”无效，应为 通过/未通过",
            f"result '{row['result']}' must be passed or failed",
            "result",
        )
    account = row.get("account_no", "").replace(" ", "")
    if account and not _ACCOUNT.match(account):
        raise domain.ValidationError(
            "account_no",
            f"监管账号“{account}”应为8到32位数字",
            f"account number '{account}' must be 8 to 32 digits",
            "account_no",
        )
    if not passed and not row.get("reason"):
        raise domain.ValidationError(
            "reason",
            "未通过时必须填写原因",
            "a failed verification needs the bank's reason",
            "reason",
        )
    return {
        "uscc": domain.validate_uscc(row["uscc"]),
        "passed": passed,
        "reason": row.get("reason") or None,
        "account_no": account or None,
    }


def import_bank_results(store: Store, path: Path) -> ImportReport:
    """Record the bank's answers by credit code; a pass issues the signed payment code.

    Read twice a row at a time, as the institution import: every row checked first (against
    the store too), then all written in one transaction.
    """
    report = ImportReport(("银行核验结果", "bank results"))
    rows = _checked(read_rows(path, BANK_HEADERS, BANK_REQUIRED, report), report, check_bank_row)
    with store.engine.connect() as conn:
        for batch in _batches(rows):
            _bank_problems(batch, _by_uscc(conn, [v["uscc"] for _, v in batch]), report)
    if not report.ok:
        return report
    key = store.private_key
    again = ImportReport(report.what)
    try:
        with store.writing() as conn:
            stamp = store.clock(conn).now()
            rows = _checked(
                read_rows(path, BANK_HEADERS, BANK_REQUIRED, again), again, check_bank_row
            )
            for batch in _batches(rows):
                known = _by_uscc(conn, [v["uscc"] for _, v in batch])
                _bank_problems(batch, known, again)
                if not again.ok:
                    raise FileChanged
                updates = [_bank_update(known[v["uscc"]], v, key) for _, v in batch]
                office.update_institutions(conn, updates, stamp)
                office.set_bank_steps(
                    conn,
                    [
                        (u["id"], known[v["uscc"]].division_code, v["passed"], v["reason"])
                        for (_, v), u in zip(batch, updates, strict=True)
                    ],
                    stamp,
                )
                again.updated += len(batch)
            if not again.ok:
                raise FileChanged
            store.save_clock(conn)
    except FileChanged:
        _changed_meanwhile(report)
        return report
    report.updated = again.updated
    return report


def _bank_problems(
    batch: list[tuple[int, dict[str, Any]]], known: dict[str, Any], report: ImportReport
) -> None:
    """Report the answers of a batch the store cannot take: unknown institution, no account."""
    for line, value in batch:
        row = known.get(value["uscc"])
        if row is None:
            report.rejected.append(
                (
                    line,
                    f"办公室没有信用代码为{value['uscc']}的机构，请先导入机构 / "
                    "no institution with this credit code: import it first",
                )
            )
        elif value["passed"] and not (value["account_no"] or row.account_no):
            report.rejected.append(
                (line, "通过时必须填写监管账号 / a pass needs the supervised account number")
            )


def _bank_update(row: Any, value: dict[str, Any], private_key: str) -> dict[str, Any]:
    """The institution columns one bank answer sets."""
    if not value["passed"]:
        return {
            "id": row.id,
            "bank_status": "failed",
            "bank_reason": value["reason"],
            "payment_payload": None,
            "payment_signature": None,
        }
    columns = dict(row._mapping) | {"account_no": value["account_no"] or row.account_no}
    payload, signature = office.payment_for(columns, private_key)
    return {
        "id": row.id,
        "bank_status": "passed",
        "bank_reason": None,
        "account_no": columns["account_no"],
        "payment_payload": payload,
        "payment_signature": signature,
    }
