"""Imports read their file a row at a time: ids past 9,999 in a county, bad rows anywhere, any line ending."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from fieldkit.cli.exits import ExitCode
from fieldkit.server import import_files
from tests.live_server import INSTITUTION_HEADER, admin, institution_line, make_uscc, write_csv

NAMES = ("星辰教育培训学校", "童趣美术培训中心", "明理书法培训学校", "启航编程培训学校")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """An initialised, empty office store."""
    path = tmp_path / "office.sqlite"
    assert admin(path, "init")[0] == 0
    return path


def county_file(path: Path, first: int, count: int, division: str = "430702") -> Path:
    """A CSV of `count` institutions of one county, serials from `first`."""
    lines = [INSTITUTION_HEADER] + [
        institution_line(f"常德{NAMES[n % 4]}{n}", n, division) for n in range(first, first + count)
    ]
    return write_csv(path, lines)


def scalar(db: Path, sql: str) -> object:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar()
    engine.dispose()
    return value


def test_a_county_past_9999_institutions_keeps_ids_unique_import_after_import(
    db: Path, tmp_path: Path
) -> None:
    code, out = admin(db, "import-institutions", str(county_file(tmp_path / "a.csv", 1, 10_050)))
    assert code == 0 and "新增 10050" in out, out
    code, out = admin(db, "import-institutions", str(county_file(tmp_path / "b.csv", 20_000, 5)))
    assert code == 0 and "5 added" in out, out
    assert scalar(db, "SELECT count(DISTINCT id) FROM institutions") == 10_055
    codes = ",".join(f"'{make_uscc(n)}'" for n in range(20_000, 20_005))
    newest = scalar(db, f"SELECT group_concat(id) FROM institutions WHERE uscc IN ({codes})")
    assert sorted(str(newest).split(",")) == [f"JG430702{n}" for n in range(10_051, 10_056)]
    assert scalar(db, "SELECT id FROM institutions WHERE id LIKE '%9999'") == "JG4307029999"


def test_bad_rows_scattered_through_a_long_file_are_each_reported_and_nothing_is_written(
    db: Path, tmp_path: Path
) -> None:
    lines = [INSTITUTION_HEADER] + [
        institution_line(f"常德{NAMES[n % 4]}{n}", n, "430702") for n in range(1, 3001)
    ]
    lines[10] = lines[10].replace("430702,湖南", "999999,湖南")  # an unknown division, line 11
    lines[1500] = lines[1500].rsplit(",", 1)[0] + ",cooking"  # a kind that is neither, line 1501
    lines[2999] = lines[5]  # a repeated credit code, line 3000
    code, out = admin(db, "import-institutions", str(write_csv(tmp_path / "bad.csv", lines)))
    assert code == ExitCode.BAD_INPUT
    assert "第11行 / line 11" in out and "第1501行 / line 1501" in out
    assert "第3000行 / line 3000" in out and "line 6" in out
    assert "3 rows rejected, nothing was imported" in out
    assert scalar(db, "SELECT count(*) FROM institutions") == 0
    assert scalar(db, "SELECT count(*) FROM changes") == 0


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
def test_lines_split_across_read_pieces_in_every_line_ending(
    db: Path, tmp_path: Path, ending: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_files, "CHUNK_BYTES", 7)  # every line crosses a piece boundary
    lines = [INSTITUTION_HEADER] + [
        institution_line(f"常德{NAMES[n % 4]}{n}", n, "430702") for n in range(1, 4)
    ]
    path = tmp_path / "in.csv"
    path.write_bytes(("\ufeff" + ending.join(lines) + ending).encode("utf-8"))
    code, out = admin(db, "import-institutions", str(path))
    assert code == 0 and "新增 3" in out and "UTF-8" in out, out
    assert scalar(db, "SELECT group_concat(name) FROM institutions ORDER BY id") == (
        "常德童趣美术培训中心1,常德明理书法培训学校2,常德启航编程培训学校3"
    )


def test_a_quoted_cell_over_several_lines_and_a_gb18030_line_in_a_utf8_file(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_files, "CHUNK_BYTES", 11)
    first = (
        institution_line("常德星辰教育培训学校", 1, "430702")
        .replace(",湖南省", ',"湖南省')
        .replace("人民路1号,", '人民路1号\n二楼",')
    )
    body = "\r\n".join([INSTITUTION_HEADER, first, institution_line("武陵区童趣美术", 2, "430702")])
    raw = (
        body.encode("utf-8")
        + b"\r\n"
        + institution_line("鼎城区音乐", 3, "430703").encode("gb18030")
        + b"\r\n"
    )
    path = tmp_path / "mixed.csv"
    path.write_bytes(raw)
    code, out = admin(db, "import-institutions", str(path))
    assert code == ExitCode.BAD_INPUT and "第5行 / line 5" in out and "not UTF-8" in out, out
    assert "1 rows rejected" in out
    assert scalar(db, "SELECT count(*) FROM institutions") == 0


def test_bank_results_of_a_long_file_stream_and_refuse_an_unknown_code_by_line(
    db: Path, tmp_path: Path
) -> None:
    assert admin(db, "import-institutions", str(county_file(tmp_path / "a.csv", 1, 1200)))[0] == 0
    lines = ["uscc,result,reason,account_no"] + [
        f"{make_uscc(n, '430702')},passed,,6222{n:012d}" for n in range(1, 1201)
    ]
    lines.insert(1100, f"{make_uscc(9999, '430702')},passed,,622200000001")
    code, out = admin(db, "import-bank-results", str(write_csv(tmp_path / "bank.csv", lines)))
    assert (
        code == ExitCode.BAD_INPUT and "第1101行 / line 1101" in out and "import it first" in out
    ), out
    assert scalar(db, "SELECT count(*) FROM institutions WHERE bank_status = 'passed'") == 0
    del lines[1100]
    code, out = admin(db, "import-bank-results", str(write_csv(tmp_path / "bank.csv", lines)))
    assert code == 0 and "1200 updated" in out, out
    assert scalar(db, "SELECT count(*) FROM institutions WHERE payment_payload IS NOT NULL") == 1200
