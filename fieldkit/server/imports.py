"""CSV imports of the office: its list of institutions and the bank's verification answers."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from fieldkit import domain

from . import office
from .store import Store, institutions

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
def decode_lines(raw: bytes) -> tuple[str, list[str], dict[int, str]]:
    """Decode a CSV file as UTF-8 (BOM or not) or GB18030; (encoding, lines, bad line → reason)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    physical = raw.splitlines(keepends=True)
    try:
        text = raw.decode("utf-8")
        return "UTF-8", text.splitlines(keepends=True), {}
    except UnicodeDecodeError:
        pass
    utf8_lines = sum(1 for line in physical if not line.isascii() and _decodes(line, "utf-8"))
    encoding = "UTF-8" if utf8_lines else "GB18030"
    lines, bad = [], {}
    for n, line in enumerate(physical, start=1):
        try:
            lines.append(line.decode(encoding.lower()))
        except UnicodeDecodeError:
            lines.append(line.decode(encoding.lower(), errors="replace"))
            bad[n] = (
                f"这一行不是{encoding}编码（文件其余部分是{encoding}），请整个文件用同一种编码另存 / "
                f"this line is not {encoding} like the rest of the file; save the whole "
                "file in one encoding (UTF-8 or GB18030)"
            )
    return encoding, lines, bad


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_rows(
    path: Path, headers: dict[str, tuple[str, ...]], required: tuple[str, ...], report: ImportReport
) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a CSV file with their line numbers; bad lines go into the report."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.fatal = (
            f"无法读取文件“{path}”：{exc.strerror} / cannot read '{path}': {exc.strerror}"
        )
        return []
    report.encoding, lines, bad = decode_lines(raw)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        report.fatal = "文件是空的 / the file is empty"
        return []
    columns = _columns(header, headers)
    missing = [k for k in required if k not in columns]
    if missing:
        report.fatal = (
            f"缺少必需的列：{', '.join(missing)}（表头应含 {', '.join(required)}） / "
            f"missing columns: {', '.join(missing)}"
        )
        return []
    rows = []
    start = reader.line_num
    for record in reader:
        line = start + 1
        start = reader.line_num
        if line in bad:
            report.rejected.append((line, bad[line]))
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
        rows.append((line, row))
    return rows


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


def _check(
    rows: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    check: Callable[[dict[str, str]], dict[str, Any]],
) -> list[tuple[int, dict[str, Any]]]:
    """Validate each row, reporting errors and duplicate credit codes by line number."""
    good: list[tuple[int, dict[str, Any]]] = []
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
        good.append((line, value))
    return good


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
    """Import or update (by credit code) the institutions of a CSV file; all rows or none."""
    report = ImportReport(("机构", "institutions"))
    rows = _check(
        read_rows(path, INSTITUTION_HEADERS, INSTITUTION_REQUIRED, report),
        report,
        check_institution,
    )
    if not report.ok:
        return report
    key = store.private_key
    with store.writing() as conn:
        existing = _by_uscc(conn, [v["uscc"] for _, v in rows])
        new = [v for _, v in rows if v["uscc"] not in existing]
        changed = [_changes(existing[v["uscc"]], v, key) for _, v in rows if v["uscc"] in existing]
        changed = [c for c in changed if len(c) > 1]
        for value, new_id in zip(
            new, office.next_ids(conn, [v["division_code"] for v in new]), strict=True
        ):
            value["id"] = new_id
            value["pinyin"], value["initials"] = office.search_keys(value["name"])
            value["name_latin"] = office.latin_name(value["name"])
        office.add_institutions(conn, new, [])
        office.update_institutions(conn, changed, store.clock(conn).now())
        store.save_clock(conn)
    report.added, report.updated = len(new), len(changed)
    return report


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
        out["pinyin"], out["initials"] = office.search_keys(out["name"])
        out["name_latin"] = office.latin_name(out["name"])
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
    """Record the bank's answers by credit code; a pass issues the signed payment code."""
    report = ImportReport(("银行核验结果", "bank results"))
    rows = _check(read_rows(path, BANK_HEADERS, BANK_REQUIRED, report), report, check_bank_row)
    if not report.ok:
        return report
    key = store.private_key
    with store.writing() as conn:
        known = _by_uscc(conn, [v["uscc"] for _, v in rows])
        for line, value in rows:
            row = known.get(value["uscc"])
            if row is None:
                report.rejected.append(
                    (
                        line,
                        f"办公室没有信用代码为{value['uscc']}的机构，请先导入机构 / "
                        "no institution with this credit code: import it "
                        "first",
                    )
                )
            elif value["passed"] and not (value["account_no"] or row.account_no):
                report.rejected.append(
                    (line, "通过时必须填写监管账号 / a pass needs the supervised account number")
                )
        if not report.ok:
            return report
        stamp = store.clock(conn).now()
        updates = [_bank_update(known[v["uscc"]], v, key) for _, v in rows]
        office.update_institutions(conn, updates, stamp)
        for (_, value), update in zip(rows, updates, strict=True):
            office.set_bank_step(
                conn,
                update["id"],
                known[value["uscc"]].division_code,
                value["passed"],
                value["reason"],
                stamp,
            )
        store.save_clock(conn)
    report.updated = len(rows)
    return report


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
