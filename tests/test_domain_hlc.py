"""The hybrid logical clock: monotonic stamps, remote stamps, text order, ties, wrong clocks."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain import HLC, Stamp, ValidationError, newer
from fieldkit.domain.hlc import MAX_COUNTER, MAX_DRIFT_MS

NOW = 1_795_000_000_000  # 2026-11-18 in ms


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, ms: int = NOW) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_stamp_text_shape() -> None:
    clock = HLC("laptop-a", wall=Wall())
    text = clock.now()
    assert text == f"{NOW:015d}-0000-laptop-a"
    assert Stamp.parse(text) == Stamp(NOW, 0, "laptop-a")


def test_same_millisecond_counts_up() -> None:
    clock = HLC("a", wall=Wall())
    stamps = [clock.now() for _ in range(3)]
    assert [Stamp.parse(s).counter for s in stamps] == [0, 1, 2]
    assert stamps == sorted(stamps)


def test_monotonic_when_the_wall_clock_goes_backwards() -> None:
    wall = Wall()
    clock = HLC("a", wall=wall)
    first = clock.now()
    wall.ms -= 3_600_000  # the laptop's clock is set back an hour
    second = clock.now()
    wall.ms -= 86_400_000
    third = clock.now()
    assert first < second < third
    assert Stamp.parse(third).ms == NOW
    wall.ms = NOW + 5
    assert clock.now() == f"{NOW + 5:015d}-0000-a"


def test_counter_overflow_carries_into_the_milliseconds() -> None:
    clock = HLC("a", last=f"{NOW:015d}-{MAX_COUNTER:04x}-a", wall=Wall(NOW - 10))
    assert clock.now() == f"{NOW + 1:015d}-0000-a"


def test_a_restarted_clock_continues_after_its_last_stamp() -> None:
    wall = Wall(NOW - 60_000)  # the clock is behind the stamp saved before the restart
    last = f"{NOW:015d}-0007-a"
    clock = HLC("a", last=last, wall=wall)
    assert clock.now() > last


def test_observing_a_remote_stamp_moves_past_it() -> None:
    clock = HLC("a", wall=Wall())
    remote = str(Stamp(NOW + 60_000, 5, "b"))  # another laptop, a minute ahead
    clock.observe(remote)
    mine = clock.now()
    assert newer(mine, remote)
    assert Stamp.parse(mine) == Stamp(NOW + 60_000, 6, "a")


def test_observing_an_older_stamp_changes_nothing() -> None:
    wall = Wall()
    clock = HLC("a", wall=wall)
    clock.now()
    clock.observe(str(Stamp(NOW - 1000, 9, "b")))
    assert clock.now() == f"{NOW:015d}-0001-a"


def test_absurd_future_stamps_are_ignored() -> None:
    clock = HLC("a", wall=Wall())
    clock.observe(str(Stamp(NOW + MAX_DRIFT_MS + 1, 0, "broken")))
    assert Stamp.parse(clock.now()).ms == NOW
    clock.observe(str(Stamp(NOW + MAX_DRIFT_MS, 0, "b")))  # at the limit it is believed
    assert Stamp.parse(clock.now()).ms == NOW + MAX_DRIFT_MS


def test_ties_are_broken_by_client_id() -> None:
    a = str(Stamp(NOW, 3, "aaa"))
    b = str(Stamp(NOW, 3, "bbb"))
    assert newer(b, a) and not newer(a, b)
    assert not newer(a, a)


def test_newer_with_missing_stamps() -> None:
    a = str(Stamp(NOW, 0, "a"))
    assert newer(a, None)
    assert not newer(None, a)
    assert not newer(None, None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1795000000000-0000-a",
        f"{NOW:015d}-00-a",
        f"{NOW:015d}-0000-",
        f"{NOW:015d}-00AB-a",
        f"{NOW:015d}-zzzz-a",
        "0000000000_0001-0000-a",
        f"{NOW:015d}-0000-a b",
        f"{NOW:015d}0000a",
    ],
)
def test_malformed_stamps_are_refused(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        Stamp.parse(text)
    assert info.value.field == "hlc"
    assert "时间戳" in info.value.zh and "HLC" in info.value.en
    with pytest.raises(ValidationError):
        HLC("a", wall=Wall()).observe(text)


def test_client_ids_with_spaces_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        HLC("laptop a")
    assert info.value.field == "client_id"


def test_stamps_from_many_threads_are_unique_and_increasing_per_thread() -> None:
    clock = HLC("a", wall=Wall())
    seen: list[list[str]] = []

    def work() -> None:
        mine = [clock.now() for _ in range(500)]
        seen.append(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [s for mine in seen for s in mine]
    assert len(set(every)) == 2000
    assert all(mine == sorted(mine) for mine in seen)


stamps = st.builds(
    Stamp,
    ms=st.integers(min_value=0, max_value=10**15 - 1),
    counter=st.integers(min_value=0, max_value=MAX_COUNTER),
    client_id=st.text(alphabet="0123456789abcdef-ABCXYZ_", min_size=1, max_size=12),
)


@given(stamps, stamps)
def test_text_order_is_stamp_order(a: Stamp, b: Stamp) -> None:
    assert (str(a) < str(b)) == (a < b)
    assert (str(a) == str(b)) == (a == b)
    assert newer(str(a), str(b)) == (a > b)


@given(stamps)
def test_text_round_trips(a: Stamp) -> None:
    assert Stamp.parse(str(a)) == a


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["now", "observe", "wall"]),
            st.integers(min_value=-(10**8), max_value=10**8),
        ),
        max_size=50,
    )
)
def test_every_stamp_is_greater_than_everything_issued_or_observed(
    moves: list[tuple[str, int]],
) -> None:
    wall = Wall()
    clock = HLC("me", wall=wall)
    highest: str | None = None
    for move, amount in moves:
        if move == "wall":
            wall.ms = max(0, wall.ms + amount)
        elif move == "observe":
            remote = str(Stamp(max(0, wall.ms + amount), abs(amount) % 50, "other"))
            clock.observe(remote)
            if amount <= MAX_DRIFT_MS:  # absurd stamps are ignored on purpose
                highest = max(highest or remote, remote)
        else:
            stamp = clock.now()
            assert highest is None or newer(stamp, highest)
            highest = stamp
