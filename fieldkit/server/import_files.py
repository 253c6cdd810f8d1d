"""Reading an office's import file, CSV (UTF-8 with or without BOM, GB18030) or .xlsx, one checked row at a time, and the report of what an import did."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from fieldkit import domain

from . import sheets

T = TypeVar("T")
_BREAKS = re.compile(r"[\t\r\n]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CELL_LIMITS = {"name": 100, "address": 200, "contact_name": 64, "licence_no": 64, "reason": 500}
DEFAULT_CELL_LIMIT = 100


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
