"""The office's admin commands: init, technicians, and CSV imports reported row by row, all or nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from fieldkit import cli
from fieldkit.cli.exits import ExitCode
from tests.live_server import (
    INSTITUTION_HEADER,
    admin,
    free_port,
    institution_line,
    make_uscc,
    token_from,
    write_csv,
)

SAMPLES = Path(__file__).resolve().parents[1] / "fieldkit" / "server" / "samples"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """An initialised, empty office store."""
    path = tmp_path / "office.sqlite"
    assert admin(path, "init")[0] == 0
    return path


def rows(db: Path, sql: str) -> list[tuple]:
    """Read the store directly, as an auditor would."""
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return found


def test_init_twice_keeps_the_key(db: Path) -> None:
    key = rows(db, "SELECT value FROM meta WHERE key = 'private_key'")
    code, out = admin(db, "init")
    assert code == 0 and "already" in out and "已初始化" in out
    assert rows(db, "SELECT value FROM meta WHERE key = 'private_key'") == key


def test_commands_refuse_a_store_that_was_never_initialised(tmp_path: Path) -> None:
    code, out = admin(tmp_path / "nothing.sqlite", "add-technician", "李明", "--zone", "430702")
    assert code == ExitCode.NOT_FOUND and "fieldkit server init" in out
    assert not (tmp_path / "nothing.sqlite").exists()  # no empty store left behind


def test_serve_refuses_a_mistyped_store_instead_of_making_a_new_office(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "ofice.sqlite"
    assert cli.main(["serve", "--db", str(typo), "--port", str(free_port())]) == ExitCode.NOT_FOUND
    assert "fieldkit server init" in capsys.readouterr().err
    assert not typo.exists()


def test_serve_on_a_port_in_use_says_so(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["serve", "--db", str(db), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "--port" in err and "无法" in err


def test_add_technician_prints_the_token_once_and_numbers_them(db: Path) -> None:
    code, out = admin(db, "add-technician", "李明", "--zone", "430702")
    assert code == 0 and "T0001" in out and "常德市武陵区" in out
    token = token_from(out)
    assert len(token) > 40
    code, out = admin(db, "add-technician", "张主管", "--zone", "430000", "--supervisor")
    assert code == 0 and "T0002" in out and "supervisor" in out
    stored = rows(db, "SELECT id, role, zone, token_hash FROM technicians ORDER BY id")
    assert [r[:3] for r in stored] == [
        ("T0001", "technician", "430702"),
        ("T0002", "supervisor", "430000"),
    ]
    assert token not in {r[3] for r in stored}


@pytest.mark.parametrize("zone", ["999999", "4307", "440100"])
def test_add_technician_refuses_a_bad_zone(db: Path, zone: str) -> None:
    code, out = admin(db, "add-technician", "李明", "--zone", zone)
    assert code == 1 and zone in out
    assert rows(db, "SELECT count(*) FROM technicians") == [(0,)]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_import_in_each_office_encoding(db: Path, tmp_path: Path, encoding: str) -> None:
    lines = [
        INSTITUTION_HEADER,
        institution_line("常德星辰教育培训学校", 1, "430702", "academic"),
        institution_line("鼎城区启航编程培训学校", 2, "430703"),
    ]
    code, out = admin(
        db, "import-institutions", str(write_csv(tmp_path / "in.csv", lines, encoding))
    )
    assert code == 0, out
    assert "新增 2" in out and "2 added" in out
    assert rows(db, "SELECT id, name, pinyin, initials, kind FROM institutions ORDER BY id") == [
        (
            "JG4307020001",
            "常德星辰教育培训学校",
            "changdexingchenjiaoyupeixunxuexiao",
            "cdxcjypxxx",
            "academic",
        ),
        (
            "JG4307030001",
            "鼎城区启航编程培训学校",
            "dingchengquqihangbianchengpeixunxuexiao",
            "dcqqhbcpxxx",
            "non_academic",
        ),
    ]
    assert rows(db, "SELECT count(*) FROM steps WHERE status = 'todo'") == [(22,)]


def test_chinese_headers_and_kinds_are_understood(db: Path, tmp_path: Path) -> None:
    lines = [
        "机构名称,统一社会信用代码,办学许可证号,行政区划代码,地址,联系人,联系电话,类别",
        f"长沙芙蓉棋艺培训中心,{make_uscc(5, '430102')},教民1430102,430102,芙蓉路1号,"
        "王老师,0731-88886666,非学科类",
    ]
    code, out = admin(db, "import-institutions", str(write_csv(tmp_path / "zh.csv", lines)))
    assert code == 0, out
    assert rows(db, "SELECT kind, contact_phone FROM institutions") == [
        ("non_academic", "0731-88886666")
    ]


def test_reimport_updates_by_credit_code(db: Path, tmp_path: Path) -> None:
    first = [INSTITUTION_HEADER, institution_line("常德星辰教育培训学校", 1, "430702")]
    assert admin(db, "import-institutions", str(write_csv(tmp_path / "a.csv", first)))[0] == 0
    seq = rows(db, "SELECT max(seq) FROM changes")[0][0]
    moved = first[1].replace("人民路1号", "朗州路218号").replace("常德星辰", "常德辰星")
    second = [INSTITUTION_HEADER, moved, institution_line("武陵区童趣美术培训中心", 2, "430702")]
    code, out = admin(db, "import-institutions", str(write_csv(tmp_path / "b.csv", second)))
    assert code == 0 and "新增 1，更新 1" in out
    assert rows(db, "SELECT id, name, address, pinyin FROM institutions ORDER BY id") == [
        (
            "JG4307020001",
            "常德辰星教育培训学校",
            "湖南省常德市武陵区朗州路218号",
            "changdechenxingjiaoyupeixunxuexiao",
        ),
        (
            "JG4307020002",
            "武陵区童趣美术培训中心",
            "湖南省常德市武陵区人民路2号",
            "wulingqutongqumeishupeixunzhongxin",
        ),
    ]
    logged = rows(
        db,
        f"SELECT kind, entity_id FROM changes WHERE seq > {seq} "
        "AND kind = 'institution' ORDER BY seq",
    )
    assert logged == [("institution", "JG4307020002"), ("institution", "JG4307020001")]
    assert admin(db, "import-institutions", str(tmp_path / "b.csv"))[1].count("更新 0") == 1


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(db: Path, tmp_path: Path) -> None:
    good = institution_line("常德星辰教育培训学校", 1, "430702")
    wrong_check = institution_line("常德明理书法培训学校", 2, "430702")
    wrong_check = wrong_check.replace(
        make_uscc(2), make_uscc(2)[:-1] + ("0" if make_uscc(2)[-1] != "0" else "1")
    )
    lines = [
        INSTITUTION_HEADER,
        good,  # line 2
        wrong_check,  # line 3
        institution_line("火星培训学校", 3, "439999"),  # line 4
        institution_line("常德星辰教育培训学校分校", 1, "430702"),  # line 5: dup of 2
        institution_line("武陵区手机错误培训中心", 4, "430702", phone="1234"),  # line 6
        institution_line("武陵区类别错误培训中心", 5, "430702", kind="sports"),  # line 7
        f",{make_uscc(6)},教民1,430702,,,,academic",  # line 8: no name
        institution_line("鼎城区好学培训中心", 7, "430703") + ",extra",  # line 9
        "",  # blank: skipped
        institution_line("常德省级代码培训中心", 8, "430000"),  # line 11
    ]
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")
    gbk_line = institution_line("鼎城区GBK编码培训中心", 9, "430703").encode("gb18030")
    path = tmp_path / "bad.csv"
    path.write_bytes(data + gbk_line + b"\r\n")  # line 12
    code, out = admin(db, "import-institutions", str(path))
    assert code == ExitCode.BAD_INPUT
    report = {
        int(line.split("第")[1].split("行")[0]): line
        for line in out.splitlines()
        if line.startswith("第")
    }
    assert sorted(report) == [3, 4, 5, 6, 7, 8, 9, 11, 12]
    assert "校验位" in report[3] and "check character" in report[3]
    assert "439999" in report[4]
    assert "第2行重复" in report[5] and "line 2" in report[5]
    assert "1234" in report[6]
    assert "sports" in report[7]
    assert "name" in report[8]
    assert "9列" in report[9]
    assert "province" in report[11]
    assert "UTF-8" in report[12] and "encoding" in report[12]
    assert "未导入任何数据" in out and "nothing was imported" in out
    assert rows(db, "SELECT count(*) FROM institutions") == [(0,)]
    assert rows(db, "SELECT count(*) FROM changes") == [(0,)]


def test_a_file_that_is_not_a_csv_list_is_refused_whole(db: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "other.csv", ["学生姓名,年级", "张三,三年级"])
    code, out = admin(db, "import-institutions", str(path))
    assert code == ExitCode.BAD_INPUT and "uscc" in out and "nothing was imported" in out
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(
        ("\r\n".join([INSTITUTION_HEADER, institution_line("星辰教育", 1, "430702")])).encode(
            "utf-16"
        )
    )
    code, out = admin(db, "import-institutions", str(utf16))
    assert code == ExitCode.BAD_INPUT and "nothing was imported" in out
    code, out = admin(db, "import-institutions", str(tmp_path / "missing.csv"))
    assert code == ExitCode.NOT_FOUND and "missing.csv" in out


@pytest.mark.skipif(not (SAMPLES / "institutions.csv").exists(), reason="samples not written")
def test_the_sample_files_import_cleanly(db: Path) -> None:
    code, out = admin(db, "import-institutions", str(SAMPLES / "institutions.csv"))
    assert code == 0, out
    count = rows(db, "SELECT count(*) FROM institutions")[0][0]
    assert count >= 10
    code, out = admin(db, "import-bank-results", str(SAMPLES / "bank_results.csv"))
    assert code == 0, out
    assert rows(db, "SELECT count(*) FROM institutions WHERE bank_status != 'pending'")[0][0] >= 10


def test_bank_results_with_bad_rows_change_nothing(db: Path, tmp_path: Path) -> None:
    lines = [INSTITUTION_HEADER, institution_line("常德星辰教育培训学校", 1, "430702")]
    assert admin(db, "import-institutions", str(write_csv(tmp_path / "in.csv", lines)))[0] == 0
    bank = [
        "uscc,result,reason,account_no",
        f"{make_uscc(1)},passed,,43050338847530331111",
        f"{make_uscc(2)},passed,,43050338847530331112",  # unknown institution
        f"{make_uscc(1)},failed,,",
    ]  # no reason; duplicate
    code, out = admin(db, "import-bank-results", str(write_csv(tmp_path / "bank.csv", bank)))
    assert code == ExitCode.BAD_INPUT
    assert "第4行" in out and "reason" in out
    assert "nothing was imported" in out
    assert rows(db, "SELECT bank_status, payment_payload FROM institutions") == [("pending", None)]
    bank = ["uscc,result,reason,account_no", f"{make_uscc(2)},passed,,43050338847530331112"]
    code, out = admin(db, "import-bank-results", str(write_csv(tmp_path / "bank2.csv", bank)))
    assert code == ExitCode.BAD_INPUT and "第2行" in out and "import it first" in out


@pytest.mark.parametrize(
    ("db", "words"),
    [
        ("nonsense://x", "URL"),
        ("mysql://office@127.0.0.1/office", "driver"),
        ("{tmp}/no/such/folder/office.sqlite", "folder exists"),
    ],
)
def test_a_store_that_cannot_be_opened_is_explained(tmp_path: Path, db: str, words: str) -> None:
    code, out = admin(db.format(tmp=tmp_path), "init")
    assert code == 1
    assert out.startswith("错误：") and words in out
    assert "Traceback" not in out and "sqlalche.me" not in out


def test_seed_demo_refuses_a_store_with_institutions(db: Path, tmp_path: Path) -> None:
    lines = [INSTITUTION_HEADER, institution_line("常德星辰教育培训学校", 1, "430702")]
    assert admin(db, "import-institutions", str(write_csv(tmp_path / "in.csv", lines)))[0] == 0
    code, out = admin(db, "seed-demo")
    assert code == 1 and "empty store" in out and "空数据库" in out
    assert rows(db, "SELECT count(*) FROM institutions") == [(1,)]


def test_a_store_from_a_newer_fieldkit_is_left_alone(db: Path) -> None:
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    engine.dispose()
    before = db.read_bytes()
    for argv in (("init",), ("add-technician", "李明", "--zone", "430702")):
        code, out = admin(db, *argv)
        assert code == 1 and "upgrade fieldkit" in out and "升级" in out
    assert rows(db, "SELECT count(*) FROM technicians") == [(0,)]
    assert db.read_bytes() == before
