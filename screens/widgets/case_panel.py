"""An institution's cases: items, deadline, state and escalation in order; a supervisor's steps and
reviews of visits. Every action is checked by the domain where it is typed, then saved offline."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, Select, Static

from fieldkit import domain
from fieldkit.domain import cases as dc
from fieldkit.domain.dates import parse_date

from ..dialogs.case_form import CaseFormDialog
from ..i18n import pick, tr, visit_kind_name
from .case_text import ITEM_STYLES, STATE_STYLES, Files, case_text, files_by_record, review_text

__all__ = ["ITEM_STYLES", "STATE_STYLES", "CasePanel", "case_text", "review_text"]

if TYPE_CHECKING:
    from cache.case_view import Review

    from ..app import FieldkitApp


def _date(value: str, lang: str, required: bool = True) -> date | None:
    if not value and not required:
        return None
    try:
        return parse_date(value)
    except domain.ValidationError as exc:  # says whether the form or the day is wrong
        raise ValueError(exc.message(lang)) from None


class CasePanel(Vertical):
    """The cases tab of the institution screen."""

    DEFAULT_CSS = """
    CasePanel { height: auto; padding: 0 1; }
    CasePanel Horizontal { height: auto; }
    CasePanel Select { width: 28; }
    CasePanel Button { margin: 0 1 0 0; min-width: 8; }
    CasePanel #case-actions { layout: grid; grid-size: 3; grid-gutter: 0 1; height: auto;
                              margin-top: 1; }
    CasePanel #case-actions Button { width: 1fr; margin: 0; }
    CasePanel .heading { text-style: bold; margin-top: 1; }
    """

    class Saved(Message):
        """A case step, an item or a review was saved to the cache."""

        def __init__(self, what: str) -> None:
            super().__init__()
            self.what = what

    class Refused(Message):
        """The domain refused what was asked."""

        def __init__(self, error: domain.DomainError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, inst_id: str, lang: str, supervisor: bool, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.inst_id, self.lang, self.supervisor = inst_id, lang, supervisor
        self.cases: list[domain.Case] = []
        self.visits: list[dict[str, Any]] = []
        self.files: Files = {}  # the institution's evidence, read after the cases are shown

    @property
    def fk(self) -> FieldkitApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """The cases, their actions; then the reviews of visits."""
        t = self.lang
        yield Static("", id="cases-text")
        yield Select[str]([], prompt=tr("case.pick", t), id="case-pick", compact=True)
        with Container(id="case-actions"):
            yield Button(tr("case.waive", t), id="waive", compact=True)
            if self.supervisor:
                yield Button(tr("case.schedule", t), id="schedule", compact=True)
                yield Button(tr("case.held", t), id="held", compact=True)
                yield Button(tr("case.revoke", t), id="revoke", compact=True)
                yield Button(tr("case.close", t), id="close", compact=True)
            yield Button(tr("case.print", t), id="print", compact=True)
            yield Button(tr("case.evidence", t), id="case-evidence", compact=True)
        yield Label(tr("review.title", t), classes="heading")
        yield Static("", id="review-text")
        if self.supervisor:
            with Horizontal(id="review-actions"):
                yield Select[str]([], prompt=tr("review.pick", t), id="visit-pick", compact=True)
                yield Button(tr("review.approve", t), id="approve", variant="success", compact=True)
                yield Button(tr("review.return", t), id="return", variant="warning", compact=True)
        else:
            yield Label(tr("case.supervisor_only", t), classes="hint")

    def show(
        self, cases: list[domain.Case], visits: list[dict[str, Any]], reviews: dict[str, Review]
    ) -> None:
        """Show what the institution screen read from the cache."""
        self.cases, self.visits = cases, visits
        self._show_cases()
        self.load_files()
        self.query_one("#review-text", Static).update(review_text(visits, reviews, self.lang))
        picker = self.query_one("#case-pick", Select)
        current = picker.value
        picker.set_options(
            [(f"{c.issued_on.isoformat()} #{c.case_id[:6]}", c.case_id) for c in cases]
        )
        ids = [c.case_id for c in cases]
        if current in ids:
            picker.value = current
        elif ids:
            picker.value = ids[0]
        if self.supervisor:
            vpick = self.query_one("#visit-pick", Select)
            chosen = vpick.value
            vpick.set_options(
                [
                    (
                        f"{(v.get('started_at') or '')[:10]} {visit_kind_name(v['kind'], self.lang)}",
                        v["visit_id"],
                    )
                    for v in visits
                ]
            )
            vids = [v["visit_id"] for v in visits]
            if chosen in vids:
                vpick.value = chosen
            elif vids:
                vpick.value = vids[0]

    def _show_cases(self) -> None:
        text = case_text(self.cases, self.fk.today(), self.lang, self.files)
        self.query_one("#cases-text", Static).update(text)

    class FilesRead(Message):
        """The institution's evidence, read in a worker."""

        def __init__(self, files: Files) -> None:
            super().__init__()
            self.files = files

    @work(thread=True, exclusive=True, group="case-files", exit_on_error=False)
    def load_files(self) -> None:
        """Which files are on each case and item (off the event loop)."""
        store = self.fk.store
        if store is not None:
            self.post_message(
                self.FilesRead(files_by_record(store.attachments(institution_id=self.inst_id)))
            )

    def on_case_panel_files_read(self, message: FilesRead) -> None:
        """Show the cases again with their files."""
        message.stop()
        if message.files != self.files:
            self.files = message.files
            self._show_cases()

    @on(Button.Pressed, "#case-evidence")
    def evidence(self) -> None:
        """Attach, list and open the evidence of the picked case (its first open item chosen)."""
        from ..dialogs.evidence import EvidenceDialog

        case = self.picked_case()
        if case is None:
            return
        store = self.fk.store
        inst = store.institution(self.inst_id) if store is not None else None
        item = next((n for n, i in enumerate(case.items) if i.status == dc.OPEN), 0)
        dialog = EvidenceDialog(
            self.inst_id,
            str((inst or {}).get("name") or self.inst_id),
            self.lang,
            target=("case", case.case_id, item),
        )

        def back(_changed: bool | None) -> None:
            self.load_files()

        self.app.push_screen(dialog, back)

    # --- what is picked -------------------------------------------------------------------------
    def picked_case(self) -> domain.Case | None:
        """The case the actions apply to."""
        value = self.query_one("#case-pick", Select).value
        return next((c for c in self.cases if c.case_id == value), None)

    def _me(self) -> str:
        tech = self.fk.settings.technician
        return tech.id if tech else ""

    # --- case actions ----------------------------------------------------------------------------
    @on(Button.Pressed, "#waive")
    def waive(self) -> None:
        """Waive one item, with its reason."""
        case = self.picked_case()
        if case is None:
            return
        t = self.lang

        def check(values: dict[str, str]) -> tuple[int, str]:
            try:
                index = int(values["item"]) - 1
            except ValueError:
                raise ValueError(tr("case.item_no", t)) from None
            dc.change_item(
                case,
                index,
                dc.WAIVED,
                reason=values["reason"],
                visit=None,
                by=self._me(),
                on=self.fk.today(),
                supervisor=self.supervisor,
            )
            return index, values["reason"]

        first_open = next((n for n, i in enumerate(case.items, 1) if i.status == dc.OPEN), 1)
        fields = [
            ("item", tr("case.item_no", t), str(first_open)),
            ("reason", tr("case.reason", t), ""),
        ]

        def done(answer: tuple[int, str] | None) -> None:
            if answer:
                self.save_item(case.case_id, *answer)

        self.app.push_screen(CaseFormDialog(tr("case.waive", t), fields, check, t), done)

    def _step_dialog(self, step: str, fields: list[tuple[str, str, str]]) -> None:
        case = self.picked_case()
        if case is None:
            return
        t = self.lang

        def check(values: dict[str, str]) -> domain.Escalation:
            made = domain.Escalation(
                step,
                _date(values.get("on", ""), t) or self.fk.today(),
                self._me(),
                note=values.get("note", ""),
                place=values.get("place") or None,
                attendees=values.get("attendees") or None,
                outcome=values.get("outcome") or None,
                new_deadline=_date(values.get("new_deadline", ""), t, required=False),
            )
            dc.escalate(case, made, supervisor=self.supervisor)
            return made

        def done(made: domain.Escalation | None) -> None:
            if made is not None:
                self.save_step(case.case_id, made)

        title = pick(dc.ESCALATION_NAMES[step], t)
        self.app.push_screen(CaseFormDialog(title, fields, check, t), done)

    def _on_field(self) -> tuple[str, str, str]:
        return ("on", tr("case.on", self.lang), self.fk.today().isoformat())

    @on(Button.Pressed, "#schedule")
    def schedule(self) -> None:
        """Schedule an interview (约谈): date, place, who attends."""
        t = self.lang
        self._step_dialog(
            dc.INTERVIEW_SCHEDULED,
            [
                self._on_field(),
                ("place", tr("case.place", t), ""),
                ("attendees", tr("case.attendees", t), ""),
                ("note", tr("case.note", t), ""),
            ],
        )

    @on(Button.Pressed, "#held")
    def held(self) -> None:
        """Record the interview held: outcome and a new deadline."""
        t = self.lang
        self._step_dialog(
            dc.INTERVIEW_HELD,
            [
                self._on_field(),
                ("outcome", tr("case.outcome", t), ""),
                ("new_deadline", tr("case.new_deadline", t), ""),
                ("note", tr("case.note", t), ""),
            ],
        )

    @on(Button.Pressed, "#revoke")
    def revoke(self) -> None:
        """Recommend the revocation of the licence, with the reason."""
        self._step_dialog(
            dc.REVOCATION_RECOMMENDED, [self._on_field(), ("note", tr("case.note", self.lang), "")]
        )

    @on(Button.Pressed, "#close")
    def close_case(self) -> None:
        """Close the case."""
        self._step_dialog(dc.CLOSED, [self._on_field(), ("note", tr("case.note", self.lang), "")])

    @on(Button.Pressed, "#print")
    def print_notice(self) -> None:
        """Write the interview notice (约谈通知书) of the picked case as an A4 PDF."""
        case = self.picked_case()
        if case is not None:
            self.write_notice(case)

    @work(thread=True, group="case-print", exit_on_error=False)
    def write_notice(self, case: domain.Case) -> None:
        """Render the notice off the event loop, into the profile's documents folder."""
        from fieldkit import paths
        from fieldkit.documents import DocumentError
        from fieldkit.interview_notice import save_interview_notice
        from fieldkit.payment.fonts import FontMissing
        from fieldkit.payment.posters import PosterError

        store = self.fk.store
        inst = store.institution(case.institution_id) if store else None
        target = (
            paths.home() / "notices" / f"约谈通知书-{case.institution_id}-{case.case_id[:8]}.pdf"
        )
        try:
            save_interview_notice(
                inst or {"id": case.institution_id},
                case,
                target,
                self.fk.settings.office_name,
                self.fk.today(),
            )
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc))
            return
        except (PosterError, FontMissing, DocumentError) as exc:
            self.post_message(self.Refused(domain.DomainError("notice", exc.zh, exc.en)))
            return
        self.post_message(self.Saved(tr("case.printed", self.lang, path=str(target))))

    # --- reviews --------------------------------------------------------------------------------
    def _picked_visit(self) -> str | None:
        value = self.query_one("#visit-pick", Select).value
        return value if isinstance(value, str) else None

    @on(Button.Pressed, "#approve")
    def approve(self) -> None:
        """Approve the picked visit."""
        visit_id = self._picked_visit()
        if visit_id:
            self.save_review(visit_id, dc.APPROVED, "")

    @on(Button.Pressed, "#return")
    def return_visit(self) -> None:
        """Return the picked visit to its technician with a comment."""
        visit_id = self._picked_visit()
        if not visit_id:
            return
        t = self.lang

        def check(values: dict[str, str]) -> str:
            return dc.check_review(dc.RETURNED, values["comment"], supervisor=self.supervisor)

        def done(comment: str | None) -> None:
            if comment:
                self.save_review(visit_id, dc.RETURNED, comment)

        fields = [("comment", tr("review.comment", t), "")]
        self.app.push_screen(CaseFormDialog(tr("review.return", t), fields, check, t), done)

    # --- saving (thread workers: SQLite off the event loop) -------------------------------------
    @work(thread=True, group="case-save", exit_on_error=False)
    def save_item(self, case_id: str, index: int, reason: str) -> None:
        """Queue a waived item."""
        store = self.fk.store
        assert store is not None
        try:
            store.set_case_item(
                case_id,
                index,
                dc.WAIVED,
                reason=reason,
                by=self._me(),
                supervisor=self.supervisor,
                on=self.fk.today(),
            )
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Saved(tr("case.waive", self.lang).rstrip("…")))

    @work(thread=True, group="case-save", exit_on_error=False)
    def save_step(self, case_id: str, step: domain.Escalation) -> None:
        """Queue an escalation step."""
        store = self.fk.store
        assert store is not None
        try:
            store.escalate_case(case_id, step, supervisor=self.supervisor)
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Saved(pick(dc.ESCALATION_NAMES[step.step], self.lang)))

    @work(thread=True, group="case-save", exit_on_error=False)
    def save_review(self, visit_id: str, decision: str, comment: str) -> None:
        """Queue a review of a visit."""
        store = self.fk.store
        assert store is not None
        try:
            store.review_visit(
                visit_id, decision, comment, supervisor=self.supervisor, on=self.fk.today()
            )
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Saved(pick(dc.REVIEW_NAMES[decision], self.lang)))
