"""CSV imports of the office: its list of institutions and the bank's verification answers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from fieldkit import domain

from . import office
from .import_files import (
    FileChanged,
    ImportReport,
    _batches,
    _changed_meanwhile,
    _checked,
    _required,
    read_rows,
)
from .store import Store, institutions

# The report and reader, kept importable from here.
__all__ = ["ImportReport", "import_bank_results", "import_institutions", "read_rows"]

_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_ACCOUNT = re.compile(r"^\d{8,32}$")
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
