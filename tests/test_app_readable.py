"""Every verdict and error readable in full at 80 columns, in Chinese and English: wrapped whole,
never cut; the status bar's parts apart."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.text import Text

from screens.widgets.status_bar import StatusView, render_status
from screens.widgets.wrapped import wrap_text

VERDICT_ZH = (
    "✗ 不是该机构的监管收款码：这是另一家机构的监管收款码：武陵童画舞蹈培训学校（平台编号 "
    "JG4307020002），校验码正确。家长付款将进入该机构的监管账户，而不是本机构的。"
)
VERDICT_EN = (
    "✗ Not the institution's supervised code: a WeChat Pay personal collection code "
    "(wxp://f2f0abcdefghijklmnopqrstuvwxyz0123456789). Money paid with it does not go into "
    "the supervised account."
)


@pytest.mark.parametrize("text", [VERDICT_ZH, VERDICT_EN])
@pytest.mark.parametrize("width", [20, 38, 78])
def test_a_verdict_wraps_whole_at_any_width(text: str, width: int) -> None:
    lines = wrap_text(Text(text, "bold red"), width)
    assert all(cell_len(line.plain) <= width for line in lines)
    assert "".join(line.plain for line in lines).replace(" ", "") == text.replace(" ", "")
    assert lines[0].plain.startswith("✗ 不是" if text is VERDICT_ZH else "✗ Not")  # never alone
    assert all(not line.plain.startswith(("，", "。", "）", "：")) for line in lines)
    assert all(line.style == "bold red" or line.spans for line in lines if line.plain)


def test_latin_words_are_not_broken_unless_longer_than_the_line() -> None:
    lines = [line.plain for line in wrap_text(Text(VERDICT_EN), 40)]
    assert "does not go" in " ".join(lines) and "into the supervised account." in lines[-1]
    assert all(len(line) <= 40 for line in lines)
    assert any(line.startswith("(wxp://") for line in lines)  # the link starts a line, then folds


@pytest.mark.parametrize(
    ("lang", "offline", "unsent"),
    [("zh", "● 离线", "未发送 3"), ("en", "● offline", "unsent 3")],
)
def test_the_status_bar_keeps_offline_and_the_unsent_count_apart(
    lang: str, offline: str, unsent: str
) -> None:
    view = StatusView("张伟（演示）", configured=True, online=False, unsent=3, rejected=1)
    line = render_status(view, lang)
    plain = line.plain
    assert f"{offline}  {unsent}" in plain and cell_len(plain) <= 80
    gap = plain.index(unsent) - 2
    styled = [(span.start, span.end) for span in line.spans]
    assert not any(start <= gap < end for start, end in styled)  # the gap is no styled word's part
