"""End to end: the office signs a code, the technician prints and checks it, the records reach the office."""

from __future__ import annotations

from pathlib import Path

import httpx
from PIL import Image

from cache import Store
from fieldkit import config
from fieldkit.cli import main
from fieldkit.cli.exits import ExitCode
from tests.live_server import LiveServer, admin, make_uscc, small_office, write_csv
from tests.test_qr_fixtures import decode_qr

ACCOUNT = "43050338847530331111"


def test_posters_and_checks_reach_the_office(tmp_path: Path, capsys) -> None:
    office = small_office(tmp_path)
    bank = [
        "统一社会信用代码,核验结果,原因,监管账号",
        f"{make_uscc(1, '430702')},通过,,{ACCOUNT}",
        f"{make_uscc(2, '430702')},未通过,账户名称与机构名称不一致,",
    ]
    code, out = admin(office.db, "import-bank-results", str(write_csv(tmp_path / "bank.csv", bank)))
    assert code == 0, out
    token_file = tmp_path / "token.txt"
    token_file.write_text(office.tokens["tech_a"])
    with LiveServer(office.db) as server:
        assert main(["login", server.url, "--token-file", str(token_file)]) == 0
        assert main(["sync", "--quiet"]) == 0
        with Store.open(config.load("default").cache_path) as store:
            payload = store.institution("JG4307020001")["payment"]["payload"]

        card = tmp_path / "card.png"
        assert main(["qr", "JG4307020001", "--png", str(card), "--size", "a6"]) == 0
        with Image.open(card) as image:
            assert decode_qr(image) == [payload]
        zone = tmp_path / "zone.pdf"
        assert main(["posters", "--division", "430702", "--pdf", str(zone)]) == 0
        assert "账户名称与机构名称不一致" in capsys.readouterr().out
        assert main(["check-code", "JG4307020001", "--text", payload]) == 0
        assert (
            main(["check-code", "JG4307020001", "--text", "wxp://f2f0personal"])
            == ExitCode.MISMATCH
        )

        assert main(["sync", "--quiet"]) == 0
        with Store.open(config.load("default").cache_path) as store:
            assert store.counts()["unsent"] == 0 and store.counts()["rejected"] == 0
        stats = httpx.get(server.url + "/api/v1/stats", headers=office.headers("tech_a")).json()
    assert stats["posters_printed"] == 2  # the desk card and the zone's one printable page
    assert stats["qr_checks"] == 2 and stats["qr_mismatches"] == 1
