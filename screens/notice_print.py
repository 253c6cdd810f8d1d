"""Printing a visit's rectification notice (整改通知书) from the app, as `fieldkit notice` does.

The PDF goes to FIELDKIT_HOME/notices (beside the interview notices), rendered off the event
loop by the same code as the command (fieldkit.notices, with the visit's photos as annex pages);
the app then says where it is. A visit is named by its short id, as on its line in the visit list
and on the notice's annex, and `fieldkit notice SHORT_ID` finds the same visit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit import paths

from .i18n import tr

if TYPE_CHECKING:
    from .app import FieldkitApp


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


def choose_and_print(app: FieldkitApp, visits: list[dict[str, Any]]) -> None:
    """Print the notice of the only visit that has one, or ask which when there are several."""
    lang = app.language
    candidates = with_notice(visits)
    if not candidates:
        app.notify(tr("notice.none", lang), severity="warning", timeout=8)
        return
    if len(candidates) == 1:
        print_notice(app, candidates[0])
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
            print_notice(app, by_id[visit_id])

    app.push_screen(PickDialog(tr("notice.pick", lang), options), picked)


def print_notice(app: FieldkitApp, visit: dict[str, Any]) -> None:
    """Write one visit's notice in a thread, then say where it is (or why it is not)."""
    app.notify(tr("notice.writing", app.language), timeout=3)
    app.run_worker(
        lambda: _write(app, visit), thread=True, group="notice-print", exit_on_error=False
    )


def _write(app: FieldkitApp, visit: dict[str, Any]) -> None:
    from fieldkit.cli.payment import KNOWN_ERRORS, export_notice

    lang, target = app.language, notice_path(visit)
    if app.store is None:
        return
    try:
        pages = export_notice(app.store, app.settings, visit, target, app.today())
    except (*KNOWN_ERRORS, OSError) as exc:
        why = exc.zh if lang == "zh" and hasattr(exc, "zh") else getattr(exc, "en", str(exc))
        app.call_from_thread(
            app.notify, tr("notice.failed", lang, why=why), severity="error", timeout=10
        )
        return
    app.call_from_thread(
        app.notify, tr("notice.saved", lang, pages=pages, path=str(target)), timeout=15
    )
