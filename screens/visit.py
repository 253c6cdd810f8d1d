"""The visit log: started when opened, filled in on site, saved to the cache when ended; offline."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    Select,
    SelectionList,
    TextArea,
)

from fieldkit import domain
from fieldkit.domain.dates import parse_date
from fieldkit.payment.qr import CodeCheck

from .dialogs.charge import ChargeDialog, ChargeEntry, charge_words, record_entry
from .dialogs.confirm import ConfirmDialog
from .i18n import outcome_name, visit_kind_name
from .visit_evidence import VisitEvidence
from .widgets.code_check import CodeCheckInput
from .widgets.footer import TranslatedFooter
from .widgets.photo_inbox import PhotoInboxLine
from .widgets.status_bar import StatusBar
from .widgets.wrapped import WrappedText

if TYPE_CHECKING:
    from cache.drafts import VisitDraft


class VisitForm(VerticalScroll):
    """The fields of one visit."""


def lines(text: str) -> tuple[str, ...]:
    """Non-empty stripped lines."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class VisitScreen(VisitEvidence):
    """Log one visit to one institution."""

    CSS_PATH = "visit.tcss"
    AUTO_FOCUS = "#kind"  # the first field, not the scrolling form around it
    HOLDS_TYPING = True  # F2/F3/F4 never close it to reach a screen below
    BINDINGS = [
        Binding("ctrl+e", "end_visit", "End visit", id="end_visit", priority=True),
        Binding("escape", "cancel_visit", "Discard visit", id="cancel_visit"),
        Binding("ctrl+r", "record_charge", "Record a charge", id="charge", priority=True),
        Binding(
            "ctrl+t",
            "charge_to_notice",
            "Charge breaches to notice",
            id="charge_notice",
            priority=True,
        ),
        Binding(
            "ctrl+a",
            "take_photos",
            "Add new photos",
            id="take_photos",
            priority=True,  # over the fields' own ctrl+a (line start)
        ),
    ]

    class Saved(Message):
        """The visit is in the cache and its outbox."""

    class Refused(Message):
        """The visit did not pass validation."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self,
        inst_id: str,
        inst_name: str,
        institution: dict[str, Any] | None = None,
        *,
        kind: str | None = None,
        amend: str | None = None,
        draft: VisitDraft | None = None,
    ) -> None:
        """`kind`: the kind to start with (the due list's task asks for one); `amend`: the id of
        a returned visit to amend instead of logging a new one."""
        super().__init__()
        self.inst_id, self.inst_name, self.institution = inst_id, inst_name, institution
        self.visit_id = amend or (draft.visit_id if draft else str(uuid.uuid4()))
        self.draft = draft
        self.kind = kind if kind in domain.VISIT_KINDS else domain.VISIT_KINDS[0]
        self.amending: dict[str, Any] | None = None
        self.review_comment = ""
        self.open_items: list[tuple[str, int, str]] = []  # (case id, item index, text)
        self.code_checks: list[CodeCheck] = [
            CodeCheck(**c) for c in (draft.fields.get("code_checks") or [] if draft else [])
        ]
        self.started_at: datetime | None = (
            datetime.fromisoformat(draft.started_at) if draft else None
        )
        self._draft_timer: Any = None
        self._draft_lock = threading.Lock()  # a late draft write never follows the end
        self._visit_over = False  # ended or discarded: no more drafts
        self._blank: dict[str, Any] | None = None  # the untouched form: not worth a draft
        self.charges: list[ChargeEntry] = []  # recorded with the visit once it is saved
        self.charge_breaches: list[str] = []
        # files kept with the visit when it is saved: (prepared file, index of its code check)
        self.evidence: list[tuple[Any, int | None]] = []
        self._amend_id = amend

    def _read_amended(self) -> None:
        """The returned visit's current values (and the supervisor's comment) to start from."""
        store = self.fk.store
        if store is None or self._amend_id is None:
            return
        found = [v for v in store.visits(self.inst_id) if v["visit_id"] == self._amend_id]
        if found:
            self.amending = found[0]
            self.kind = found[0]["kind"]
            self.started_at = datetime.fromisoformat(found[0]["started_at"])
            review = store.reviews(self.inst_id).get(self._amend_id)
            self.review_comment = review.comment if review else ""

    def _read_open_items(self) -> None:
        store = self.fk.store
        if store is None or self.amending is not None:
            return
        self.open_items = [
            (case.case_id, index, item.text)
            for case in store.cases(self.inst_id)
            if domain.case_state(case, self.fk.today()) not in ("closed", "rectified")
            for index, item in enumerate(case.items)
            if item.status == "open"
        ]

    def compose(self) -> ComposeResult:
        """The form; every label in the user's language."""
        lang = self.fk.language
        if self.amending is None:
            self._read_amended()
        if not self.open_items:
            self._read_open_items()
        if self.started_at is None:
            self.started_at = self.fk.clock()
        yield StatusBar()
        title = "visit.amend_title" if self.amending is not None else "visit.title"
        yield Label(self.t(title, name=self.inst_name), classes="title")
        if self.review_comment:
            yield Label(
                Text(self.t("visit.returned_comment", comment=self.review_comment), "bold yellow"),
                id="review-comment",
            )
        yield Label(
            self.t("visit.started", when=self.started_at.strftime("%Y-%m-%d %H:%M")),
            classes="hint",
            id="started",
        )
        yield PhotoInboxLine(self.fk.language, id="photo-inbox")  # the phone folder's news
        with VisitForm():
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label(self.t("visit.kind"))
                    yield Select(
                        [(visit_kind_name(k, lang), k) for k in domain.VISIT_KINDS],
                        value=self.kind,
                        allow_blank=False,
                        id="kind",
                        compact=True,
                        disabled=self.amending is not None,
                    )
                with Vertical(classes="field"):
                    yield Label(self.t("visit.outcome"))
                    yield Select(
                        [(outcome_name(o, lang), o) for o in domain.OUTCOMES],
                        value="completed",
                        allow_blank=False,
                        id="outcome",
                        compact=True,
                    )
            if self.open_items:
                yield Label(self.t("visit.rectified"), id="rectified-label")
                yield SelectionList[str](
                    *[
                        (f"{n + 1}. {text}", f"{case_id}:{n}")
                        for case_id, n, text in self.open_items
                    ],
                    id="rectified",
                )
            yield Label(self.t("visit.steps"))
            yield SelectionList[str](
                *[(s.name(lang), s.key) for s in domain.STEPS if s.set_by == domain.TECHNICIAN],
                id="steps",
            )
            yield Label(self.t("visit.issues"))
            yield TextArea(id="issues", soft_wrap=True)
            if self.institution is not None:
                yield Label(self.t("visit.code_check"))
                yield CodeCheckInput(
                    self.institution, self.fk.settings.office_public_key, lang, id="code-check"
                )
                yield WrappedText("", id="code-result")
            yield Label(self.t("visit.rect_items"))
            yield TextArea(id="rect-items", soft_wrap=True)
            yield Label(self.t("visit.rect_deadline"))
            yield Input(id="rect-deadline", placeholder="2026-12-31", compact=True)
            yield Checkbox(self.t("visit.interview"), id="interview", compact=True)
            yield Label(self.t("visit.next"))
            yield Input(id="next-visit", placeholder="2026-12-31", compact=True)
            yield Label(self.t("visit.notes"))
            yield TextArea(id="notes", soft_wrap=True)
            yield Label(self.t("visit.evidence"))
            yield Input(id="evidence-path", compact=True)
            yield Label("", id="evidence-list", classes="hint")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(self.t("visit.end"), variant="primary", id="end")
                yield Button(self.t("visit.cancel"), variant="error", id="cancel")
        yield TranslatedFooter()

    async def relabel(self) -> None:
        """Keep what was typed: the form keeps its labels until it is opened again."""

    def _date(self, widget_id: str) -> date | None:
        """A date typed in an input, None when empty; ValueError names the bad value."""
        value = self.query_one(widget_id, Input).value.strip()
        if not value:
            return None
        try:
            return parse_date(value)
        except domain.ValidationError as exc:  # the form, or a day that does not exist
            raise ValueError(exc.message(self.fk.language)) from None

    def build_visit(self) -> domain.Visit:
        """The Visit the form describes, ended now; ValueError/DomainError when it is not valid."""
        items = lines(self.query_one("#rect-items", TextArea).text)
        deadline = self._date("#rect-deadline")
        if items and deadline is None:
            raise ValueError(self.t("visit.deadline_needed"))
        tech = self.fk.settings.technician
        assert self.started_at is not None
        visit = domain.Visit(
            visit_id=self.visit_id,
            institution_id=self.inst_id,
            technician_id=tech.id if tech else "",
            kind=str(self.query_one("#kind", Select).value),
            started_at=self.started_at,
            ended_at=max(self.fk.clock(), self.started_at),
            outcome=str(self.query_one("#outcome", Select).value),
            steps_advanced=tuple(self.query_one("#steps", SelectionList).selected),
            issues=lines(self.query_one("#issues", TextArea).text),
            rectification=domain.Rectification(items, deadline) if items and deadline else None,
            interview_recommended=self.query_one("#interview", Checkbox).value,
            next_visit_on=self._date("#next-visit"),
            notes=self.query_one("#notes", TextArea).text.strip(),
            extra={"rectified": self.rectified()},
        )
        domain.validate_visit(visit)
        self._check_rectified(visit)
        # a photo (or a code check) kept with the visit is something recorded
        return domain.check_recorded(visit, len(self.evidence) + len(self.code_checks))

    def rectified(self) -> list[tuple[str, int]]:
        """The case items ticked as rectified by this check visit."""
        if not self.query("#rectified") or not self.query_one("#rectified").display:
            return []
        ticked = self.query_one("#rectified", SelectionList).selected
        return [(key.rsplit(":", 1)[0], int(key.rsplit(":", 1)[1])) for key in ticked]

    def _check_rectified(self, visit: domain.Visit) -> None:
        """Refuse ticked items unless this is a rectification check (checked by the domain)."""
        store = self.fk.store
        if store is None or not visit.extra.get("rectified"):
            return
        held = {c.case_id: c for c in store.cases(self.inst_id)}
        tech = self.fk.settings.technician
        for case_id, index in visit.extra["rectified"]:
            held[case_id] = domain.cases.change_item(
                held[case_id],
                index,
                "rectified",
                reason=None,
                visit=visit,
                by=tech.id if tech else "",
                on=visit.started_at.date(),
            )

    def _prefill(self) -> None:
        """Put the returned visit's values in the form."""
        visit = self.amending
        if visit is None:
            return
        self.query_one("#outcome", Select).value = visit.get("outcome") or "completed"
        for key in visit.get("steps_advanced") or []:
            self.query_one("#steps", SelectionList).select(key)
        self.query_one("#issues", TextArea).text = "\n".join(visit.get("issues") or [])
        rect = visit.get("rectification")
        if rect:
            self.query_one("#rect-items", TextArea).text = "\n".join(rect["items"])
            self.query_one("#rect-deadline", Input).value = rect["deadline"]
        self.query_one("#interview", Checkbox).value = bool(visit.get("interview_recommended"))
        self.query_one("#next-visit", Input).value = visit.get("next_visit_on") or ""
        self.query_one("#notes", TextArea).text = visit.get("notes") or ""

    def on_mount(self) -> None:
        """Start from the returned visit when amending one, or from a kept draft."""
        self._prefill()
        self._show_rectified()
        self._mount_draft()

    @on(Select.Changed, "#kind")
    def _show_rectified(self) -> None:
        """The case items to tick appear on a rectification check only."""
        check = self.query_one("#kind", Select).value == domain.visits.RECTIFICATION_CHECK
        for widget in self.query("#rectified, #rectified-label"):
            widget.display = check

    def amendment(self, visit: domain.Visit) -> dict[str, Any]:
        """The fields the form changed from the returned visit (visit.amend data)."""
        assert self.amending is not None
        wire = domain.visit_to_wire(visit)
        return {
            key: wire[key]
            for key in domain.AMENDABLE
            if key != "ended_at" and wire.get(key) != self.amending.get(key)
        }

    @on(Button.Pressed, "#end")
    def action_end_visit(self) -> None:
        """End the visit and save it."""
        try:
            visit = self.build_visit()
        except domain.DomainError as exc:
            self._show_error(exc.message(self.fk.language))
            return
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.save(visit)

    @work(thread=True, group="save", exit_on_error=False)
    def save(self, visit: domain.Visit) -> None:
        """Write the visit and its outbox op to the cache."""
        store = self.fk.store
        assert store is not None
        tech = self.fk.settings.technician
        with self._draft_lock:
            try:
                if self.amending is not None:
                    changes = self.amendment(visit)
                    if not changes and not self.evidence:
                        self.post_message(self.Refused(self.t("visit.nothing_changed")))
                        return
                    if changes:
                        store.amend_visit(visit.visit_id, changes)
                    for kept, _ in self.evidence:  # photos added while amending go on the visit
                        store.attach(
                            "visit",
                            visit.visit_id,
                            kept.data,
                            kept.wire(),
                            by=tech.id if tech else "",
                        )
                    self.post_message(self.Saved())
                    return
                # the visit, its code checks and its files in one transaction, in that order
                store.save_visit_with_evidence(
                    visit,
                    [(c.result, c.found, c.content_sha256) for c in self.code_checks],
                    [(kept.data, kept.wire(), check) for kept, check in self.evidence],
                    by=tech.id if tech else "",
                )
                for case_id, index in visit.extra.get("rectified") or []:
                    store.set_case_item(
                        case_id,
                        index,
                        "rectified",
                        visit_id=visit.visit_id,
                        by=tech.id if tech else "",
                    )
            except domain.DomainError as exc:
                self.post_message(self.Refused(exc.message(self.fk.language)))
                return
            self._visit_over = True
        for entry in self.charges:
            record_entry(store, self.inst_id, visit.visit_id, entry)
        self.post_message(self.Saved())

    def on_visit_screen_saved(self) -> None:
        """Back to the institution, saying the visit waits to be sent."""
        self.notify(self.t("visit.amended" if self.amending is not None else "visit.saved"))
        self.fk.changed_locally()
        self.dismiss(True)

    @on(CodeCheckInput.Checked)
    def _code_checked(self, event: CodeCheckInput.Checked) -> None:
        """Keep the check for the record; a mismatch becomes an issue of this visit."""
        self.code_checks.append(event.check)
        self._typed(event)  # the check is part of the draft
        words = event.check.message(self.fk.language)
        self.query_one("#code-result", WrappedText).update(
            Text(
                ("✓ " if event.check.is_match else "✗ ") + words,
                "bold green" if event.check.is_match else "bold red",
            )
        )
        if not event.check.is_match:  # the office reads the record: both languages, one line
            issues = self.query_one("#issues", TextArea)
            issue = f"{event.check.zh} / {event.check.en}"
            issues.text = (issues.text.rstrip() + "\n" + issue).strip()
        if event.image is not None:
            index = len(self.code_checks) - 1

            def keep(yes: bool | None) -> None:
                if yes:
                    self.prepare_evidence([event.image], index)

            self.app.push_screen(
                ConfirmDialog(self.t("visit.keep_check_photo"), self.fk.language), keep
            )

    @on(CodeCheckInput.Failed)
    def _code_failed(self, event: CodeCheckInput.Failed) -> None:
        self.query_one("#code-result", WrappedText).update(
            Text("✗ " + event.text(self.fk.language), "bold red")
        )

    # charges seen on site --------------------------------------------------------------------
    class ChargeChecked(Message):
        """A charge typed in the visit, with what it breaks."""

        def __init__(self, entry: ChargeEntry, breaches: list[Any]) -> None:
            super().__init__()
            self.entry, self.breaches = entry, breaches

    @work(thread=True, group="charge", exit_on_error=False)
    def action_record_charge(self) -> None:
        """Read the listed courses, then ask for the charge."""
        store = self.fk.store
        assert store is not None
        courses = store.courses(self.inst_id)
        self.app.call_from_thread(
            self.app.push_screen, ChargeDialog(courses, self.fk.language), self._charge_typed
        )

    def _charge_typed(self, entry: ChargeEntry | None) -> None:
        if entry is not None:
            self.check_charge(entry)

    @work(thread=True, group="charge", exit_on_error=False)
    def check_charge(self, entry: ChargeEntry) -> None:
        """Check a typed charge against the rules and the listing (the cache, offline)."""
        store = self.fk.store
        assert store is not None
        try:
            breaches = store.check_charge(
                self.inst_id,
                entry.course_id,
                entry.amount_fen,
                entry.hours,
                entry.months,
                entry.collected_on,
                entry.start_on,
            )
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc.message(self.fk.language)))
            return
        self.post_message(self.ChargeChecked(entry, breaches))

    def on_visit_screen_charge_checked(self, message: ChargeChecked) -> None:
        """Keep the charge for the visit; a breach becomes an issue of this visit."""
        lang = self.fk.language
        self.charges.append(message.entry)
        words = charge_words(message.breaches, lang)
        if message.breaches:
            course = message.entry.course_name or message.entry.course_id or ""
            found = [
                f"{course}：{b.text(lang)}" if course else b.text(lang) for b in message.breaches
            ]
            self.charge_breaches += found
            issues = self.query_one("#issues", TextArea)
            issues.text = (issues.text.rstrip() + "\n" + "\n".join(found)).strip()
            words += "\n" + self.t("charge.in_visit")
        self.query_one("#error", Label).update(
            Text(words, "bold red" if message.breaches else "green")
        )

    def action_charge_to_notice(self) -> None:
        """Put the breaches of the charges recorded here into the rectification items."""
        if not self.charge_breaches:
            self.notify(self.t("charge.nothing_to_notice"))
            return
        items = self.query_one("#rect-items", TextArea)
        have = set(lines(items.text))
        new = [b for b in self.charge_breaches if b not in have]
        items.text = (items.text.rstrip() + "\n" + "\n".join(new)).strip()
        self.notify(self.t("charge.to_notice_done"))

    def on_visit_screen_refused(self, message: Refused) -> None:
        """Say why the visit was not saved."""
        self._show_error(message.text)

    def _show_error(self, text: str) -> None:
        self.query_one("#error", Label).update(Text("✗ " + text, "bold red"))
        self.notify(text, severity="error")

    @on(Button.Pressed, "#cancel")
    def action_cancel_visit(self) -> None:
        """Leave without saving, after asking."""

        def leave(yes: bool | None) -> None:
            if yes:
                self._stop_drafting()
                self.discard_draft()
                self.dismiss(False)

        self.app.push_screen(
            ConfirmDialog(self.t("dialog.confirm_leave_visit"), self.fk.language), leave
        )
