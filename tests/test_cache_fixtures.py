"""Small hand-built institutions for the cache tests (valid credit codes), and checks of the fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cache import Store
from fieldkit import domain

# name, pinyin, initials, division, address, contact name, contact phone
ROWS = (
    (
        "长沙星辰教育",
        "changshaxingchenjiaoyu",
        "csxcjy",
        "430102",
        "芙蓉区五一大道18号",
        "王伟",
        "13807310001",
    ),
    (
        "长沙博雅书法",
        "changshaboyashufa",
        "csbysf",
        "430104",
        "岳麓区麓山南路9号",
        "李娜",
        "13907310002",
    ),
    (
        "常德星火美术",
        "changdexinghuomeishu",
        "cdxhms",
        "430702",
        "武陵区人民路66号",
        "张敏",
        "15807360003",
    ),
    (
        "武陵启航英语",
        "wulingqihangyingyu",
        "wlqhyy",
        "430702",
        "武陵区朗州路3号",
        "刘洋",
        "18607360004",
    ),
    (
        "鼎城小天鹅舞蹈",
        "dingchengxiaotianewudao",
        "dcxtewd",
        "430703",
        "鼎城区善卷路20号",
        "陈静",
        "17307360005",
    ),
    (
        "株洲乐知编程",
        "zhuzhoulezhibiancheng",
        "zzlzbc",
        "430202",
        "荷塘区新华路5号",
        "杨磊",
        "13607330006",
    ),
    (
        "衡阳书香阅读",
        "hengyangshuxiangyuedu",
        "hysxyd",
        "430405",
        "珠晖区东风路7号",
        "黄丽",
        "13507340007",
    ),
    (
        "湘潭弈道围棋",
        "xiangtanyidaoweiqi",
        "xtydwq",
        "430302",
        "雨湖区建设路12号",
        "赵强",
        "13307320008",
    ),
)


def uscc(serial: int, division: str) -> str:
    """A valid 18-character credit code for a test institution."""
    first17 = f"52{division}MJ{serial:07d}"
    return first17 + domain.uscc_check_char(first17)


def institution(n: int) -> dict[str, Any]:
    """The wire dict of fixture institution n (1-based)."""
    name, pinyin, initials, division, address, contact, phone = ROWS[n - 1]
    return {
        "id": f"JG{division}{n:04d}",
        "name": name,
        "uscc": uscc(n, division),
        "licence_no": f"教民{division}{n:06d}号",
        "division_code": division,
        "address": address,
        "contact_name": contact,
        "contact_phone": phone,
        "kind": domain.ACADEMIC if n % 3 == 0 else domain.NON_ACADEMIC,
        "pinyin": pinyin,
        "initials": initials,
        "bank_status": "pending",
        "bank_reason": None,
        "payment": None,
        "orders": n,
        "order_amount_fen": n * 10_000,
    }


def institutions() -> list[dict[str, Any]]:
    """All fixture institutions."""
    return [institution(n) for n in range(1, len(ROWS) + 1)]


def steps_for(inst_id: str, done: int = 0, blocked: str | None = None) -> list[dict[str, Any]]:
    """Eleven step rows: the first `done` steps done (in checklist order), optionally one blocked."""
    rows = []
    for i, key in enumerate(domain.STEP_KEYS):
        status, reason = (domain.DONE, None) if i < done else (domain.TODO, None)
        if key == blocked:
            status, reason = domain.BLOCKED, "负责人不在 / manager away"
        rows.append({"institution_id": inst_id, "step": key, "status": status, "reason": reason})
    return rows


def load(
    store: Store, progress: dict[int, int] | None = None, blocked: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    """Bulk-load the fixtures: `progress` maps n to steps done, `blocked` n to a blocked step."""
    insts = institutions()
    steps: list[dict[str, Any]] = []
    for n, inst in enumerate(insts, 1):
        steps += steps_for(inst["id"], (progress or {}).get(n, 0), (blocked or {}).get(n))
    store.bulk_load(insts, steps)
    return insts


def open_loaded(path: Path) -> Store:
    """A fresh cache at `path` with the fixture institutions loaded, all steps todo."""
    s = Store.open(path)
    load(s)
    return s


def test_fixture_credit_codes_are_valid() -> None:
    for inst in institutions():
        assert domain.validate_uscc(inst["uscc"]) == inst["uscc"]


def test_fixture_divisions_and_phones_are_valid() -> None:
    for inst in institutions():
        domain.validate_division(inst["division_code"])
        domain.validate_mobile(inst["contact_phone"])
