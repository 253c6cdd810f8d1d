"""The words of an institution's cases and of the reviews of its visits, as Rich text: each case's
notice, state, items (with their evidence files) and escalation; each visit's review."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from rich.text import Text

from fieldkit import domain
from fieldkit.domain import cases as dc

from ..i18n import listed, outcome_name, pick, tr, visit_kind_name

if TYPE_CHECKING:
    from cache.case_view import Review

STATE_STYLES = {
    "open": "cyan",
    "due": "bold yellow",
    "overdue": "bold red",
    "rectified": "green",
    "escalated": "bold magenta",
    "closed": "dim",
}
ITEM_STYLES = {"open": "yellow", "rectified": "green", "waived": "dim"}


Files = dict[tuple[str, str, int | None], list[str]]  # (record kind, id, item) -> file names


def files_by_record(rows: list[dict[str, Any]]) -> Files:
    """Attachment rows grouped by the record they are on, as names (oldest first)."""
    found: Files = {}
    for row in rows:
        key = (str(row["record_kind"]), str(row["record_id"]), row.get("item"))
        found.setdefault(key, []).append(str(row["name"] or row["sha256"][:12]))
    return found


def _names(names: list[str], lang: str) -> str:
    return listed(names[:4], lang) + (f"… (+{len(names) - 4})" if len(names) > 4 else "")


def case_text(cases: list[domain.Case], today: date, lang: str, files: Files | None = None) -> Text:
    """Each case: its notice, state, items (with their evidence files) and escalation steps in
    the order they were taken."""
    if not cases:
        return Text(tr("case.none", lang), "dim")
    files = files or {}
    text = Text()
    for case in cases:
        state = dc.case_state(case, today)
        text.append(
            tr(
                "case.header",
                lang,
                issued=case.issued_on.isoformat(),
                by=case.issued_by,
                deadline=case.current_deadline.isoformat(),
                state=pick(dc.CASE_STATE_NAMES[state], lang),
            ),
            STATE_STYLES[state],
        )
        text.append(f"  #{case.case_id[:8]}\n", "dim")
        notice = files.get(("visit", case.case_id, None))
        if notice:
            text.append(
                "  " + tr("case.notice_files", lang, names=_names(notice, lang)) + "\n", "cyan"
            )
        for n, item in enumerate(case.items, 1):
            status = pick(dc.ITEM_STATUS_NAMES[item.status], lang)
            line = tr("case.item_line", lang, n=n, text=item.text, status=status)
            text.append("  " + line, ITEM_STYLES.get(item.status, ""))
            if item.reason:
                text.append(f"（{item.reason}）" if lang == "zh" else f" ({item.reason})", "dim")
            if item.on:
                text.append(f" {item.on.isoformat()}", "dim")
            text.append("\n")
            own = files.get(("case", case.case_id, n - 1))
            if own:
                text.append(
                    "     " + tr("case.files", lang, names=_names(own, lang)) + "\n", "cyan"
                )
        for step in case.escalation:
            text.append(
                f"  → {step.on.isoformat()} {pick(dc.ESCALATION_NAMES[step.step], lang)}", "bold"
            )
            details = [v for v in (step.place, step.attendees, step.outcome, step.note) if v]
            if step.new_deadline:
                details.append(f"{tr('col.deadline', lang)} {step.new_deadline.isoformat()}")
            if details:
                text.append(
                    "：" + "；".join(details) if lang == "zh" else ": " + "; ".join(details)
                )
            text.append("\n")
        text.append("\n")
    return text


def review_text(visits: list[dict[str, Any]], reviews: dict[str, Review], lang: str) -> Text:
    """Each visit's review: approved, returned with its comment, or none yet."""
    text = Text()
    for visit in visits:
        review = reviews.get(visit["visit_id"])
        when = (visit.get("started_at") or "")[:10]
        text.append(
            f"{when} {visit_kind_name(visit['kind'], lang)} · {outcome_name(visit.get('outcome'), lang)}  "
        )
        if review is None:
            text.append("—\n", "dim")
            continue
        text.append(
            tr(
                "review.state",
                lang,
                decision=pick(dc.REVIEW_NAMES[review.decision], lang),
                on=review.reviewed_on.isoformat(),
                comment=review.comment,
            ),
            "green" if review.decision == dc.APPROVED else "bold yellow",
        )
        text.append("\n")
    return text
