"""An institution's evidence: attach photos and PDFs to a visit, a code check or a case item.

Paths are typed, pasted or dropped into the field (terminals paste a dropped file's path); a
folder given there is watched (a phone's photos synced to the laptop): here every photo of it not
attached yet is listed and `Ctrl+A` attaches them; while the app runs, the folder is looked at in
the background too (screens.photo_watch) and what arrives is offered to the visit being recorded.
Enter on an empty field opens the selected file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from fieldkit import domain
from fieldkit.evidence import inbox

from ..i18n import tr, visit_kind_name
from ..widgets.evidence import dropped_paths, evidence_table
from .preview import PreviewDialog

if TYPE_CHECKING:
    from ..app import FieldkitApp

WATCH_KEY = inbox.WATCH_KEY  # cache meta: the folder the technician asked to watch
WATCH_EVERY = 3.0  # seconds between looks at the watched folder


def targets(store: Any, inst_id: str, lang: str) -> list[tuple[str, str]]:
    """What evidence can go on, newest first: visits, their code checks, their case items."""
    options: list[tuple[str, str]] = []
    for visit in store.visits(inst_id):
        when = (visit.get("started_at") or "")[:16].replace("T", " ")
        options.append(
            (
                tr(
                    "evidence.target_visit",
                    lang,
                    when=when,
                    kind=visit_kind_name(visit["kind"], lang),
                ),
                json.dumps(["visit", visit["visit_id"], None]),
            )
        )
        rect = visit.get("rectification") or {}
        for index, item in enumerate(rect.get("items") or []):
            options.append(
                (
                    tr("evidence.target_case", lang, n=index + 1, item=item[:24]),
                    json.dumps(["case", visit["visit_id"], index]),
                )
            )
    for event in store.events(inst_id):
        if event["kind"] == "qr.checked":
            when = (event.get("created_at") or "")[:16].replace("T", " ")
            options.append(
                (
                    tr("evidence.target_check", lang, when=when, found=event["data"].get("found")),
                    json.dumps(["check", event["event_id"], None]),
                )
            )
    return options


class PathField(Input):
    """The path field: `?` typed into it empty is the dialog's help (no path starts with `?`)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Leave `?` to the help binding while nothing is typed."""
        if character == "?" and not self.value:
            return False
        return super().check_consume_key(key, character)


