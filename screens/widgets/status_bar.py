"""The status line every screen shows: who, online or not, what is waiting to be sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from ..i18n import tr


@dataclass(frozen=True)
class StatusView:
    """What the status bar shows; built from the sync status and the cache counts."""

    technician: str = ""
    configured: bool = False
    online: bool | None = None
    sending: bool = False
    unsent: int = 0
    rejected: int = 0
    last_success: str | None = None
    last_error: str | None = None
    files_waiting: int = 0  # evidence files still to upload
    uploading: tuple[int, int] | None = None  # (bytes sent, bytes to send)


class StatusChanged(Message):
    """The sync status or the cache counts changed."""

    def __init__(self, view: StatusView) -> None:
        super().__init__()
        self.view = view


def short_time(stamp: str | None, tz: tzinfo | None = None) -> str | None:
    """'11-28 16:05' in zone `tz` (local time by default) from an ISO timestamp."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return moment.strftime("%m-%d %H:%M")


GAP = "  "  # between the parts, unstyled: "offline" and "unsent 3" stay apart in any viewer


def render_status(view: StatusView, lang: str, tz: tzinfo | None = None) -> Text:
    """The status line as styled text."""
    line = Text(no_wrap=True, overflow="ellipsis")
    if view.technician:
        line.append(f" {view.technician} ", "bold")
    if not view.configured:
        line.append("○ " + tr("status.no_sync", lang), "dim")
    elif view.online is None:
        line.append("○ " + tr("status.unknown", lang), "yellow")
    elif view.online:
        line.append("● " + tr("status.online", lang), "green")
    else:
        line.append("● " + tr("status.offline", lang), "red")
    if view.sending:
        line.append(GAP).append(tr("status.sending", lang), "cyan")
    line.append(GAP).append(
        tr("status.unsent", lang, n=view.unsent), "bold yellow" if view.unsent else ""
    )
    line.append(GAP).append(
        tr("status.rejected", lang, n=view.rejected), "bold red" if view.rejected else ""
    )
    if view.uploading is not None:
        done, total = view.uploading
        line.append(GAP).append(
            "↑ "
            + tr(
                "evidence.upload_status",
                lang,
                done=f"{done / 1048576:.1f}",
                total=f"{total / 1048576:.1f}",
            ),
            "cyan",
        )
    elif view.files_waiting:
        line.append(GAP).append(tr("evidence.files_waiting", lang, n=view.files_waiting), "yellow")
    when = short_time(view.last_success, tz)
    line.append(GAP).append(
        tr("status.last_sync", lang, when=when) if when else tr("status.never", lang), "dim"
    )
    return line


class StatusBar(Static):
    """One line at the top of every screen, following the app's `status_view`."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; }
    """

    def on_mount(self) -> None:
        """Follow the app's status and language."""
        self.watch(self.app, "status_view", self._show, init=True)

    def _show(self, view: StatusView) -> None:
        app: Any = self.app
        self.update(render_status(view, app.language, app.clock().tzinfo))
