"""Small pieces of the screens: times in the user's zone, bars and cells measured in terminal cells."""

from __future__ import annotations

from datetime import timedelta, timezone

from rich.cells import cell_len

from screens.widgets.progress import progress_parts
from screens.widgets.status_bar import StatusView, render_status, short_time
from screens.widgets.virtual_table import fit

CST = timezone(timedelta(hours=8))


def test_last_sync_is_shown_in_the_users_zone() -> None:
    assert short_time("2026-11-28T01:15:00+00:00", CST) == "11-28 09:15"
    line = render_status(
        StatusView(
            technician="李娜",
            configured=True,
            online=True,
            unsent=2,
            last_success="2026-11-28T01:15:00+00:00",
        ),
        "zh",
        CST,
    )
    assert line.plain == " 李娜 ● 在线  未发送 2  被拒 0  上次同步 11-28 09:15"


def test_offline_and_sending_are_said_in_english() -> None:
    line = render_status(
        StatusView(configured=True, online=False, sending=True, rejected=1), "en", CST
    )
    assert line.plain == "● offline  sending…  unsent 0  rejected 1  never synced"


def test_progress_bar_is_always_the_same_width() -> None:
    widths = {sum(cell_len(t) for t, _ in progress_parts(done, 11, 5)) for done in range(12)}
    assert widths == {11}


def test_chinese_cells_are_cut_and_padded_by_terminal_cells() -> None:
    cut = fit([("长沙星辰素质教育培训学校", "")], 10)
    assert "".join(t for t, _ in cut) == "长沙星辰… "  # no wide character halved; the pad after "…"
    assert sum(cell_len(t) for t, _ in cut) == 10
    padded = fit([("武陵区", "")], 8)
    assert "".join(t for t, _ in padded) == "武陵区  "