class EvidenceDialog(ModalScreen[bool]):
    """List, attach and open an institution's evidence; returns True when something was attached."""

    CSS_PATH = "preview.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="close"),
        Binding("f1", "help", "Help", id="help"),  # a modal screen does not reach the app's
        # before the field types it, while the field leaves it (PathField: while empty)
        Binding("question_mark", "help", "Help", id="help_q", show=False, priority=True),
        Binding("up", "move(-1)", "Previous file", id="previous", show=False),
        Binding("down", "move(1)", "Next file", id="next", show=False),
        Binding(
            "ctrl+a",
            "attach_inbox",
            "Attach new photos of the folder",
            id="attach_inbox",
            priority=True,  # over the field's own ctrl+a
        ),
    ]

    class Attached(Message):
        """Files were kept (rows) or refused (words), in a worker."""

        def __init__(self, rows: list[dict[str, Any]], refused: list[str]) -> None:
            super().__init__()
            self.rows, self.refused = rows, refused

    class Inbox(Message):
        """The watched folder's photos not attached yet."""

        def __init__(self, folder: Path | None, files: list[Path]) -> None:
            super().__init__()
            self.folder, self.files = folder, files

    def __init__(
        self,
        inst_id: str,
        inst_name: str,
        lang: str,
        target: tuple[str, str, int | None] | None = None,
    ) -> None:
        """`target`: the record chosen at first (a case item, from the case screens)."""
        super().__init__()
        self.inst_id, self.inst_name, self.lang = inst_id, inst_name, lang
        self.first_target = json.dumps(list(target)) if target else None
        self.rows: list[dict[str, Any]] = []
        self.selected = 0
        self.inbox: list[Path] = []
        self.changed = False

    @property
    def fk(self) -> FieldkitApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """Target, files, the path field and the watched folder's news."""
        store = self.fk.store
        assert store is not None
        options = targets(store, self.inst_id, self.lang)
        with Vertical(classes="dialog evidence"):
            yield Label(tr("evidence.title", self.lang, name=self.inst_name), classes="title")
            if options:
                values = [value for _, value in options]
                first = self.first_target if self.first_target in values else values[0]
                yield Select(options, value=first, allow_blank=False, id="target", compact=True)
            else:
                yield Label(Text(tr("evidence.no_target", self.lang), "yellow"), id="no-target")
            yield Static("", id="evidence-rows")
            yield PathField(placeholder=tr("evidence.path_hint", self.lang), id="evidence-path")
            yield Label("", id="inbox")
            yield Label("", id="evidence-result", classes="hint")
            yield Label(tr("evidence.keys", self.lang), classes="hint")

    def on_mount(self) -> None:
        """Load the list and start watching the folder, if one was given before."""
        self.query_one("#evidence-path", Input).focus()
        self.reload()
        self.set_interval(WATCH_EVERY, self.look_at_folder)
        self.look_at_folder()

    @work(thread=True, exclusive=True, group="evidence-list", exit_on_error=False)
    def reload(self) -> None:
        """The institution's attachments from the cache."""
        store = self.fk.store
        assert store is not None
        rows = store.attachments(institution_id=self.inst_id)
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.selected = min(self.selected, max(0, len(rows) - 1))
        self.query_one("#evidence-rows", Static).update(
            evidence_table(rows, self.lang, self.selected if rows else None)
        )

    def action_move(self, step: int) -> None:
        """Select the previous or next file."""
        if self.rows:
            self.selected = (self.selected + step) % len(self.rows)
            self._show(self.rows)

    def _target(self) -> tuple[str, str, int | None] | None:
        try:
            value = self.query_one("#target", Select).value
        except Exception:  # noqa: BLE001 - no visit yet: nothing to attach to
            return None
        kind, record_id, item = json.loads(str(value))
        return kind, record_id, item

    @on(Input.Submitted, "#evidence-path")
    def _submitted(self, event: Input.Submitted) -> None:
        """Attach what was typed, pasted or dropped; a folder is watched; empty opens the file."""
        text = event.value.strip()
        if not text:
            self.action_open()
            return
        folder = Path(text.strip("'\"")).expanduser()
        if folder.is_dir():
            self.watch_folder(folder)
            event.input.value = ""
            return
        target = self._target()
        if target is None:
            self._say(tr("evidence.no_target", self.lang), error=True)
            return
        event.input.value = ""
        self._say(tr("evidence.attaching", self.lang))
        self.attach(dropped_paths(text), target)

    @work(thread=True, group="evidence-attach", exit_on_error=False)
    def attach(self, paths: list[Path], target: tuple[str, str, int | None]) -> None:
        """Reduce, hash and keep each file with its record (off the event loop)."""
        from fieldkit.evidence import prepare

        store = self.fk.store
        assert store is not None
        tech = self.fk.settings.technician
        kind, record_id, item = target
        rows, refused = [], []
        for path in paths:
            try:
                kept = prepare(path)
                rows.append(
                    store.attach(
                        kind,
                        record_id,
                        kept.data,
                        kept.wire(),
                        item=item,
                        by=tech.id if tech else "",
                    )
                )
            except domain.DomainError as exc:
                refused.append(f"{path.name}: {exc.message(self.lang)}")
        self.post_message(self.Attached(rows, refused))

    def on_evidence_dialog_attached(self, message: Attached) -> None:
        """Say what was kept and what was refused; the sync sends the kept ones."""
        if message.rows:
            self.changed = True
            self.fk.changed_locally()
        words = [tr("evidence.kept", self.lang, n=len(message.rows))] if message.rows else []
        words += [f"✗ {why}" for why in message.refused]
        words += [str(r["warning"]) for r in message.rows if r.get("warning")]
        self._say("\n".join(words), error=bool(message.refused))
        self.reload()
        self.look_at_folder()

    def _say(self, text: str, error: bool = False) -> None:
        self.query_one("#evidence-result", Label).update(Text(text, "bold red" if error else ""))

    # ---- the watched folder --------------------------------------------------------------

    @work(thread=True, group="evidence-watch", exit_on_error=False)
    def watch_folder(self, folder: Path) -> None:
        """Remember the folder to watch (in the cache, so it is watched next time too)."""
        store = self.fk.store
        assert store is not None
        inbox.watch(store, folder)
        self._look(store)
        if self.fk.photo_watch is not None:
            self.app.call_from_thread(self.fk.photo_watch.look)

    @work(thread=True, exclusive=True, group="evidence-watch", exit_on_error=False)
    def look_at_folder(self) -> None:
        """List the watched folder's photos that are not attached yet."""
        store = self.fk.store
        if store is not None:
            self._look(store)

    def _look(self, store: Any) -> None:
        folder = inbox.watched(store)
        files = [] if folder is None else inbox.unattached(folder, inbox.known(store))
        self.post_message(self.Inbox(folder, files))

    def on_evidence_dialog_inbox(self, message: Inbox) -> None:
        """Show how many new photos the watched folder has."""
        self.inbox = message.files
        label = self.query_one("#inbox", Label)
        if message.folder is None:
            label.update(tr("evidence.no_watch", self.lang))
            return
        names = ", ".join(p.name for p in message.files[:4]) + (
            "…" if len(message.files) > 4 else ""
        )
        label.update(
            tr("evidence.watching", self.lang, folder=message.folder, n=len(message.files))
            + (f"\n{names}" if names else "")
        )

    def action_attach_inbox(self) -> None:
        """Attach the watched folder's new photos to the selected record."""
        target = self._target()
        if target is None or not self.inbox:
            self._say(
                tr("evidence.no_target" if target is None else "evidence.inbox_empty", self.lang)
            )
            return
        self._say(tr("evidence.attaching", self.lang))
        self.attach(list(self.inbox), target)

    # ---- opening -------------------------------------------------------------------------

    def action_open(self) -> None:
        """Open the selected file (fetched from the office if it is not on this laptop)."""
        if self.rows:
            self.app.push_screen(PreviewDialog(self.rows[self.selected], self.lang))

    def action_help(self) -> None:
        """What each key here does (the app's help, which a modal screen does not reach)."""
        self.fk.action_help()

    def action_close(self) -> None:
        """Back to the institution."""
        self.dismiss(self.changed)
