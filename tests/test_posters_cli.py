"""`fieldkit qr`, `fieldkit posters` and `fieldkit check-code` on a real profile cache."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import qrcode
from PIL import Image

from cache import Store
from fieldkit import config
from fieldkit.cli import main
from fieldkit.cli.exits import ExitCode
from fieldkit.payment import emv
from fieldkit.payment.qr import payload_sha256
from tests.test_qr_fixtures import (
    PUBLIC_KEY,
    decode_qr,
    pdf_page_images,
    pdf_texts,
    signed_institution,
)

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="Windows prints through the shell")
NAMES = ["星辰教育培训学校", "阳光艺术中心", "未来编程工作室", "小树苗美术", "常德书法院"]


@pytest.fixture
def profile() -> Path:
    """A logged-in profile whose cache holds five institutions of 430702 (two without a code)."""
    settings = config.Settings(
        profile="default",
        server_url="http://127.0.0.1:9",
        office_name="常德市武陵区教育局",
        office_public_key=PUBLIC_KEY,
        technician=config.Technician("T0001", "李娜", "technician", "430702"),
    )
    config.save(settings)
    institutions = [signed_institution(serial=n, name=name) for n, name in enumerate(NAMES, 1)]
    institutions[3].update(bank_status="failed", bank_reason="户名与执照不符", payment=None)
    institutions[4].update(payment=None)
    institutions.append(signed_institution(serial=1, name="长沙某培训", division="430102"))
    with Store.open(settings.cache_path) as store:
        store.bulk_load(institutions, [])
    return settings.cache_path


def ops(kind: str) -> list[dict]:
    with Store.open(config.load("default").cache_path) as store:
        return [op for op in store.pending_ops(1000) if op["kind"] == kind]


def tamper(cache_path: Path, inst_id: str) -> None:
    """Change the payload of one institution in the cache file, behind the app's back."""
    conn = sqlite3.connect(cache_path)
    with conn:
        row = conn.execute("SELECT payment FROM institutions WHERE id = ?", (inst_id,)).fetchone()
        payment = json.loads(row[0])
        payment["payload"] = emv.build_payload(
            inst_id, "6228489999999999", "Fraud", "Changde", "星辰教育培训学校", "常德"
        )
        conn.execute(
            "UPDATE institutions SET payment = ? WHERE id = ?", (json.dumps(payment), inst_id)
        )
    conn.close()


