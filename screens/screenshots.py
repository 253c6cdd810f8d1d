"""The palette's screenshot: an SVG of the screen, in a folder that exists, said in words.

Textual saves into the user's Downloads folder, which a fresh Windows profile, a county server
reached over SSH or a container does not have: the screenshot then failed. Here it goes to
Downloads when there is one, else to FIELDKIT_HOME/screenshots (made when needed).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit import paths

from .i18n import tr

if TYPE_CHECKING:
    from .app import FieldkitApp


def screenshot_folder() -> Path:
    """The Downloads folder if this user has one, else fieldkit's own screenshots folder."""
    import platformdirs

    downloads = platformdirs.user_downloads_path()
    return downloads if downloads.is_dir() else paths.home() / "screenshots"


async def save_screenshot(app: FieldkitApp, filename: str | None, folder: str | None) -> None:
    """Export the screen now (on the event loop), write it in a thread, then say where."""
    svg = app.export_screenshot()
    name = filename or f"fieldkit-{datetime.now():%Y-%m-%d_%H%M%S}.svg"
    target = (Path(folder).expanduser() if folder else screenshot_folder()) / name
    try:
        await asyncio.to_thread(_write, target, svg)
    except OSError as exc:
        app.notify(tr("screenshot.failed", app.language, why=exc), severity="error", timeout=10)
        return
    app.notify(tr("screenshot.saved", app.language, path=str(target)), timeout=10)


def _write(target: Path, svg: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(svg, "utf-8")
