"""The sync screen: what waits to be sent, what the office refused and why, conflicts, last errors."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Label, Static

from fieldkit import domain

from .base import FieldkitScreen
from .dialogs.confirm import ConfirmDialog
from .i18n import MESSAGES, shown_sync_state, status_name, step_name, tr
from .widgets.footer import TranslatedFooter
from .widgets.status_bar import StatusBar, short_time

UNSENT_LIMIT = 200


def op_summary(op: dict[str, Any], lang: str) -> str:
    """What an outbox op changes, in words."""
    kind = op.get("kind", "")
    if kind == "step.set":
        data = op.get("data") or {}
        return tr(
            "op.step.set",
            lang,
            step=step_name(data.get("step"), lang),
            status=status_name(str(data.get("status")), lang),
        )
    key = f"op.{kind}"
    return tr(key, lang) if key in MESSAGES else kind


def op_time(op: dict[str, Any], tz: tzinfo | None) -> str:
    """When the change was made ('11-28 09:15'), read from its clock stamp, in the app's zone."""
    try:
        ms = domain.Stamp.parse(op.get("hlc") or "").ms
    except domain.DomainError:
        return short_time(op.get("created_at")) or ""
    return datetime.fromtimestamp(ms / 1000, tz or UTC).strftime("%m-%d %H:%M")


REASON_WIDTH = 24  # cells of the reason column; the detail line under the table has the rest
REASON_WIDTH_NARROW = 16  # below 100 columns (80x24: 11 + 20 + 20 + 16 and the cells' padding)


def reason_words(op: dict[str, Any], lang: str) -> str:
    """Why the office refused an op: its own message in this language, else the reason code's."""
    message = op.get("message") or ""
    if " / " in message:
        zh, en = message.split(" / ", 1)
        return zh if lang == "zh" else en
    if message:
        return message
    key = f"reason.{op.get('reason')}"
    return tr(key, lang) if key in MESSAGES else str(op.get("reason") or "")


