"""The office's spreadsheet reader: CSV in three encodings, .xlsx from openpyxl, and every guard."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from fieldkit.server.sheets import SheetError, open_sheet, parse_date, parse_yuan

HEADER = ["统一社会信用代码", "注册日期", "订单金额（元）"]


def _xlsx(path: Path, rows: list[list[object]], **sheets: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for title, more in sheets.items():
        extra = book.create_sheet(title)
        for row in more:
            extra.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_reads_the_same(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "p.csv"
    text = '统一社会信用代码,注册日期,订单金额（元）\r\n52430702MJM3PWQ36L,2025/3/2,"1,234.50"\r\n'
    path.write_bytes(text.encode(encoding))
    sheet = open_sheet(path)
    assert sheet.header == HEADER
    assert sheet.format == ("GB18030" if encoding == "gb18030" else "UTF-8")
    rows = list(sheet.rows)
    assert [(r.line, r.cells) for r in rows] == [
        (2, ["52430702MJM3PWQ36L", "2025/3/2", "1,234.50"])
    ]


def test_a_line_in_another_encoding_is_refused_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "名称,日期\r\n".encode("gb18030")
        + "星辰,2025-01-01\r\n".encode("gb18030")
        + b"\xff\xfe,2025-01-02\r\n"
    )
    rows = list(open_sheet(path).rows)
    assert rows[0].problem is None and rows[1].line == 3
    assert rows[1].problem is not None and "GB18030" in rows[1].problem


def test_xlsx_dates_numbers_and_text_come_out_as_typed(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "p.xlsx",
        [HEADER, ["52430702MJM3PWQ36L", datetime(2025, 3, 2), 1234.5], ["", date(2025, 4, 1), 12]],
    )
    sheet = open_sheet(path)
    assert sheet.format == "xlsx" and sheet.header == HEADER
    rows = [(r.line, r.cells) for r in sheet.rows]
    assert rows == [
        (2, ["52430702MJM3PWQ36L", "2025-03-02", "1234.5"]),
        (3, ["", "2025-04-01", "12"]),
    ]
    assert parse_yuan("1234.5", "x") == 123450


def test_a_renamed_xls_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(SheetError) as caught:
        open_sheet(path)
    assert ".xls" in caught.value.zh and "Save As .xlsx" in caught.value.en


def test_a_text_file_named_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_text("uscc,orders\n", encoding="utf-8")
    with pytest.raises(SheetError, match="not a valid .xlsx"):
        open_sheet(path)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"\x00" * (1 << 20)
            for _ in range(64):  # 64 MB of zeros packs into ~64 KB
                member.write(block)
    with pytest.raises(SheetError) as caught:
        open_sheet(path)
    assert "MB" in caught.value.zh and "not opened" in caught.value.en


def test_an_empty_sheet_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match="empty"):
        open_sheet(_xlsx(tmp_path / "empty.xlsx", []))


def test_a_second_sheet_with_data_is_refused_by_name(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "two.xlsx", [HEADER, ["x", "y", "1"]], 说明=[["本表为平台导出"]])
    with pytest.raises(SheetError) as caught:
        open_sheet(path)
    assert "说明" in caught.value.zh and "keep only the one" in caught.value.en


def test_an_empty_second_sheet_is_fine(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "two.xlsx", [HEADER, ["x", "y", "1"]], Sheet2=[])
    assert len(list(open_sheet(path).rows)) == 1


def test_merged_cells_refuse_the_rows_they_cover(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["52430702MJM3PWQ36L", "2025-03-02", 10])
    sheet.append(["52430702MJJLCCBX1N", "2025-03-05", 20])
    sheet.append(["", "2025-03-05", 30])
    sheet.merge_cells("A3:A4")
    book.save(tmp_path / "merged.xlsx")
    rows = list(open_sheet(tmp_path / "merged.xlsx").rows)
    assert [r.line for r in rows if r.problem] == [3, 4]
    assert "合并单元格" in (rows[1].problem or "") and rows[0].problem is None


def test_a_merged_header_refuses_the_file(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["平台导出", None, None])
    book.active.merge_cells("A1:C1")
    book.save(tmp_path / "title.xlsx")
    with pytest.raises(SheetError, match="header has merged cells"):
        open_sheet(tmp_path / "title.xlsx")


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1,234.50", 123450), ("1234.5", 123450), ("0", 0), ("5,000.00", 500000), ("¥12", 1200)],
)
def test_amounts_as_excel_and_people_write_them(text: str, fen: int) -> None:
    assert parse_yuan(text, "order_amount") == fen


@pytest.mark.parametrize("text", ["1234.567", "1,23.45", "12a", "-5", "1.2.3"])
def test_bad_amounts_are_refused_in_words(text: str) -> None:
    with pytest.raises(ValueError, match="order_amount"):
        parse_yuan(text, "order_amount")


def test_dates_in_the_forms_offices_type() -> None:
    for text in ("2025-03-02", "2025/3/2", "2025年3月2日", "2025-03-02 00:00:00"):
        assert parse_date(text, "d") == date(2025, 3, 2)
    with pytest.raises(ValueError, match="does not exist"):
        parse_date("2025-02-30", "d")
