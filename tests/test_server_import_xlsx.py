"""import-institutions and import-bank-results take the .xlsx an office saves from Excel or WPS."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook

from fieldkit.cli.exits import ExitCode
from tests.live_server import admin
from tests.test_server_import import SAMPLES, rows


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "office.sqlite"
    assert admin(path, "init")[0] == 0
    return path


def as_xlsx(csv_path: Path, target: Path, numbers: tuple[str, ...] = ()) -> Path:
    """The CSV's rows as a workbook, the columns named in `numbers` as Excel numbers (as typed)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        sheet.append(header)
        for record in reader:
            sheet.append(
                [
                    int(v) if h in numbers and v.isdigit() else v
                    for h, v in zip(header, record, strict=True)
                ]
            )
    book.save(target)
    return target


def test_the_same_list_as_xlsx_imports_as_its_csv_does(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    assert admin(other, "init")[0] == 0
    assert admin(other, "import-institutions", str(SAMPLES / "institutions.csv"))[0] == 0
    book = as_xlsx(SAMPLES / "institutions.csv", tmp_path / "机构.xlsx", ("contact_phone",))
    code, out = admin(db, "import-institutions", str(book))
    assert code == 0, out
    query = "SELECT id, name, uscc, contact_phone, kind, pinyin FROM institutions ORDER BY id"
    assert rows(db, query) == rows(other, query) and len(rows(db, query)) >= 10


def test_bank_results_as_xlsx_issue_the_payment_codes(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    for store in (db, other):
        assert admin(store, "init")[0] == 0
        assert admin(store, "import-institutions", str(SAMPLES / "institutions.csv"))[0] == 0
    assert admin(other, "import-bank-results", str(SAMPLES / "bank_results.csv"))[0] == 0
    book = as_xlsx(SAMPLES / "bank_results.csv", tmp_path / "bank.xlsx")
    code, out = admin(db, "import-bank-results", str(book))
    assert code == 0, out
    query = "SELECT id, bank_status, bank_reason FROM institutions ORDER BY id"
    assert rows(db, query) == rows(other, query)
    passed = rows(db, "SELECT count(*) FROM institutions WHERE bank_status = 'passed'")[0][0]
    signed = "SELECT count(*) FROM institutions WHERE payment_payload IS NOT NULL"
    assert passed >= 5 and rows(db, signed) == [(passed,)]


def test_a_bad_row_in_a_workbook_is_named_by_its_excel_row_and_nothing_lands(
    db: Path, tmp_path: Path
) -> None:
    book = as_xlsx(SAMPLES / "institutions.csv", tmp_path / "in.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(book)
    ws = wb.active
    assert ws is not None
    ws.cell(row=4, column=2, value="52430702MJJLCCBX1X")  # wrong check character
    wb.save(book)
    code, out = admin(db, "import-institutions", str(book))
    assert code == ExitCode.BAD_INPUT
    assert "4" in out and "统一社会信用代码" in out
    assert rows(db, "SELECT count(*) FROM institutions") == [(0,)]


def test_a_renamed_xls_is_refused_whole_with_the_fix(db: Path, tmp_path: Path) -> None:
    fake = tmp_path / "old.xlsx"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    code, out = admin(db, "import-bank-results", str(fake))
    assert code == ExitCode.BAD_INPUT
    assert ".xls" in out and "Save As" in out
