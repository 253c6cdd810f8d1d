"""Printing a visit's rectification notice (整改通知书) from the app, as `fieldkit notice` does.

The PDF goes to FIELDKIT_HOME/notices (beside the interview notices), rendered off the event
loop by the same code as the command (fieldkit.notices, with the visit's photos as annex pages);
the app then says where it is. A visit is named by its short id, as on its line in the visit list
and on the notice's annex, and `fieldkit notice SHORT_ID` finds the same visit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.message_pump import MessagePump

from fieldkit import paths

from .i18n import tr

if TYPE_CHECKING:
    from .app import FieldkitApp


class NoticeWriting(Message):
    """A visit's notice is being written (in a thread): say so until it is done."""


class NoticeWritten(Message):
    """A visit's notice was written, or why not: the words that say so."""

    def __init__(self, text: str, ok: bool) -> None:
        super().__init__()
        self.text, self.ok = text, ok


def short_id(visit_id: str) -> str:
    """The first eight characters of a visit id, as the user reads and types it."""
    return str(visit_id)[:8].upper()


def with_notice(visits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The visits (newest first, as the cache lists them) that issued a rectification notice."""
    return [v for v in visits if (v.get("rectification") or {}).get("items")]


def notice_path(visit: dict[str, Any]) -> Path:
    """Where the app writes a visit's notice."""
    name = f"整改通知书-{visit['institution_id']}-{short_id(visit['visit_id'])}.pdf"
    return paths.home() / "notices" / name


def choose_and_print(
    app: FieldkitApp, visits: list[dict[str, Any]], tell: MessagePump | None = None
) -> None:
    """Print the notice of the only visit that has one, or ask which when there are several;
    `tell` (the screen) hears NoticeWriting, then NoticeWritten."""
    lang = app.language
    candidates = with_notice(visits)
    if not candidates:
        app.notify(tr("notice.none", lang), severity="warning", timeout=8)
        return
    if len(candidates) == 1:
        print_notice(app, candidates[0], tell)
        return
    from .dialogs.pick import PickDialog

    by_id = {str(v["visit_id"]): v for v in candidates}
    options = [
        (
            tr(
                "notice.choice",
                lang,
                short=short_id(v["visit_id"]),
                when=(v.get("started_at") or "")[:10],
                n=len(v["rectification"]["items"]),
                deadline=v["rectification"].get("deadline") or "—",
            ),
            str(v["visit_id"]),
        )
        for v in candidates
    ]

    def picked(visit_id: str | None) -> None:
        if visit_id in by_id:
            print_notice(app, by_id[visit_id], tell)

    app.push_screen(PickDialog(tr("notice.pick", lang), options), picked)


def print_notice(app: FieldkitApp, visit: dict[str, Any], tell: MessagePump | None = None) -> None:
    """Write one visit's notice in a thread (the screen stays live, saying it is being written),
    then say where it is (or why it is not)."""
    if tell is None:
        app.notify(tr("notice.writing", app.language), timeout=3)
    else:
        tell.post_message(NoticeWriting())
    app.run_worker(
        lambda: _write(app, visit, tell), thread=True, group="notice-print", exit_on_error=False
    )


def _write(app: FieldkitApp, visit: dict[str, Any], tell: MessagePump | None) -> None:
    from fieldkit.cli.payment import KNOWN_ERRORS, export_notice

    lang, target = app.language, notice_path(visit)
    if app.store is None:
        return
    text, ok = "", False  # (an unexpected error: the worker reports it; the line is cleared)
    try:
        pages = export_notice(app.store, app.settings, visit, target, app.today())
    except (*KNOWN_ERRORS, OSError) as exc:
        why = exc.zh if lang == "zh" and hasattr(exc, "zh") else getattr(exc, "en", str(exc))
        text = tr("notice.failed", lang, why=why)
        app.call_from_thread(app.notify, text, severity="error", timeout=10)
    else:
        text, ok = tr("notice.saved", lang, pages=pages, path=str(target)), True
        app.call_from_thread(app.notify, text, timeout=15)
    finally:  # the "writing…" line never stays, whatever happened
        if tell is not None:
            tell.post_message(NoticeWritten(text, ok))
