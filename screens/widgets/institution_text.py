"""An institution's details, a step's guidance and the visits' lines, as Rich text for the institution screen."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from fieldkit import domain

from ..i18n import listed, outcome_name, shown_sync_state, step_name, tr, visit_kind_name
from ..notice_print import short_id
from .checklist import status_cell


def details_table(inst: dict[str, Any], lang: str) -> Table:
    """The institution's master data as a two-column table, with a warning on a bad credit code."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    uscc = Text(inst.get("uscc") or "")
    try:
        domain.validate_uscc(inst.get("uscc") or "")
    except domain.DomainError as exc:
        uscc.append("\n" + tr("inst.uscc_bad", lang, why=exc.message(lang)), "bold yellow")
    bank = Text(
        tr(f"bank.{inst.get('bank_status')}", lang),
        {"passed": "green", "failed": "bold red"}.get(inst.get("bank_status") or "", "yellow"),
    )
    rows: list[tuple[str, Any]] = [
        ("inst.uscc", uscc),
        ("inst.licence", inst.get("licence_no") or ""),
        ("inst.kind", tr(f"inst.kind_{inst.get('kind')}", lang)),
        ("inst.division", domain.full_name(inst.get("division_code") or "")),
        ("inst.address", inst.get("address") or ""),
        ("inst.contact", inst.get("contact_name") or ""),
        ("inst.phone", inst.get("contact_phone") or ""),
        ("inst.bank", bank),
    ]
    if inst.get("bank_reason"):
        rows.append(("inst.bank_reason", inst["bank_reason"]))
    yuan = f"{(inst.get('order_amount_fen') or 0) / 100:,.2f}"
    rows.append(
        ("inst.orders", tr("inst.orders_value", lang, n=inst.get("orders") or 0, yuan=yuan))
    )
    rows.append(("inst.sync_state", tr(f"sync.{inst.get('sync_state') or 'synced'}", lang)))
    for key, value in rows:
        table.add_row(tr(key, lang), value)
    return table


def guidance_text(step_key: str, lang: str, state: Any = None) -> Text:
    """The step's state and reason, then what to check, collect and watch for."""
    step = domain.STEPS_BY_KEY[step_key]
    guide = step.guidance(lang)
    text = Text()
    text.append(step.name(lang), "bold")
    if state is not None:
        text.append("  ")
        text.append_text(status_cell(state.status, lang))
        if state.reason or state.note:
            text.append("\n" + (state.reason or state.note), "red" if state.reason else "")
    text.append("\n")
    if step.needs:
        text.append("← " + listed((step_name(n, lang) for n in step.needs), lang) + "\n", "dim")
    if step.set_by == domain.SERVER:
        text.append(tr("inst.server_step", lang) + "\n", "italic yellow")
    for key, body in (
        ("inst.guidance_check", guide.check),
        ("inst.guidance_collect", guide.collect),
        ("inst.guidance_pitfalls", guide.pitfalls),
    ):
        text.append(tr(key, lang) + "：" if lang == "zh" else tr(key, lang) + ": ", "bold")
        text.append(body + "\n")
    return text


def visits_text(visits: list[dict[str, Any]], lang: str, round_running: bool = False) -> Text:
    """The visit history, newest first (`round_running`: a sync round is sending now)."""
    if not visits:
        return Text(tr("inst.no_visits", lang), "dim")
    text = Text()
    for visit in visits:
        when = (visit.get("started_at") or "")[:16].replace("T", " ")
        text.append(
            tr(
                "visit.row",
                lang,
                when=when,
                kind=visit_kind_name(visit["kind"], lang),
                outcome=outcome_name(visit.get("outcome"), lang),
            ),
            "bold",
        )
        text.append(f"  #{short_id(visit['visit_id'])}", "dim")  # `fieldkit notice` takes it
        if visit.get("sync_state", "synced") != "synced":
            shown = shown_sync_state(visit["sync_state"], round_running)
            text.append(f"  [{tr('sync.' + shown, lang)}]", "yellow")
        text.append("\n")
        if visit.get("steps_advanced"):
            text.append(
                "  ✓ " + listed((step_name(s, lang) for s in visit["steps_advanced"]), lang) + "\n"
            )
        for issue in visit.get("issues") or []:
            text.append(f"  ! {issue}\n", "yellow")
        rect = visit.get("rectification")
        if rect:
            text.append(
                "  "
                + tr("visit.rect_short", lang, n=len(rect["items"]), deadline=rect["deadline"])
                + "\n",
                "red",
            )
        if visit.get("notes"):
            text.append(f"  {visit['notes']}\n", "dim")
    return text
