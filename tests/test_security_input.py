"""Hostile input: oversized, deep or broken bodies and text are refused or stored safely, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from fieldkit import domain
from tests.live_server import (
    INSTITUTION_HEADER,
    LiveServer,
    SmallOffice,
    admin,
    institution_line,
    make_op,
    small_office,
    visit_data,
    write_csv,
)

PUSH = "/api/v1/sync/push"


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmallOffice, str]]:
    """The small office served under uvicorn for the whole module."""
    built = small_office(tmp_path_factory.mktemp("input"))
    with LiveServer(built.db) as server:
        yield built, server.url


def op(kind: str, institution: str, data: dict[str, Any]) -> dict[str, Any]:
    return make_op(kind, institution, data, domain.HLC("hostile"))


def step(institution: str, name: str, status: str, note: Any = None) -> dict[str, Any]:
    return op(
        "step.set", institution, {"step": name, "status": status, "reason": None, "note": note}
    )


def visit(institution: str, notes: Any, **more: Any) -> dict[str, Any]:
    return op("visit.create", institution, visit_data(notes, **more))


def post_raw(office: tuple[SmallOffice, str], body: bytes | Iterator[bytes]) -> httpx.Response:
    built, url = office
    return httpx.post(
        url + PUSH,
        content=body,
        timeout=30,
        headers=built.headers("tech_a") | {"Content-Type": "application/json"},
    )


def push(office: tuple[SmallOffice, str], ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = post_raw(office, json.dumps({"client_id": "hostile", "ops": ops}).encode())
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def detail(office: tuple[SmallOffice, str], institution: str) -> dict[str, Any]:
    built, url = office
    return httpx.get(
        f"{url}/api/v1/institutions/{institution}", headers=built.headers("tech_a")
    ).json()


def assert_json_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == code
    zh, en = body["message"].split(" / ", 1)
    assert zh and en


# --- bodies -------------------------------------------------------------------------------------
def test_an_oversized_body_is_413_whether_declared_or_streamed(
    office: tuple[SmallOffice, str],
) -> None:
    marker = step("JG4307020001", "registered", "done")
    declared = json.dumps({"client_id": "hostile", "ops": [marker]}) + " " * (3 * 1024 * 1024)
    assert_json_error(post_raw(office, declared.encode()), 413, "too_large")
    streamed = (
        chunk
        for chunk in [json.dumps({"client_id": "hostile", "ops": [marker]})[:-1].encode()]
        + [b" " * 65536] * 40
    )
    assert_json_error(post_raw(office, streamed), 413, "too_large")
    assert push(office, [marker])[0]["status"] == "applied"  # it was never applied before


def test_a_batch_over_the_limit_is_413_and_applies_nothing(office: tuple[SmallOffice, str]) -> None:
    ops = [visit("JG4307020002", f"第{i}次") for i in range(501)]
    answer = post_raw(office, json.dumps({"client_id": "hostile", "ops": ops}).encode())
    assert_json_error(answer, 413, "batch_too_large")
    assert not {v["visit_id"] for v in detail(office, "JG4307020002")["visits"]} & {
        o["data"]["visit_id"] for o in ops
    }


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"client_id":"x","ops":[{"data":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}]}",
        b"\xff\xfe\x00{not utf-8",
        b'{"client_id":"x","ops":[{"op_id":"a","hlc":"\xed\xa0\x80","kind":"k","institution_id":"i",'
        b'"data":{}}]}',
        b'{"client_id": "x", "ops": [',
        b"",
    ],
)
def test_unreadable_bodies_are_422_naming_the_body(
    office: tuple[SmallOffice, str], body: bytes
) -> None:
    answer = post_raw(office, body)
    assert_json_error(answer, 422, "invalid")
    assert answer.json()["field"] in ("body", "ops.0.hlc", "ops")


# --- op data ------------------------------------------------------------------------------------
def nested(depth: int) -> Any:
    value: Any = "底"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"step": "registered", "status": "done", "note": nested(40)}, "nested"),
        ({"step": "registered", "status": "done"} | {f"k{i}": i for i in range(3000)}, "values"),
        ({"step": "registered", "status": "done", "note": "\ud800"}, "Unicode"),
        ({"step": "registered", "status": "done", "note": "a\x00b"}, "NUL"),
        ({"step": "registered", "status": "done", "note": "长" * 2001}, "2000"),
    ],
)
def test_hostile_op_data_is_rejected_alone_and_writes_nothing(
    office: tuple[SmallOffice, str], data: dict[str, Any], words: str
) -> None:
    before = step("JG4307020003", "parent_app", "in_progress")
    bad = op("step.set", "JG4307020003", data)
    after = visit("JG4307020003", "之后的走访")
    results = push(office, [before, bad, after])
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"] == "invalid" and words in results[1]["message"]
    steps = {s["step"]: s for s in detail(office, "JG4307020003")["steps"]}
    assert steps["registered"]["status"] == "todo"


@pytest.mark.parametrize("kind", ["visit.create", "visit.amend"])
@pytest.mark.parametrize("visit_id", ["\ud800x", "a\x00b"])
def test_a_visit_id_no_store_can_hold_is_rejected_not_a_500(
    office: tuple[SmallOffice, str], kind: str, visit_id: str
) -> None:
    [result] = push(office, [op(kind, "JG4307020001", {"visit_id": visit_id, "notes": "x"})])
    assert result["status"] == "rejected" and result["reason"] == "invalid"


@pytest.mark.parametrize("hlc", ["001764300000000-0000-p\x01c", "\x00"])
def test_an_hlc_no_store_can_hold_is_rejected_not_a_500(
    office: tuple[SmallOffice, str], hlc: str
) -> None:
    sent = op("step.set", "JG4307020003", {"step": "registered", "status": "done"})
    [result] = push(office, [sent | {"hlc": hlc}])
    assert result["status"] == "rejected" and result["reason"] == "invalid"
    assert push(office, [sent | {"hlc": hlc}])[0]["status"] == "rejected"  # same answer again


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_numbers_json_cannot_carry_are_rejected(
    office: tuple[SmallOffice, str], number: bytes
) -> None:
    sent = op("poster.printed", "JG4307020001", {"size": "a4", "payload_sha256": "a" * 64})
    raw = json.dumps({"client_id": "hostile", "ops": [sent]}).encode()
    raw = raw.replace(b'"size"', b'"copies": ' + number + b', "size"')
    answer = post_raw(office, raw)
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    assert result["status"] == "rejected" and result["reason"] == "invalid"
    assert all(
        r.get("copies") is None or isinstance(r["copies"], int)
        for r in detail(office, "JG4307020001")["records"]
    )


def test_visit_text_over_the_limit_is_rejected_and_a_long_one_round_trips(
    office: tuple[SmallOffice, str],
) -> None:
    too_long = visit("JG4307020001", "记" * 10_001)
    too_many = visit("JG4307020001", "问题太多", issues=["门口无码"] * 2500)
    long_ok = visit("JG4307020001", "记录" * 4_500, issues=["前台张贴个人收款码"] * 50)
    results = push(office, [too_long, too_many, long_ok])
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    stored = {v["visit_id"]: v for v in detail(office, "JG4307020001")["visits"]}
    assert too_long["data"]["visit_id"] not in stored
    assert stored[long_ok["data"]["visit_id"]]["notes"] == "记录" * 4_500


TRICKY = "备注\x1b[31m红字\x07\u202e倒序\u200b\t制表\r\n换行 <b>[bold]x[/] '; DROP TABLE visits;--"


def test_control_characters_in_notes_and_reasons_come_back_identical(
    office: tuple[SmallOffice, str],
) -> None:
    built, url = office
    sent = visit("JG4307020002", TRICKY, issues=[TRICKY])
    blocked = op(
        "step.set",
        "JG4307020002",
        {"step": "registered", "status": "blocked", "reason": TRICKY, "note": TRICKY},
    )
    assert [r["status"] for r in push(office, [sent, blocked])] == ["applied", "applied"]
    changes = httpx.get(
        url + "/api/v1/sync/pull", headers=built.headers("tech_a"), params={"limit": 10000}
    ).json()["changes"]
    by_id = {c["id"]: c["data"] for c in changes}
    assert by_id[sent["data"]["visit_id"]]["notes"] == TRICKY
    assert by_id[sent["data"]["visit_id"]]["issues"] == [TRICKY]
    assert by_id["JG4307020002:registered"]["reason"] == TRICKY
    assert by_id["JG4307020002:registered"]["note"] == TRICKY


@pytest.mark.parametrize("name", ["张\x1b三", "李\x00四", "王" * 65, "   "])
def test_contact_names_with_control_characters_or_too_long_are_refused(
    office: tuple[SmallOffice, str], name: str
) -> None:
    before = detail(office, "JG4307020001")["institution"]["contact_name"]
    [result] = push(office, [op("contact.set", "JG4307020001", {"contact_name": name})])
    assert result["status"] == "rejected" and result["reason"] == "invalid"
    assert detail(office, "JG4307020001")["institution"]["contact_name"] == before


# --- CSV imports --------------------------------------------------------------------------------
def _institutions() -> list[str]:
    return [
        INSTITUTION_HEADER,
        institution_line("常德星辰教育培训学校", 1, "430702"),
        institution_line("武陵区童趣美术培训中心", 2, "430702"),
    ]


@pytest.mark.parametrize(
    ("replace", "reason"),
    [
        (("常德星辰", "常德\x1b星辰"), "control characters"),
        (("常德星辰", "常德\x00星辰"), "control characters"),
        (("常德星辰", "长" * 101 + "常德星辰"), "over 100 characters"),
        (("人民路1号", "人民路1号" + "号" * 300), "over 200 characters"),
    ],
)
def test_csv_cells_with_control_characters_or_too_long_reject_the_line(
    tmp_path: Path, replace: tuple[str, str], reason: str
) -> None:
    db = tmp_path / "office.sqlite"
    assert admin(db, "init")[0] == 0
    lines = _institutions()
    lines[1] = lines[1].replace(*replace)
    code, out = admin(db, "import-institutions", str(write_csv(tmp_path / "in.csv", lines)))
    assert code != 0
    assert "line 2:" in out and reason in out and "nothing was imported" in out
    assert "line 3:" not in out
    assert _count(db) == 0


def test_a_line_break_typed_in_a_csv_cell_becomes_a_space(tmp_path: Path) -> None:
    db = tmp_path / "office.sqlite"
    assert admin(db, "init")[0] == 0
    lines = _institutions()
    lines[1] = (
        lines[1]
        .replace("人民路1号", '"人民路\r\n1号"')
        .replace("湖南省", '"湖南省', 1)
        .replace('"人民路', "人民路")
    )
    code, out = admin(db, "import-institutions", str(write_csv(tmp_path / "in.csv", lines)))
    assert code == 0, out
    with LiveServer(db) as server:
        token = _supervisor(db)
        answer = httpx.get(
            server.url + "/api/v1/institutions/JG4307020001",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.json()["institution"]["address"].endswith("人民路 1号")


def test_invalid_utf8_on_one_line_rejects_that_line_and_imports_nothing(tmp_path: Path) -> None:
    db = tmp_path / "office.sqlite"
    assert admin(db, "init")[0] == 0
    raw = ("\r\n".join(_institutions()) + "\r\n").encode("utf-8")
    raw = raw.replace("童趣".encode(), b"\xff\xfe\xfd")
    (tmp_path / "in.csv").write_bytes(raw)
    code, out = admin(db, "import-institutions", str(tmp_path / "in.csv"))
    assert code != 0 and "line 3:" in out and "nothing was imported" in out
    assert _count(db) == 0


def _supervisor(db: Path) -> str:
    code, out = admin(db, "add-technician", "主管", "--zone", "430700", "--supervisor")
    assert code == 0
    return out.split("token: ", 1)[1].split()[0]


def _count(db: Path) -> int:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = int(conn.execute(text("SELECT count(*) FROM institutions")).scalar() or 0)
    engine.dispose()
    return found


def test_a_batch_with_one_malformed_op_is_422_and_applies_nothing(
    office: tuple[SmallOffice, str],
) -> None:
    good = visit("JG4307020002", "本该保存吗？")
    broken = step("JG4307020002", "registered", "done") | {"op_id": "空格 不行"}
    answer = post_raw(office, json.dumps({"client_id": "hostile", "ops": [good, broken]}).encode())
    assert_json_error(answer, 422, "invalid")
    assert answer.json()["field"] == "ops.1.op_id"
    assert good["data"]["visit_id"] not in {
        v["visit_id"] for v in detail(office, "JG4307020002")["visits"]
    }
