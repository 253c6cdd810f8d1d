"""The checklist: eleven steps, who sets them, prerequisites, blocking, reopening, full process."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain import (
    BLOCKED,
    DONE,
    FULL_PROCESS_STEPS,
    IN_PROGRESS,
    SERVER,
    STATUSES,
    STEP_KEYS,
    STEPS,
    STEPS_BY_KEY,
    TECHNICIAN,
    TODO,
    TransitionError,
    check_transition,
    dependents,
    done_count,
    is_full_process,
    next_step,
    step,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

NEEDS = {
    "registered": (),
    "qualification": ("registered",),
    "personnel": ("registered",),
    "courses": ("registered",),
    "account": ("registered",),
    "bank_verified": ("account",),
    "payment_enabled": ("bank_verified",),
    "first_purchase": ("payment_enabled",),
    "first_consumption": ("first_purchase",),
    "refund_flow": ("payment_enabled",),
    "parent_app": ("registered",),
}


def all_done() -> dict[str, str]:
    return {key: DONE for key in STEP_KEYS}


def ancestors(key: str) -> set[str]:
    """Every step that must be done before `key`, directly or not."""
    found: set[str] = set()
    for need in NEEDS[key]:
        found |= {need} | ancestors(need)
    return found


def refused(
    statuses: dict[str, str],
    key: str,
    status: str,
    reason: str | None = None,
    actor: str = TECHNICIAN,
) -> TransitionError:
    with pytest.raises(TransitionError) as info:
        check_transition(statuses, key, status, reason, actor)
    err = info.value
    assert CJK.search(err.zh) and re.search(r"[A-Za-z]{4,}", err.en)
    assert err.field
    return err


def test_the_eleven_steps_in_order_with_their_prerequisites() -> None:
    assert STEP_KEYS == tuple(NEEDS)
    assert {s.key: s.needs for s in STEPS} == NEEDS
    assert [s.key for s in STEPS if s.set_by == SERVER] == ["bank_verified"]
    assert FULL_PROCESS_STEPS == (
        "payment_enabled",
        "first_purchase",
        "first_consumption",
        "refund_flow",
    )


@pytest.mark.parametrize("key", STEP_KEYS)
def test_each_step_has_names_and_guidance_in_both_languages(key: str) -> None:
    s = step(key)
    assert CJK.search(s.name("zh")) and re.search(r"[A-Za-z]", s.name("en"))
    for lang in ("zh", "en"):
        g = s.guidance(lang)
        assert g.check and g.collect and g.pitfalls
    assert CJK.search(s.guidance("zh").pitfalls)
    assert not CJK.search(s.guidance("en").pitfalls)


def test_unknown_step_and_status_are_refused() -> None:
    err = refused({}, "fly", DONE)
    assert (err.code, err.field) == ("unknown_step", "step")
    assert "fly" in err.zh and "fly" in err.en
    err = refused({}, "registered", "finished")
    assert (err.code, err.field) == ("unknown_status", "status")
    assert "in_progress" in err.zh and "blocked" in err.en


@pytest.mark.parametrize("key", [k for k in STEP_KEYS if NEEDS[k]])
def test_done_needs_every_direct_prerequisite(key: str) -> None:
    statuses = {k: DONE for k in ancestors(key)}
    actor = SERVER if key == "bank_verified" else TECHNICIAN
    check_transition(statuses, key, DONE, actor=actor)
    for need in NEEDS[key]:
        for not_done in (TODO, IN_PROGRESS, BLOCKED):
            err = refused({**statuses, need: not_done}, key, DONE, actor=actor)
            assert (err.code, err.field) == ("prerequisite", "status")
            assert STEPS_BY_KEY[need].zh in err.zh and STEPS_BY_KEY[need].en in err.en


def test_a_missing_prerequisite_counts_as_todo() -> None:
    err = refused({}, "qualification", DONE)
    assert "平台注册" in err.zh and "Platform registration" in err.en
    check_transition({}, "registered", DONE)


@pytest.mark.parametrize("key", STEP_KEYS)
def test_any_step_may_be_started_or_blocked_before_its_prerequisites(key: str) -> None:
    actor = SERVER if key == "bank_verified" else TECHNICIAN
    check_transition({}, key, IN_PROGRESS, actor=actor)
    check_transition({}, key, TODO, actor=actor)
    check_transition({}, key, BLOCKED, "机构负责人不在", actor=actor)


@pytest.mark.parametrize("status", STATUSES)
def test_only_the_server_sets_bank_verified(status: str) -> None:
    statuses = {"registered": DONE, "account": DONE}
    err = refused(statuses, "bank_verified", status, "银行退回")
    assert (err.code, err.field) == ("server_owned", "step")
    assert "服务器" in err.zh and "server" in err.en
    check_transition(statuses, "bank_verified", status, "银行退回", actor=SERVER)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_blocked_needs_a_reason(reason: str | None) -> None:
    err = refused({"registered": DONE}, "account", BLOCKED, reason)
    assert (err.code, err.field) == ("reason_required", "reason")
    assert "原因" in err.zh and "reason" in err.en
    check_transition({"registered": DONE}, "account", BLOCKED, "未开立监管账户")


@pytest.mark.parametrize("key", [k for k in STEP_KEYS if k != "bank_verified"])
@pytest.mark.parametrize("status", [TODO, IN_PROGRESS, BLOCKED])
def test_reopening_a_step_whose_dependents_are_done_is_refused(key: str, status: str) -> None:
    statuses = all_done()
    if dependents(key):
        err = refused(statuses, key, status, "重新核查")
        assert (err.code, err.field) == ("has_dependents", "status")
        for d in dependents(key):
            assert STEPS_BY_KEY[d].zh in err.zh and STEPS_BY_KEY[d].en in err.en
    else:
        check_transition(statuses, key, status, "重新核查")


def test_reopening_is_allowed_once_dependents_are_reopened() -> None:
    statuses = all_done()
    refused(statuses, "payment_enabled", IN_PROGRESS)
    for d in ("first_consumption", "first_purchase", "refund_flow"):
        check_transition(statuses, d, IN_PROGRESS)
        statuses[d] = IN_PROGRESS
    check_transition(statuses, "payment_enabled", IN_PROGRESS)


def test_the_server_may_reopen_bank_verified_only_when_payment_is_not_done() -> None:
    statuses = all_done()
    err = refused(statuses, "bank_verified", BLOCKED, "账户被冻结", actor=SERVER)
    assert err.code == "has_dependents" and "支付开通" in err.zh
    statuses.update({k: TODO for k in FULL_PROCESS_STEPS})
    check_transition(statuses, "bank_verified", BLOCKED, "账户被冻结", actor=SERVER)


def test_dependents_lists_the_direct_dependents() -> None:
    assert set(dependents("registered")) == {
        "qualification",
        "personnel",
        "courses",
        "account",
        "parent_app",
    }
    assert set(dependents("payment_enabled")) == {"first_purchase", "refund_flow"}
    assert dependents("first_consumption") == ()


def test_full_process_needs_all_four_steps() -> None:
    statuses = all_done()
    assert is_full_process(statuses)
    for key in FULL_PROCESS_STEPS:
        for status in (TODO, IN_PROGRESS, BLOCKED):
            assert not is_full_process({**statuses, key: status})
    only_four = {k: DONE for k in FULL_PROCESS_STEPS}
    assert is_full_process(only_four)
    assert not is_full_process({})


def test_done_count_and_next_step() -> None:
    first = next_step({})
    assert done_count({}) == 0 and first is not None and first.key == "registered"
    statuses = {"registered": DONE, "qualification": DONE, "personnel": BLOCKED}
    assert done_count(statuses) == 2
    following = next_step(statuses)
    assert following is not None and following.key == "personnel"
    assert done_count(all_done()) == 11 and next_step(all_done()) is None


@given(st.lists(st.tuples(st.sampled_from(STEP_KEYS), st.sampled_from(STATUSES)), max_size=60))
def test_accepted_transitions_keep_the_checklist_consistent(moves: list[tuple[str, str]]) -> None:
    statuses: dict[str, str] = {}
    for key, status in moves:
        actor = SERVER if key == "bank_verified" else TECHNICIAN
        try:
            check_transition(statuses, key, status, "原因", actor)
        except TransitionError:
            continue
        statuses[key] = status
        for k, s in statuses.items():
            if s == DONE:
                assert all(statuses.get(n) == DONE for n in NEEDS[k])
