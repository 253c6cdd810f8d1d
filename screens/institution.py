"""One institution: its details, its checklist with guidance, its visits; every change saved at once."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Label, Static, TabbedContent, TabPane

from fieldkit import domain

from .base import FieldkitScreen
from .dialogs.charge import ChargeDialog, ChargeEntry, charge_words, record_entry
from .dialogs.confirm import ConfirmDialog
from .dialogs.contact import ContactDialog
from .dialogs.reason import ReasonDialog
from .i18n import step_name, tr
from .notice_print import NoticeWritten
from .widgets.case_panel import CasePanel
from .widgets.checklist import Checklist
from .widgets.code_check import CodeCheckInput
from .widgets.footer import TranslatedFooter
from .widgets.institution_text import details_table, guidance_text, visits_text
from .widgets.platform_panel import PlatformPanel
from .widgets.status_bar import StatusBar
from .widgets.wrapped import WrappedText


class InstitutionScreen(FieldkitScreen):
    """Details, checklist, guidance and visits of one institution."""

    CSS_PATH = "institution.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("p", "set_status('in_progress')", "In progress", id="in_progress"),
        Binding("d", "set_status('done')", "Done", id="done"),
        Binding("b", "set_status('blocked')", "Blocked", id="blocked"),
        Binding("t", "set_status('todo')", "Back to to-do", id="todo", show=False),
        Binding("v", "start_visit", "Start visit", id="visit"),
        Binding("k", "show_qr", "Payment code", id="qr"),
        Binding("e", "show_evidence", "Evidence", id="evidence"),
        Binding("c", "edit_contact", "Edit contact", id="contact"),
        Binding("1", "show_tab('checklist')", "Checklist", id="tab_checklist", show=False),
        Binding("2", "show_tab('details')", "Details", id="tab_details", show=False),
        Binding("3", "show_tab('visits')", "Visits", id="tab_visits", show=False),
        Binding("4", "show_tab('qr')", "Payment code tab", id="tab_qr", show=False),
        Binding("5", "show_tab('cases')", "Cases tab", id="tab_cases", show=False),
        Binding("6", "show_tab('platform')", "Platform & courses", id="tab_platform", show=False),
        Binding("r", "record_charge", "Record a charge", id="charge"),
        Binding("n", "print_notice", "Print rectification notice", id="print_notice"),
    ]

    class Loaded(Message):
        """The institution, its steps and visits arrived from the cache."""

        def __init__(
            self,
            inst: dict[str, Any] | None,
            states: dict[str, Any],
            visits: list[dict[str, Any]],
            cases: tuple[list[Any], dict[str, Any]] = ([], {}),
            drafts: list[Any] | None = None,
        ) -> None:
            super().__init__()
            self.inst, self.states, self.visits = inst, states, visits
            self.cases, self.reviews = cases
            self.drafts = drafts or []  # visits being recorded, kept as typed (cache.drafts)

    class Saved(Message):
        """A change was saved to the cache (and its outbox)."""

        def __init__(self, what: str) -> None:
            super().__init__()
            self.what = what

    class Refused(Message):
        """The domain refused a change; the message says why."""

        def __init__(self, error: domain.DomainError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, inst_id: str) -> None:
        super().__init__()
        self.inst_id = inst_id
        self.inst: dict[str, Any] | None = None
        self.states: dict[str, Any] = {}
        self.step_key = domain.STEPS[0].key
        self.drafts: list[Any] = []
        self._drafts_seen: set[str] = set()  # offered here, or a visit opened from here
        self.visits: list[dict[str, Any]] = []
        self._check_op: str | None = None  # the code check shown as waiting to be sent
        self._unsent_visit: str | None = None  # the visit the feedback line says waits to be sent

    def compose(self) -> ComposeResult:
        """Title, feedback line and tabs."""
        yield StatusBar()
        yield Label(self._title(), id="title", classes="title")
        yield WrappedText("", id="feedback")
        with TabbedContent(id="tabs"):
            with TabPane(f"1 {self.t('inst.tab_checklist')}", id="tab-checklist"):
                with Horizontal():
                    yield Checklist(self.fk.language, id="checklist")
                    with VerticalScroll(id="guidance-box"):
                        yield Static(guidance_text(self.step_key, self.fk.language), id="guidance")
            with TabPane(f"2 {self.t('inst.tab_details')}", id="tab-details"):
                with VerticalScroll():
                    yield Static("", id="details")
                    yield Button(self.t("key.contact"), id="contact")
            with TabPane(f"3 {self.t('inst.tab_visits')}", id="tab-visits"):
                with VerticalScroll():
                    yield Button(self.t("key.visit"), id="visit", variant="primary")
                    yield Static("", id="visits")
            with TabPane(f"4 {self.t('inst.tab_qr')}", id="tab-qr"):
                with VerticalScroll(id="qr-box"):
                    yield Label(self.t("inst.qr_help"), classes="hint")
                    yield Button(self.t("inst.qr_button"), id="qr")
                    yield Label(self.t("inst.code_check"), classes="hint")
                    yield WrappedText("", id="code-result")
            with TabPane(f"5 {self.t('inst.tab_cases')}", id="tab-cases"):
                with VerticalScroll():
                    yield CasePanel(self.inst_id, self.fk.language, self._supervisor(), id="cases")
            with TabPane(f"6 {self.t('inst.tab_platform')}", id="tab-platform"):
                with VerticalScroll():
                    yield Button(self.t("key.charge"), id="charge")
                    yield PlatformPanel(self.fk.language, id="platform")
        yield TranslatedFooter()

    def _supervisor(self) -> bool:
        tech = self.fk.settings.technician
        return tech is not None and tech.role == "supervisor"

    def _title(self) -> str:
        if self.inst is None:
            return self.inst_id
        return f"{self.inst['name']}  {self.inst_id}"

    def on_mount(self) -> None:
        """Load from the cache."""
        self.after_compose()
        self.follow_sync()

    def after_compose(self) -> None:
        """Focus the checklist and read the institution."""
        self.query_one(Checklist).focus()
        self.reload()

    def reload(self) -> None:
        """Read the institution again."""
        self.load()

    @work(thread=True, exclusive=True, group="institution", exit_on_error=False)
    def load(self) -> None:
        """Read the institution, its steps and visits off the event loop."""
        store = self.fk.store
        if store is None:
            return
        inst = store.institution(self.inst_id)
        states = store.step_states(self.inst_id) if inst else {}
        visits = store.visits(self.inst_id) if inst else []
        cases = (store.cases(self.inst_id), store.reviews(self.inst_id)) if inst else ([], {})
        drafts = store.drafts(self.inst_id) if inst else []
        self.post_message(self.Loaded(inst, states, visits, cases, drafts))
        check = self._check_op
        if check is not None and store.op_state(check) == "synced":  # a sync round sent it
            self.app.call_from_thread(self._check_sent, check)

    def on_institution_screen_loaded(self, message: Loaded) -> None:
        """Show what was read."""
        lang = self.fk.language
        self.inst, self.states = message.inst, message.states
        if message.inst is None:
            self.query_one("#feedback", WrappedText).update(
                Text(self.t("inst.missing", id=self.inst_id), "bold red")
            )
            return
        self.query_one("#title", Label).update(self._title())
        self.query_one(Checklist).show(message.states)
        self.query_one("#guidance", Static).update(
            guidance_text(self.step_key, lang, message.states.get(self.step_key))
        )
        self.query_one("#details", Static).update(details_table(message.inst, lang))
        self.visits = message.visits
        self.query_one("#visits", Static).update(
            visits_text(message.visits, lang, self.fk.status_view.sending)
        )
        self.query_one(CasePanel).show(message.cases, message.visits, message.reviews)
        self._mount_code_check(message.inst)
        if self.fk.store is not None:
            self.query_one(PlatformPanel).show_for(
                self.fk.store, self.inst_id, message.states, lang
            )
        self._say_if_visit_sent(message.visits)
        open_now = self._visit_open()
        self.drafts = [d for d in message.drafts if d.visit_id != open_now]
        # A draft is offered once, when this screen is the one shown: never over a visit being
        # typed or a dialog (a sync round reloads under them), never again once answered, and
        # never for a visit started from here (left with Esc, it is kept: v goes on with it).
        waiting = [d for d in self.drafts if d.visit_id not in self._drafts_seen]
        if waiting and self.app.screen is self:
            self._drafts_seen.update(d.visit_id for d in self.drafts)
            self._offer_draft(waiting[0])

    def _visit_open(self) -> str | None:
        """The id of the visit being recorded right now (a VisitScreen in the stack), if any."""
        from .visit import VisitScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, VisitScreen):
                return screen.visit_id
        return None

    def _offer_draft(self, draft: Any) -> None:
        """A visit was being recorded here when the app last stopped: offer to go on with it."""
        when = draft.started_at[:16].replace("T", " ")

        def answer(resume: bool | None) -> None:
            if resume:
                self.drafts = [draft, *(d for d in self.drafts if d is not draft)]
                self.action_start_visit()

        self.app.push_screen(
            ConfirmDialog(self.t("draft.offer", when=when), self.fk.language, destructive=False),
            answer,
        )

    def _mount_code_check(self, inst: dict[str, Any]) -> None:
        """The on-site check field, once the institution (and its signed code) is known."""
        if self.query(CodeCheckInput):
            return
        field = CodeCheckInput(
            inst,
            self.fk.settings.office_public_key,
            self.fk.language,
            store=self.fk.store,
            id="code-check",
        )
        self.query_one("#qr-box").mount(field, before=self.query_one("#code-result"))

    @on(CodeCheckInput.Checked)
    def _code_checked(self, event: CodeCheckInput.Checked) -> None:
        style = "bold green" if event.check.is_match else "bold red"
        text = Text(
            ("✓ " if event.check.is_match else "✗ ") + event.check.message(self.fk.language), style
        )
        if event.recorded:
            text.append("\n" + self.t("inst.code_recorded"), "dim")
            self._check_op = event.check_id
            self.fk.changed_locally()
        self.query_one("#code-result", WrappedText).update(text)
        if event.image is not None and event.check_id is not None:
            self.offer_check_photo(event.image, event.check_id)

    def _check_sent(self, check_id: str) -> None:
        """The check shown as waiting went to the office: say so instead of 'not yet sent'."""
        if self._check_op != check_id:
            return
        self._check_op = None
        result = self.query_one("#code-result", WrappedText)
        waiting = self.t("inst.code_recorded")
        if waiting in result.plain:
            lines = result.text.split("\n")
            lines[-1] = Text(self.t("inst.code_sent"), "green")
            result.update(Text("\n").join(lines))

    def action_print_notice(self) -> None:
        """Write a visit's rectification notice (asking which, if several) and say where."""
        from .notice_print import choose_and_print

        choose_and_print(self.fk, self.visits, self)

    def on_notice_writing(self) -> None:
        """The notice is being written: the feedback line says so until it is done."""
        self.query_one("#feedback", WrappedText).update(Text(self.t("notice.writing"), "dim"))

    def on_notice_written(self, message: NoticeWritten) -> None:
        """Where the notice is (or why not), in place of 'being written'."""
        feedback = self.query_one("#feedback", WrappedText)
        if feedback.plain == self.t("notice.writing"):
            feedback.update(Text(message.text, "green" if message.ok else "bold red"))

    def offer_check_photo(self, image: Any, check_id: str) -> None:
        """Ask whether the photo the code was read from is kept as the check's evidence."""
        from .dialogs.confirm import ConfirmDialog

        def keep(yes: bool | None) -> None:
            if yes:
                self.keep_check_photo(image, check_id)

        self.app.push_screen(
            ConfirmDialog(self.t("visit.keep_check_photo"), self.fk.language), keep
        )

    @work(thread=True, group="evidence-attach", exit_on_error=False)
    def keep_check_photo(self, image: Any, check_id: str) -> None:
        """Reduce and keep the photo with the check it proves."""
        from fieldkit.evidence import prepare

        store = self.fk.store
        assert store is not None
        try:
            kept = prepare(image)
            tech = self.fk.settings.technician
            store.attach("check", check_id, kept.data, kept.wire(), by=tech.id if tech else "")
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Saved(self.t("key.evidence")))

    @on(CodeCheckInput.Failed)
    def _code_failed(self, event: CodeCheckInput.Failed) -> None:
        self.query_one("#code-result", WrappedText).update(
            Text("✗ " + event.text(self.fk.language), "bold red")
        )

    @on(Checklist.StepHighlighted)
    def _show_guidance(self, event: Checklist.StepHighlighted) -> None:
        self.step_key = event.step
        self.query_one("#guidance", Static).update(
            guidance_text(event.step, self.fk.language, self.states.get(event.step))
        )

    # changes ----------------------------------------------------------------------------------
    def action_set_status(self, status: str) -> None:
        """Set the selected step to `status` (blocked asks for a reason first)."""
        step = self.query_one(Checklist).selected_step()
        if status == domain.BLOCKED:
            title = self.t("dialog.reason_title", step=step_name(step, self.fk.language))

            def blocked(reason: str | None) -> None:
                if reason:
                    self.save_step(step, status, reason)

            self.app.push_screen(ReasonDialog(title, self.fk.language), blocked)
            return
        self.save_step(step, status, None)

    @work(thread=True, group="save", exit_on_error=False)
    def save_step(self, step: str, status: str, reason: str | None) -> None:
        """Save a step change to the cache and its outbox, or report the refusal."""
        store, tech = self.fk.store, self.fk.settings.technician
        assert store is not None
        try:
            store.set_step(self.inst_id, step, status, reason, by=tech.id if tech else "")
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc))
            return
        lang = self.fk.language
        self.post_message(self.Saved(f"{step_name(step, lang)} → " + tr(f"key.{status}", lang)))

    def action_edit_contact(self) -> None:
        """Edit the contact person and phone."""
        if self.inst is None:
            return

        def save(answer: tuple[str, str] | None) -> None:
            if answer:
                self.save_contact(*answer)

        self.app.push_screen(
            ContactDialog(
                self.inst.get("contact_name") or "",
                self.inst.get("contact_phone") or "",
                self.fk.language,
            ),
            save,
        )

    @work(thread=True, group="save", exit_on_error=False)
    def save_contact(self, name: str, phone: str) -> None:
        """Save the contact to the cache and its outbox."""
        store = self.fk.store
        assert store is not None
        try:
            store.set_contact(self.inst_id, contact_name=name, contact_phone=phone)
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Saved(self.t("inst.contact")))

    def on_institution_screen_saved(self, message: Saved) -> None:
        """Say it is saved, show it as unsent, and let the sync know."""
        self.query_one("#feedback", WrappedText).update(
            Text(self.t("inst.saved", what=message.what), "green")
        )
        self.fk.changed_locally()
        self.reload()

    @on(CasePanel.Saved)
    def _case_saved(self, event: CasePanel.Saved) -> None:
        self.on_institution_screen_saved(self.Saved(event.what))

    @on(CasePanel.Refused)
    def _case_refused(self, event: CasePanel.Refused) -> None:
        self.on_institution_screen_refused(self.Refused(event.error))

    def on_institution_screen_refused(self, message: Refused) -> None:
        """Say why the change was refused."""
        text = message.error.message(self.fk.language)
        self.query_one("#feedback", WrappedText).update(Text("✗ " + text, "bold red"))
        self.notify(text, severity="error", timeout=6)

    # navigation -------------------------------------------------------------------------------
    @on(Button.Pressed, "#contact")
    def _contact_button(self) -> None:
        self.action_edit_contact()

    @on(Button.Pressed, "#visit")
    def action_start_visit(self) -> None:
        """Start a visit to this institution now."""
        from .visit import VisitScreen

        if self.inst is not None and self._visit_open() is None:  # never a second visit form
            draft = self.drafts[0] if self.drafts else None  # go on with it, never a second one
            self.drafts = self.drafts[1:]
            visit = VisitScreen(self.inst_id, self.inst["name"], self.inst, draft=draft)
            self._drafts_seen.add(visit.visit_id)
            self.app.push_screen(visit, lambda saved: self._visit_ended(visit.visit_id, saved))

    def _visit_ended(self, visit_id: str, saved: bool | None) -> None:
        """Say the visit was saved, in place of what the line said before it."""
        feedback = Text(self.t("visit.saved"), "green") if saved else ""
        self.query_one("#feedback", WrappedText).update(feedback)
        self._unsent_visit = visit_id if saved else None

    def _say_if_visit_sent(self, visits: list[dict[str, Any]]) -> None:
        """The visit shown as waiting went to the office: say so instead of 'not yet sent'."""
        sent = [v for v in visits if v["visit_id"] == self._unsent_visit]
        if not sent or sent[0].get("sync_state", "synced") != "synced":
            return
        self._unsent_visit = None
        feedback = self.query_one("#feedback", WrappedText)
        if feedback.plain == self.t("visit.saved"):
            feedback.update(Text(self.t("visit.sent_now"), "green"))

    def on_screen_resume(self) -> None:
        """Back from a visit or a dialog: read again."""
        self.reload()

    def action_show_evidence(self) -> None:
        """Photos and PDFs of this institution's visits, checks and cases: attach, open."""
        from .dialogs.evidence import EvidenceDialog

        if self.inst is None:
            return

        def back(attached: bool | None) -> None:
            if attached:
                self.reload()

        self.app.push_screen(
            EvidenceDialog(self.inst_id, self.inst["name"], self.fk.language), back
        )

    @on(Button.Pressed, "#qr")
    def action_show_qr(self) -> None:
        """Open the payment-code view (from the QR part, when installed)."""
        from .qr import QRScreen

        if self.inst is None:
            return
        settings = self.fk.settings
        self.app.push_screen(
            QRScreen(
                self.inst,
                settings.office_public_key,
                self.fk.language,
                store=self.fk.store,
                office_name=settings.office_name,
            )
        )

    def action_show_tab(self, name: str) -> None:
        """Switch to a tab and put the cursor in it."""
        self.query_one("#tabs", TabbedContent).active = f"tab-{name}"
        if name == "qr" and self.query("#code-check"):
            self.query_one("#code-check").focus()  # a USB scanner types into it, not into keys
            return
        target = {
            "checklist": "#checklist",
            "details": "#contact",
            "visits": "#visit",
            "qr": "#qr",
            "cases": "#case-pick",
            "platform": "#charge",
        }[name]
        self.query_one(target).focus()

    @on(TabbedContent.TabActivated, pane="#tab-qr")
    def _payment_tab_shown(self) -> None:
        """The payment tab, however reached: the code field takes the keys (a scan, typing)."""
        if self.query("#code-check"):
            self.query_one("#code-check").focus()

    def action_back(self) -> None:
        """Back to the list; from the code field, out of the field first (as Esc leaves the
        list's search box), so the tab keys and the screen's own keys work again."""
        if isinstance(self.app.focused, CodeCheckInput):
            self.query_one("#qr").focus()
            return
        self.app.pop_screen()

    # charges seen on site (the platform tab) --------------------------------------------------
    @on(Button.Pressed, "#charge")
    def action_record_charge(self) -> None:
        """Ask what the institution charges, then record it (checked against the rules)."""
        parts = self.query_one(PlatformPanel).parts or {}

        def record(entry: ChargeEntry | None) -> None:
            if entry is not None:
                self.save_charge(entry)

        self.app.push_screen(ChargeDialog(parts.get("courses") or [], self.fk.language), record)

    @work(thread=True, group="save", exit_on_error=False)
    def save_charge(self, entry: ChargeEntry) -> None:
        """Save the observed charge and its op; say which rules it breaks."""
        store = self.fk.store
        assert store is not None
        try:
            _, breaches = record_entry(store, self.inst_id, None, entry)
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Saved(charge_words(breaches, self.fk.language)))