def test_qr_png_decodes_and_is_recorded(profile: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "desk.png"
    assert main(["qr", "JG4307020001", "--png", str(out), "--size", "a6"]) == 0
    payload = signed_institution(serial=1, name=NAMES[0])["payment"]["payload"]
    with Image.open(out) as image:
        assert decode_qr(image) == [payload]
    assert "已保存" in capsys.readouterr().out
    [op] = ops("poster.printed")
    assert op["institution_id"] == "JG4307020001"
    assert op["data"] == {"size": "a6", "payload_sha256": payload_sha256(payload), "copies": 1}


def test_qr_pdf_each_size(profile: Path, tmp_path: Path) -> None:
    payload = signed_institution(serial=2, name=NAMES[1])["payment"]["payload"]
    for size in ("a4", "strip"):
        out = tmp_path / f"{size}.pdf"
        assert main(["qr", "JG4307020002", "--pdf", str(out), "--size", size]) == 0
        assert [decode_qr(p) for p in pdf_page_images(out.read_bytes())] == [[payload]]
    assert [op["data"]["size"] for op in ops("poster.printed")] == ["a4", "strip"]


def test_qr_refuses_an_institution_without_bank_pass(profile: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.png"
    assert main(["qr", "JG4307020004", "--png", str(out)]) == 1
    err = capsys.readouterr().err
    assert "银行核验未通过" in err and "户名与执照不符" in err and "Bank verification" in err
    assert not out.exists() and ops("poster.printed") == []


def test_qr_unknown_institution(profile: Path, tmp_path: Path, capsys) -> None:
    assert main(["qr", "JG4307029999", "--png", str(tmp_path / "x.png")]) == ExitCode.NOT_FOUND
    assert "fieldkit sync" in capsys.readouterr().err


@POSIX_ONLY
def test_print_without_lp_says_where_the_file_is(
    profile: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    out = tmp_path / "p.pdf"
    assert main(["qr", "JG4307020001", "--pdf", str(out), "--print"]) == 1
    err = capsys.readouterr().err
    assert "lp" in err and str(out) in err
    assert out.exists() and len(ops("poster.printed")) == 1


@POSIX_ONLY
def test_print_hands_the_file_to_lp(
    profile: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    spool = tmp_path / "spooled.txt"
    lp = bin_dir / "lp"
    lp.write_text(f'#!/bin/sh\necho "$@" > {spool}\n')
    lp.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "p.pdf"
    assert main(["qr", "JG4307020001", "--pdf", str(out), "--print"]) == 0
    assert spool.read_text().strip() == str(out)
    assert "打印机" in capsys.readouterr().out


@POSIX_ONLY
def test_a_broken_lp_says_where_the_file_is(
    profile: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lp").write_text("#!/nonexistent/interpreter\n")  # found, but cannot start
    (bin_dir / "lp").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "p.pdf"
    assert main(["qr", "JG4307020001", "--pdf", str(out), "--print"]) == 1
    err = capsys.readouterr().err
    assert "打印失败" in err and "Printing failed" in err and str(out) in err
    assert out.exists()


def test_posters_for_a_division(profile: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "zone.pdf"
    assert main(["posters", "--division", "430702", "--pdf", str(out), "--size", "a6"]) == 0
    expected = [
        signed_institution(serial=n, name=NAMES[n - 1])["payment"]["payload"] for n in (1, 2, 3)
    ]
    assert [decode_qr(p) for p in pdf_page_images(out.read_bytes())] == [[p] for p in expected]
    text = capsys.readouterr().out
    assert "[1/5]" in text and "[5/5]" in text
    assert "JG4307020004" in text and "银行核验未通过" in text
    assert "JG4307020005" in text and "请先同步" in text
    assert "长沙某培训" not in text  # another county
    assert sorted(op["institution_id"] for op in ops("poster.printed")) == [
        "JG4307020001",
        "JG4307020002",
        "JG4307020003",
    ]


def test_posters_city_includes_its_counties(profile: Path, tmp_path: Path) -> None:
    out = tmp_path / "city.pdf"
    assert main(["posters", "--division", "430700", "--pdf", str(out)]) == 0
    assert len(pdf_page_images(out.read_bytes())) == 3


def test_posters_unknown_division(profile: Path, tmp_path: Path, capsys) -> None:
    assert (
        main(["posters", "--division", "999999", "--pdf", str(tmp_path / "x.pdf")])
        == ExitCode.BAD_INPUT
    )
    assert "430702" in capsys.readouterr().err


def test_tampered_payload_is_refused_everywhere(profile: Path, tmp_path: Path, capsys) -> None:
    tamper(profile, "JG4307020001")
    assert main(["qr", "JG4307020001", "--png", str(tmp_path / "t.png")]) == 1
    assert "本地数据被改动，请重新同步" in capsys.readouterr().err
    assert not (tmp_path / "t.png").exists()

    out = tmp_path / "zone.pdf"
    assert main(["posters", "--division", "430702", "--pdf", str(out)]) == 0
    text = capsys.readouterr().out
    assert "JG4307020001" in text and "本地数据被改动" in text
    assert len(pdf_page_images(out.read_bytes())) == 2

    forged = emv.build_payload(
        "JG4307020001", "6228489999999999", "Fraud", "Changde", "星辰教育培训学校", "常德"
    )
    assert main(["check-code", "JG4307020001", "--text", forged]) == 1
    assert "本地数据被改动" in capsys.readouterr().err
    assert ops("qr.checked") == []
    assert [op["institution_id"] for op in ops("poster.printed")] == [
        "JG4307020002",
        "JG4307020003",
    ]


def test_check_code_match_and_mismatch_are_recorded(profile: Path, capsys) -> None:
    payload = signed_institution(serial=1, name=NAMES[0])["payment"]["payload"]
    assert main(["check-code", "JG4307020001", "--text", payload]) == 0
    assert "监管收款码" in capsys.readouterr().out
    assert main(["check-code", "JG4307020001", "--text", "wxp://f2f0abcdef"]) == ExitCode.MISMATCH
    assert "微信个人收款码" in capsys.readouterr().out
    checks = [op["data"] for op in ops("qr.checked")]
    assert [(c["result"], c["found"]) for c in checks] == [
        ("match", "supervised"),
        ("mismatch", "wechat_personal"),
    ]
    assert checks[0]["content_sha256"] == payload_sha256(payload)


def test_check_code_from_an_image(profile: Path, tmp_path: Path, capsys) -> None:
    photo = tmp_path / "desk.png"
    qrcode.make("https://qr.alipay.com/fkx0123456").save(photo)
    assert main(["check-code", "JG4307020002", "--image", str(photo)]) == ExitCode.MISMATCH
    assert "支付宝个人收款码" in capsys.readouterr().out
    assert ops("qr.checked")[0]["data"]["found"] == "alipay_personal"


def test_check_code_without_a_supervised_code_still_says_what_was_found(
    profile: Path, capsys
) -> None:
    assert main(["check-code", "JG4307020004", "--text", "wxp://f2f0abcdef"]) == ExitCode.MISMATCH
    out = capsys.readouterr().out
    assert "银行核验未通过" in out and "微信个人收款码" in out
    assert ops("qr.checked")[0]["data"]["result"] == "mismatch"


def _visit_with_notice(items: tuple[str, ...]) -> str:
    from datetime import date, datetime

    from fieldkit import domain

    visit = domain.Visit(
        visit_id="8d0f6c1e-1111-4222-8333-944445555666",
        institution_id="JG4307020001",
        technician_id="T0001",
        kind="guidance",
        started_at=datetime(2026, 11, 28, 9, 30),
        ended_at=datetime(2026, 11, 28, 10, 30),
        outcome="partial",
        issues=("前台张贴了微信个人收款码",),
        rectification=domain.Rectification(items, date(2026, 12, 12)) if items else None,
    )
    with Store.open(config.load("default").cache_path) as store:
        store.create_visit(visit)
    return visit.visit_id


def test_notice_pdf_for_a_visit(profile: Path, tmp_path: Path, capsys) -> None:
    visit_id = _visit_with_notice(("撤除微信个人收款码", "张贴平台监管收款码"))
    out = tmp_path / "notice.pdf"
    assert main(["notice", visit_id[:8], "--pdf", str(out)]) == 0
    [text] = pdf_texts(out.read_bytes())
    assert "撤除微信个人收款码" in text and "张贴平台监管收款码" in text and "整改通知书" in text
    assert "已保存整改通知书" in capsys.readouterr().out


def test_notice_for_an_unknown_visit(profile: Path, tmp_path: Path, capsys) -> None:
    assert main(["notice", "ffff", "--pdf", str(tmp_path / "n.pdf")]) == ExitCode.NOT_FOUND
    assert "走访" in capsys.readouterr().err


def test_a_visit_without_a_notice_says_so(profile: Path, tmp_path: Path, capsys) -> None:
    visit_id = _visit_with_notice(())
    assert main(["notice", visit_id, "--pdf", str(tmp_path / "n.pdf")]) == 1
    assert "没有整改通知书" in capsys.readouterr().err
    assert not (tmp_path / "n.pdf").exists()


def _fieldkit(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command, as a technician types it in a shell."""
    return subprocess.run(
        [sys.executable, "-m", "fieldkit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def test_notice_takes_the_short_id_as_the_app_shows_it(profile: Path, tmp_path: Path) -> None:
    visit_id = _visit_with_notice(("撤除微信个人收款码",))
    shown = f"#{visit_id[:8].upper()}"  # the visit's line in the app, and README's example
    for typed in (shown, f" {shown} ", f"# {visit_id[:8]}"):
        out = tmp_path / "n.pdf"
        done = _fieldkit("notice", typed, "--pdf", str(out))
        assert done.returncode == 0, done.stderr
        assert "撤除微信个人收款码" in pdf_texts(out.read_bytes())[0]
        out.unlink()


def test_notice_for_an_unknown_short_id_says_it_in_plain_english(
    profile: Path, tmp_path: Path
) -> None:
    done = _fieldkit("notice", "#F51194C5", "--pdf", str(tmp_path / "n.pdf"))
    assert done.returncode == ExitCode.NOT_FOUND
    assert "本机没有走访以 #F51194C5 开头" in done.stderr
    assert "No visit on this device starts with #F51194C5" in done.stderr


@POSIX_ONLY
def test_qr_says_it_is_writing_first_and_names_the_institution_alike(
    profile: Path, tmp_path: Path
) -> None:
    import pty

    out = tmp_path / "code.pdf"
    leader, follower = pty.openpty()  # stderr on a terminal, as when a technician types it
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "fieldkit",
                "qr",
                "JG4307020001",
                "--pdf",
                str(out),
                "--size",
                "a6",
            ],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
            env=dict(os.environ),
        )
        os.close(follower)
        said = b""
        while chunk := _read_some(leader):
            said += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    told = said.decode()
    assert "正在生成" in told and "writing" in told and f"{NAMES[0]}, JG4307020001" in told
    assert done.stdout.strip() == (
        f"已保存 {out}（{NAMES[0]}，JG4307020001，a6）/ saved {out} ({NAMES[0]}, JG4307020001, a6)"
    )
    piped = _fieldkit("qr", "JG4307020001", "--pdf", str(out))  # stderr to a file: no progress
    assert piped.returncode == 0 and piped.stderr == ""


def _read_some(fd: int) -> bytes:
    """What the terminal received, b'' once the writer is gone."""
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the other end is closed
        return b""