class SyncScreen(FieldkitScreen):
    """Unsent and rejected changes; discard a rejected one after confirming."""

    CSS_PATH = "sync_screen.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("x", "discard", "Discard", id="discard"),
        Binding("o", "open_institution", "Open institution", id="open_institution"),
    ]

    class Loaded(Message):
        """The outbox as the cache holds it."""

        def __init__(
            self,
            unsent: list[dict[str, Any]],
            rejected: list[dict[str, Any]],
            conflicts: list[dict[str, Any]],
            names: dict[str, str],
        ) -> None:
            super().__init__()
            self.unsent, self.rejected, self.conflicts, self.names = (
                unsent,
                rejected,
                conflicts,
                names,
            )

    class Discarded(Message):
        """A rejected op was given up."""

    def compose(self) -> ComposeResult:
        """Four sections, top to bottom."""
        yield StatusBar()
        with VerticalScroll():
            yield Label("", id="rejected-title", classes="section")
            yield DataTable(id="rejected", cursor_type="row")
            yield Static("", id="rejected-detail")
            yield Label("", id="unsent-title", classes="section")
            yield DataTable(id="unsent", cursor_type="row")
            yield Label("", id="conflicts-title", classes="section")
            yield Static("", id="conflicts")
            yield Label(self.t("syncs.errors"), classes="section")
            yield Static("", id="errors")
        yield TranslatedFooter()

    def on_mount(self) -> None:
        """Columns, then the data; again after every sync round."""
        self.after_compose()
        self.watch(self.app, "status_view", lambda _view: self.reload(), init=False)

    def after_compose(self) -> None:
        """Columns, focus, data."""
        # at 80 columns the four columns fit without a sideways scroll (the reason half hidden)
        narrow = self.app.size.width < 100
        for table_id in ("#rejected", "#unsent"):
            table = self.query_one(table_id, DataTable)
            table.add_column(self.t("syncs.col_when"), width=11)
            table.add_column(self.t("syncs.col_inst"), width=20)
            table.add_column(self.t("syncs.col_kind"), width=20 if narrow else 26)
            # fixed widths: an auto-sized column is measured again at every reload, and a header
            # drawn before the rows' measure came in stayed narrow (the zh snapshot, now and then)
            if table_id == "#rejected":  # 12 Chinese characters; the line below shows it whole
                reason = REASON_WIDTH_NARROW if narrow else REASON_WIDTH
                table.add_column(self.t("syncs.col_reason"), width=reason)
            else:
                table.add_column(self.t("syncs.col_state"), width=10)
        self.query_one("#rejected", DataTable).focus()
        self.reload()

    def reload(self) -> None:
        """Read the outbox again."""
        self.load()

    @work(thread=True, exclusive=True, group="outbox", exit_on_error=False)
    def load(self) -> None:
        """Read unsent and rejected ops off the event loop."""
        store = self.fk.store
        if store is None:
            return
        unsent = store.pending_ops(UNSENT_LIMIT)
        rejected = store.rejected_ops()
        conflicts = store.conflicts()
        names: dict[str, str] = {}
        for op in unsent + rejected:
            inst_id = op.get("institution_id") or ""
            if inst_id and inst_id not in names:
                inst = store.institution(inst_id)
                names[inst_id] = inst["name"] if inst else inst_id
        self.post_message(self.Loaded(unsent, rejected, conflicts, names))

    def on_sync_screen_loaded(self, message: Loaded) -> None:
        """Fill the tables (left alone when nothing changed since the last reading)."""
        lang = self.fk.language
        shown = (
            lang,
            self.fk.status_view.sending,
            self.fk.status_view.last_error,
            tuple((op["op_id"], op.get("state"), op.get("reason")) for op in message.rejected),
            tuple((op["op_id"], op.get("state")) for op in message.unsent),
            tuple(str(c) for c in message.conflicts),
        )
        if shown == getattr(self, "_shown", None):
            return
        self._shown = shown
        self.query_one("#rejected-title", Label).update(
            self.t("syncs.rejected", n=len(message.rejected))
        )
        self.query_one("#unsent-title", Label).update(self.t("syncs.unsent", n=len(message.unsent)))
        for table_id, ops in (("#rejected", message.rejected), ("#unsent", message.unsent)):
            table = self.query_one(table_id, DataTable)
            table.clear()
            for op in ops:
                inst_id = op.get("institution_id") or ""
                last = (
                    Text(reason_words(op, lang), "red", overflow="ellipsis", no_wrap=True)
                    if table_id == "#rejected"
                    else tr(f"sync.{self._shown_state(op)}", lang)
                )
                table.add_row(
                    op_time(op, self.fk.clock().tzinfo),
                    message.names.get(inst_id, inst_id),
                    op_summary(op, lang),
                    last,
                    key=op["op_id"],
                )
        self.rejected = {op["op_id"]: op for op in message.rejected}
        self.ops = {op["op_id"]: op for op in message.rejected + message.unsent}
        self.refresh_bindings()
        self._show_detail()
        self.query_one("#conflicts-title", Label).update(
            self.t("syncs.conflicts", n=len(message.conflicts))
        )
        self.query_one("#conflicts", Static).update(
            "\n".join(op_summary(c, lang) for c in message.conflicts) or self.t("common.none")
        )
        error = self.fk.status_view.last_error
        self.query_one("#errors", Static).update(
            Text(error, "red") if error else Text(self.t("syncs.no_errors"), "dim")
        )

    def _shown_state(self, op: dict[str, Any]) -> str:
        """An op's state as the user should read it: 'sending' only while a round is running.

        (An op stays 'sending' in the cache after a round that failed, until it is sent again.)"""
        return shown_sync_state(str(op.get("state") or "unsent"), self.fk.status_view.sending)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer Discard only when something was rejected, Open only when a change is listed."""
        if action == "discard":
            return bool(getattr(self, "rejected", None))
        if action == "open_institution":
            return bool(getattr(self, "ops", None))
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the whole reason of the highlighted rejected change."""
        if event.data_table.id == "rejected":
            self._show_detail()

    def _show_detail(self) -> None:
        table = self.query_one("#rejected", DataTable)
        rejected = getattr(self, "rejected", {})
        if table.row_count == 0 or not rejected:
            self.query_one("#rejected-detail", Static).update("")
            return
        op_id = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        op = rejected.get(op_id or "")
        if op is not None:
            lang = self.fk.language
            colon = "：" if lang == "zh" else ": "
            self.query_one("#rejected-detail", Static).update(
                Text(f"{op_summary(op, lang)}{colon}{reason_words(op, lang)}", "red")
            )

    def action_open_institution(self) -> None:
        """Open the institution of the highlighted change, to make it again correctly."""
        from .institution import InstitutionScreen

        table = (
            self.focused
            if isinstance(self.focused, DataTable)
            else self.query_one("#rejected", DataTable)
        )
        if table.row_count == 0:
            return
        op_id = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        op = getattr(self, "ops", {}).get(op_id or "")
        if op and op.get("institution_id"):
            self.app.push_screen(InstitutionScreen(op["institution_id"]))

    def action_discard(self) -> None:
        """Give up the selected rejected change, after confirming."""
        table = self.query_one("#rejected", DataTable)
        if table.row_count == 0:
            self.notify(self.t("syncs.pick_rejected"), severity="warning")
            return
        op_id = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        assert op_id is not None

        def answered(yes: bool | None) -> None:
            if yes:
                self.discard(op_id)

        self.app.push_screen(
            ConfirmDialog(self.t("syncs.confirm_discard"), self.fk.language), answered
        )

    @work(thread=True, group="save", exit_on_error=False)
    def discard(self, op_id: str) -> None:
        """Discard one rejected op in the cache."""
        store = self.fk.store
        assert store is not None
        store.discard_op(op_id)
        self.post_message(self.Discarded())

    def on_sync_screen_discarded(self) -> None:
        """Say so, and refresh the counts and the tables."""
        self.notify(self.t("syncs.discarded"))
        self.fk.changed_locally()
        self.reload()

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
