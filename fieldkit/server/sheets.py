"""Reading the office's spreadsheets row by row: CSV (UTF-8 ± BOM, GB18030) and .xlsx (Excel, WPS).

Every reader streams: memory does not grow with the file. A file that cannot be read as a
table at all (a renamed .xls, a zip bomb, an empty or second sheet…) raises SheetError with
words that say how to fix it; a single bad line is handed on as a Row with its problem.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

# What an office's export can hold: far more than a province, far less than a bomb.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed size of one member; real sheets compress 5-20x
RATIO_FLOOR = 8 * 1024 * 1024  # small members may compress as much as they like
CHUNK = 1 << 16

_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: the old .xls (and .et) format
_ZIP_MAGIC = b"PK\x03\x04"
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


class SheetError(Exception):
    """The file cannot be read as a table; zh and en say what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Row:
    """One data row: its line (as the office sees it: CSV line or Excel row), cells, or a problem."""

    line: int
    cells: list[str]
    problem: str | None = None


@dataclass
class Sheet:
    """An opened table: its header, its data rows (an iterator, read once) and what it was."""

    header: list[str]
    rows: Iterator[Row]
    format: str  # "UTF-8", "GB18030" or "xlsx"


def is_workbook(path: Path) -> bool:
    """Whether a file is (or claims to be) a workbook rather than CSV text: by content or name."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError:
        return False
    return magic.startswith((_XLS_MAGIC, _ZIP_MAGIC)) or path.suffix.lower() in (
        ".xlsx",
        ".xlsm",
        ".xls",
    )


def open_sheet(path: Path) -> Sheet:
    """Open a .csv or .xlsx file by its content (not its name); SheetError if it is no table."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise SheetError(
            f"无法读取文件“{path}”：{exc.strerror}", f"cannot read '{path}': {exc.strerror}"
        ) from None
    if magic.startswith(_XLS_MAGIC):
        raise SheetError(
            f"“{path.name}”是旧版 Excel 97-2003（.xls）文件，请在 Excel 或 WPS 中“另存为”.xlsx 或 CSV "
            "后再导入",
            f"'{path.name}' is an old Excel 97-2003 (.xls) workbook: in Excel or WPS use "
            "Save As .xlsx (or CSV) and import that",
        )
    if magic.startswith(_ZIP_MAGIC):
        return _open_xlsx(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise SheetError(
            f"“{path.name}”不是有效的 .xlsx 文件（可能已损坏或只是改了扩展名），请用 Excel 或 WPS 重新保存",
            f"'{path.name}' is not a valid .xlsx file (damaged, or only renamed): save it "
            "again from Excel or WPS",
        )
    return _open_csv(path)


# --- CSV -----------------------------------------------------------------------------------------
def detect_encoding(path: Path) -> str:
    """UTF-8 if the whole file decodes as UTF-8 (a BOM is skipped later), else GB18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "GB18030"
    return "UTF-8"


def _open_csv(path: Path) -> Sheet:
    encoding = detect_encoding(path)
    handle = path.open("rb")
    bad: dict[int, str] = {}
    lines = _decoded_lines(handle, encoding, bad)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise SheetError(
            "文件是空的，没有表头也没有数据", "the file is empty: no header, no rows"
        ) from None
    except csv.Error as exc:
        handle.close()
        raise SheetError(
            f"第1行无法按 CSV 读取：{exc}", f"line 1 cannot be read as CSV: {exc}"
        ) from None
    return Sheet([_clean(c) for c in header], _csv_rows(handle, reader, len(header), bad), encoding)


def _decoded_lines(handle: Any, encoding: str, bad: dict[int, str]) -> Iterator[str]:
    """The file's physical lines as text; a line that does not decode is noted in `bad`."""
    codec = encoding.lower()
    for n, raw in enumerate(handle, start=1):
        if n == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[3:]
        try:
            yield raw.decode(codec)
        except UnicodeDecodeError:
            bad[n] = (
                f"这一行不是{encoding}编码（文件其余部分是{encoding}），请整个文件用同一种编码另存 / "
                f"this line is not {encoding} like the rest of the file; save the whole "
                "file in one encoding (UTF-8 or GB18030)"
            )
            yield raw.decode(codec, errors="replace")


def _csv_rows(handle: Any, reader: Any, width: int, bad: dict[int, str]) -> Iterator[Row]:
    with handle:
        start = reader.line_num
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Row(
                    start + 1,
                    [],
                    f"无法按 CSV 读取（{exc}），请检查引号是否成对 / cannot be read as CSV "
                    f"({exc}): check the quotes",
                )
                start = reader.line_num
                continue
            line, start = start + 1, reader.line_num
            if line in bad:
                yield Row(line, [], bad.pop(line))
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != width:
                if len(record) > width and not any(c.strip() for c in record[width:]):
                    record = record[:width]  # trailing empty cells, as spreadsheets write them
                else:
                    yield Row(
                        line,
                        [],
                        f"应有{width}列，这一行有{len(record)}列 / expected {width} columns, "
                        f"found {len(record)}",
                    )
                    continue
            yield Row(line, [_clean(c) for c in record])


def _clean(cell: str) -> str:
    """A cell as one line, trimmed (line breaks typed in a cell become spaces)."""
    if cell.isprintable() and cell[:1] != " " and cell[-1:] != " " and "  " not in cell:
        return (
            cell  # already one clean line (no BOM, tab, break or odd space: they are not printable)
        )
    return " ".join(cell.replace("\ufeff", "").split()) if cell else ""


# --- .xlsx ---------------------------------------------------------------------------------------
def check_zip(path: Path) -> None:
    """Refuse a zip whose declared sizes are those of a bomb, before anything is unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SheetError(
            f"“{path.name}”不是有效的 .xlsx 文件（{exc}），请用 Excel 或 WPS 重新保存",
            f"'{path.name}' is not a valid .xlsx file ({exc}): save it again from Excel or WPS",
        ) from None
    total = sum(m.file_size for m in members)
    dense = [
        m
        for m in members
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1)
    ]
    if total > MAX_UNPACKED_BYTES or dense:
        raise SheetError(
            f"“{path.name}”解压后达 {total // 1_000_000} MB（或压缩比异常），不像平台导出的表格，"
            "已拒绝打开；请从平台重新导出",
            f"'{path.name}' would unpack to {total // 1_000_000} MB (or compresses "
            "implausibly well): it is not a platform export and was not opened; export it again",
        )


def _open_xlsx(path: Path) -> Sheet:
    check_zip(path)
    from openpyxl import load_workbook  # only the office imports .xlsx

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise SheetError(
            f"无法打开“{path.name}”（{type(exc).__name__}），请用 Excel 或 WPS 重新保存为 .xlsx",
            f"cannot open '{path.name}' ({type(exc).__name__}): save it again as .xlsx from "
            "Excel or WPS",
        ) from None
    try:
        sheets = [ws for ws in book.worksheets if _has_cells(ws)]
        if not sheets:
            raise SheetError(
                "工作簿里没有数据（工作表是空的），请确认导出的是有数据的表",
                "the workbook holds no data (its sheet is empty): check the export",
            )
        if len(sheets) > 1:
            names = "、".join(ws.title for ws in sheets)
            raise SheetError(
                f"工作簿有多个含数据的工作表（{names}），无法确定导入哪一个；请只保留一个工作表",
                f"the workbook has several sheets with data ({', '.join(ws.title for ws in sheets)})"
                ": keep only the one to import",
            )
        sheet = sheets[0]
        merged = _merged_rows(path, book, sheet.title)
    except SheetError:
        book.close()
        raise
    rows = sheet.iter_rows(values_only=True)
    header_line, header = _first_row(rows)
    if header is None:
        book.close()
        raise SheetError(
            "工作表是空的，没有表头也没有数据", "the sheet is empty: no header, no rows"
        )
    if header_line in merged:
        book.close()
        raise SheetError(
            "表头含有合并单元格，请取消合并，每列一个标题",
            "the header has merged cells: unmerge them, one title per column",
        )
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    return Sheet(header[:width], _xlsx_rows(book, rows, header_line, width, merged), "xlsx")


def _has_cells(ws: Any) -> bool:
    """Whether a read-only worksheet holds any value (its declared size may lie, so look)."""
    for row in ws.iter_rows(values_only=True):
        if any(v is not None and str(v).strip() for v in row):
            return True
    return False


def _first_row(rows: Iterator[tuple[Any, ...]]) -> tuple[int, list[str] | None]:
    for n, values in enumerate(rows, start=1):
        cells = [cell_text(v) for v in values]
        if any(cells):
            return n, cells
    return 0, None


def _xlsx_rows(
    book: Any, rows: Iterator[tuple[Any, ...]], header_line: int, width: int, merged: set[int]
) -> Iterator[Row]:
    try:
        for line, values in enumerate(rows, start=header_line + 1):
            cells = [cell_text(v) for v in values[:width]]
            if not any(cells):
                continue
            if line in merged:
                yield Row(
                    line,
                    [],
                    "这一行含有合并单元格，请取消合并并在每一行填写完整 / this row has merged "
                    "cells: unmerge them and fill in every row",
                )
                continue
            if any(cell_text(v) for v in values[width:]):
                yield Row(
                    line,
                    [],
                    f"表头只有{width}列，这一行在表头之外还有内容 / the header has {width} "
                    "columns but this row has values beyond them",
                )
                continue
            yield Row(line, cells + [""] * (width - len(cells)))
    finally:
        book.close()


def _merged_rows(path: Path, book: Any, title: str) -> set[int]:
    """The rows a merged range covers in the sheet's XML (read-only mode does not expose them)."""
    part = _sheet_part(path, book, title)
    if part is None:
        return set()
    rows: set[int] = set()
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(part) as xml:
        while chunk := xml.read(CHUNK):
            data = tail + chunk
            for match in _MERGE.finditer(data):
                first = int(match.group(2))
                last = int(match.group(4) or first)
                rows.update(range(first, min(last, first + 100_000) + 1))
            tail = data[-200:]
    return rows


def _sheet_part(path: Path, book: Any, title: str) -> str | None:
    """The zip member holding the worksheet `title`."""
    for ws in book.worksheets:
        if ws.title == title:
            name = getattr(ws, "_worksheet_path", None) or getattr(ws, "path", None)
            if isinstance(name, str):
                return name.lstrip("/")
    with zipfile.ZipFile(path) as archive:
        parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    return parts[0] if len(parts) == 1 else None


def cell_text(value: Any) -> str:
    """A cell's value as the text a person would have typed: dates ISO, whole numbers plain."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return _clean(str(value))


# --- cell parsing shared by the imports ---------------------------------------------------------
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")


def parse_yuan(text: str, field: str) -> int:
    """An amount in yuan (two decimals at most; `1,234.50` as Excel writes it) as fen."""
    compact = text.replace("¥", "").replace("￥", "").replace(" ", "").replace("元", "")
    if _GROUPED.match(compact):
        compact = compact.replace(",", "")
    elif not _PLAIN.match(compact):
        raise ValueError(
            f"“{field}”的金额“{text}”无效，应为数字（元，最多两位小数，如 1234.50） / "
            f"'{field}' amount '{text}' is not a number of yuan (at most two decimals, e.g. "
            "1234.50)"
        )
    try:
        amount = Decimal(compact)
    except InvalidOperation:  # pragma: no cover - the patterns above admit only numbers
        raise ValueError(f"“{field}”金额无效 / '{field}' is not an amount") from None
    if amount < 0:
        raise ValueError(f"“{field}”不能为负数 / '{field}' cannot be negative")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(
            f"“{field}”的金额“{text}”超过两位小数（元只到分） / '{field}' amount '{text}' has more "
            "than two decimals (yuan are counted to the fen)"
        )
    return int(fen)


def parse_count(text: str, field: str) -> int:
    """A whole number of at least 0 (`1,234` allowed)."""
    compact = text.replace(" ", "")
    if _GROUPED.match(compact):
        compact = compact.replace(",", "")
    if not re.fullmatch(r"\d+", compact):
        raise ValueError(
            f"“{field}”应为不小于0的整数，收到“{text}” / '{field}' must be a whole number of at "
            f"least 0, got '{text}'"
        )
    return int(compact)


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(:\d{2})?)?$")


def parse_date(text: str, field: str) -> date:
    """A date as `YYYY-MM-DD`, `YYYY/M/D`, `YYYY年M月D日` or a real Excel date."""
    if len(text) == 10 and text.isascii() and text[4] + text[7] == "--" and text[8:].isdigit():
        try:  # the common case, parsed in C
            return date.fromisoformat(text)
        except ValueError:
            pass  # the pattern below says why in words
    match = _DATE.match(text.strip())
    if match is None:
        raise ValueError(
            f"“{field}”的日期“{text}”无法识别，应为 YYYY-MM-DD 或 YYYY/M/D / '{field}' date "
            f"'{text}' is not a date (use YYYY-MM-DD or YYYY/M/D)"
        )
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise ValueError(
            f"“{field}”的日期“{text}”不存在 / '{field}' date '{text}' does not exist"
        ) from None


def columns(header: list[str], names: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Which column holds each field, by its English or Chinese header (case, spaces ignored)."""
    found: dict[str, int] = {}
    for i, title in enumerate(header):
        clean = _header_key(title)
        for key, aliases in names.items():
            if key not in found and clean in {_header_key(a) for a in aliases}:
                found[key] = i
    return found


def _header_key(title: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", title.lower())
