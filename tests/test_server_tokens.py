"""Tokens under the office's control: technicians listed, revoked, rotated; the refused-token limit
slows an address, never a valid token; X-Forwarded-For believed only from named proxies."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fieldkit import cli, domain
from fieldkit.sync import SyncError
from tests.live_server import LiveServer, admin, free_port, small_office, token_from
from tests.test_sync_office import RealOffice, connect, disconnect, visit


def me(url: str, token: str, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return httpx.get(url + "/api/v1/me", headers=headers)


def test_technicians_lists_zone_role_state_last_seen_and_devices(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    code, out = admin(built.db, "technicians")
    assert code == 0 and "T0001  李明  430702 常德市武陵区" in out and "从未/never" in out
    with LiveServer(built.db) as server:
        assert me(server.url, built.tokens["tech_a"]).status_code == 200
        clock = domain.HLC("laptop-1")
        from tests.live_server import make_op, visit_data

        for device in ("laptop-1", "laptop-2"):
            httpx.post(
                server.url + "/api/v1/sync/push",
                headers=built.headers("tech_a"),
                json={
                    "client_id": device,
                    "ops": [make_op("visit.create", built.wuling[0], visit_data(), clock)],
                },
            ).raise_for_status()
    assert admin(built.db, "revoke", "T0002")[0] == 0
    code, out = admin(built.db, "technicians")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "有效/active" in lines["T0001"] and lines["T0001"].endswith("  2")
    assert "从未/never" not in lines["T0001"]  # seen just now
    assert "已停用/revoked" in lines["T0002"] and "主管/supervisor" in lines["T0003"]


def test_a_revoked_token_is_told_so_in_words_and_others_go_on(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    code, out = admin(built.db, "revoke", "t0001")
    assert code == 0 and "T0001" in out and "未发送的更改保留" in out and "unsent work" in out
    with LiveServer(built.db) as server:
        answer = me(server.url, built.tokens["tech_a"])
        assert answer.status_code == 401 and answer.json()["error"] == "token_revoked"
        assert "停用" in answer.json()["message"] and "revoked" in answer.json()["message"]
        assert "fieldkit login" in answer.json()["message"]
        assert me(server.url, built.tokens["tech_b"]).status_code == 200
        nobody = me(server.url, "fk_never_issued")
        assert nobody.json()["error"] == "unauthorized"  # a guess learns nothing of revocations


def test_rotate_prints_a_new_token_once_and_the_old_one_is_told_why(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    code, out = admin(built.db, "rotate", "T0001")
    assert code == 0 and "只显示这一次" in out
    new = token_from(out)
    with LiveServer(built.db) as server:
        old = me(server.url, built.tokens["tech_a"])
        assert old.status_code == 401 and "new token" in old.json()["message"]
        assert me(server.url, new).json()["id"] == "T0001"
    assert new not in admin(built.db, "technicians")[1]


@pytest.mark.parametrize("action", ["revoke", "rotate"])
def test_revoke_or_rotate_of_nobody_says_how_to_find_the_id(tmp_path: Path, action: str) -> None:
    built = small_office(tmp_path)
    code, out = admin(built.db, action, "T0099")
    assert code == 4 and "T0099" in out and "fieldkit server technicians" in out


async def test_a_revoked_laptop_keeps_its_work_and_a_new_login_sends_it(tmp_path: Path) -> None:
    real = RealOffice(tmp_path, institutions=3)
    li = real.add("李娜")
    real.assign(li, real.ids)
    with LiveServer(real.db) as server:
        await connect(li, server.url)
        assert li.client and li.store
        await li.client.run_round()
        li.store.create_visit(visit(li, real.ids[0], 1, "撤销前的走访"))
        assert admin(real.db, "revoke", li.id)[0] == 0
        with pytest.raises(SyncError) as refused:
            await li.client.run_round()
        said = str(refused.value)
        assert "停用" in said and "revoked" in said and "unsent" in said.lower()
        assert len(li.store.pending_ops(10)) == 1 and real.visit_ids() == []
        code, out = admin(real.db, "rotate", li.id)
        li.token = token_from(out)
        await disconnect(li)
        await connect(li, server.url)  # the same technician logs in again on the same laptop
        await li.client.run_round()
        assert li.store.pending_ops(10) == [] and real.visit_ids() == [f"{li.id}-v1"]
    await disconnect(li)


def test_a_valid_token_gets_in_after_25_bad_ones_from_its_address(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    with LiveServer(built.db) as server:
        answers = [me(server.url, f"fk_guess_{n}").status_code for n in range(25)]
        assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}
        assert me(server.url, built.tokens["tech_a"]).status_code == 200
        assert me(server.url, built.tokens["city_supervisor"]).status_code == 200
        assert me(server.url, "fk_guess_26").status_code == 429  # the guesser still waits


def test_forwarded_for_is_believed_only_from_a_named_proxy(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    with LiveServer(built.db) as server:  # no proxy named: the header is anyone's to write
        for n in range(20):
            me(server.url, f"fk_guess_{n}", forwarded_for=f"10.9.9.{n}")
        assert me(server.url, "fk_guess", forwarded_for="10.0.0.6").status_code == 429
    with LiveServer(built.db, forwarded_allow_ips="127.0.0.1") as server:  # the office's proxy
        for n in range(20):
            me(server.url, f"fk_guess_{n}", forwarded_for="10.0.0.5")
        assert me(server.url, "fk_guess", forwarded_for="10.0.0.5").status_code == 429
        assert me(server.url, "fk_guess", forwarded_for="10.0.0.6").status_code == 401
        assert me(server.url, built.tokens["tech_a"], forwarded_for="10.0.0.5").status_code == 200


def test_several_processes_on_sqlite_are_refused_with_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = small_office(tmp_path)
    code = cli.main(["serve", "--db", str(built.db), "--workers", "2", "--port", str(free_port())])
    err = capsys.readouterr().err
    assert code == 2 and "PostgreSQL" in err and "一个服务器进程" in err
