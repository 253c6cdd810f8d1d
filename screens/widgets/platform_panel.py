"""The institution's platform side: each step's two readings, discrepancies, courses, charges seen."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from fieldkit import domain
from fieldkit.domain.courses import yuan
from fieldkit.domain.platform import PLATFORM_STEPS, Discrepancy, reading_note

from ..i18n import status_name, step_name, tr


def platform_text(
    reading: dict[str, Any] | None,
    states: dict[str, Any],
    found: list[Discrepancy],
    courses: list[dict[str, Any]],
    charges: list[dict[str, Any]],
    lang: str,
) -> Text:
    """Everything the platform says of an institution, beside what the field marked."""
    text = Text()
    if reading is None:
        text.append(tr("platform.none", lang) + "\n", "dim")
    else:
        when = str(reading.get("imported_at") or "")[:10]
        text.append(tr("platform.title", lang, when=when) + "\n", "bold")
        steps = reading.get("steps") or {}
        for key in PLATFORM_STEPS:
            state = states.get(key)
            status = state.status if state is not None else domain.TODO
            known = key in steps
            platform = (
                tr("platform.done_on", lang, day=steps[key])
                if known and steps[key]
                else tr("platform.not_done" if known else "platform.unknown", lang)
            )
            row = tr(
                "platform.step_row",
                lang,
                step=step_name(key, lang),
                field=status_name(status, lang),
                platform=platform,
            )
            note = reading_note(status, steps.get(key), known)
            text.append("  " + row, "yellow" if note else "")
            if note:
                text.append("  — " + (note[0] if lang == "zh" else note[1]), "bold yellow")
            text.append("\n")
        text.append(
            "  "
            + tr(
                "platform.trade",
                lang,
                orders=reading.get("orders", 0),
                yuan=yuan(int(reading.get("order_amount_fen") or 0)),
                lessons=reading.get("lessons_consumed", 0),
                refunds=reading.get("refunds", 0),
                refund_yuan=yuan(int(reading.get("refund_amount_fen") or 0)),
            )
            + "\n"
        )
        text.append("\n" + tr("platform.discrepancies", lang) + "\n", "bold")
        if not found:
            text.append("  " + tr("platform.no_discrepancy", lang) + "\n", "green")
        for item in found:
            text.append("  ! " + item.text(lang) + "\n", "bold red")
    text.append("\n")
    text.append_text(courses_text(courses, lang))
    if charges:
        text.append("\n" + tr("charges.title", lang) + "\n", "bold")
        for charge in charges:
            data = charge["data"]
            text.append(
                "  "
                + tr(
                    "charges.row",
                    lang,
                    when=str(charge.get("created_at") or "")[:10],
                    course=data.get("course_name") or data.get("course_id") or "—",
                    yuan=yuan(int(data.get("amount_fen") or 0)),
                )
                + "\n"
            )
            breaches = data.get("breaches") or []
            if not breaches:
                text.append("    " + tr("charges.ok", lang) + "\n", "green")
            for breach in breaches:
                text.append("    ✗ " + breach["zh" if lang == "zh" else "en"] + "\n", "red")
    return text


def courses_text(courses: list[dict[str, Any]], lang: str) -> Text:
    """The listed courses, each with every fee rule it breaks, in words."""
    text = Text()
    if not courses:
        text.append(tr("courses.none", lang) + "\n", "dim")
        return text
    text.append(tr("courses.title", lang, n=len(courses)) + "\n", "bold")
    for course in courses:
        kind = tr(f"inst.kind_{course['kind']}", lang)
        text.append(
            "  "
            + tr(
                "courses.row",
                lang,
                name=course["name"],
                id=course["course_id"],
                kind=kind,
                hours=course["class_hours"],
                start=course["start_on"],
                end=course["end_on"],
            )
            + "\n"
        )
        checked = course.get("checked") or []
        if not checked:
            text.append("    " + tr("courses.ok", lang) + "\n", "green")
        many = len(course.get("plans") or []) > 1
        for index, breach in checked:
            prefix = (
                (f"方案{index + 1}：" if lang == "zh" else f"plan {index + 1}: ") if many else ""
            )
            text.append("    ✗ " + prefix + breach.text(lang) + "\n", "bold red")
    return text


class PlatformPanel(Static):
    """Shows the platform's reading, the discrepancies, the courses and the charges seen."""

    class Loaded(Message):
        """What the cache holds of the platform for this institution."""

        def __init__(self, parts: dict[str, Any]) -> None:
            super().__init__()
            self.parts = parts

    def __init__(self, lang: str, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.lang = lang
        self.parts: dict[str, Any] | None = None

    def show_for(self, store: Any, inst_id: str, states: dict[str, Any], lang: str) -> None:
        """Read the institution's platform side from the cache (in a thread) and show it."""
        self.lang = lang
        self._load(store, inst_id, states)

    @work(thread=True, exclusive=True, group="platform-panel", exit_on_error=False)
    def _load(self, store: Any, inst_id: str, states: dict[str, Any]) -> None:
        parts = {
            "reading": store.platform_reading(inst_id),
            "states": states,
            "found": store.discrepancies(inst_id, date.today()),
            "courses": store.courses(inst_id),
            "charges": [e for e in store.events(inst_id) if e.get("kind") == "charge.observed"],
        }
        self.post_message(self.Loaded(parts))

    def on_platform_panel_loaded(self, message: Loaded) -> None:
        """Draw what was read."""
        message.stop()
        self.parts = message.parts
        self.update(platform_text(lang=self.lang, **message.parts))
