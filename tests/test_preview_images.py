"""The terminal is asked what pictures it can draw when the first one is shown, never at start.

The image library asks at its import, which only works while Textual does not own the terminal:
`load_images` suspends the app around that import, so the question is asked of the plain
terminal (a real pty here), and says why when pictures are off or cannot be drawn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

# A stand-in app whose suspend() notes what was imported when the terminal was handed back.
# (Textual's own suspend needs a real driver; the app's Pilot tests draw pictures headless.)
PROBE = """
import contextlib, json, sys
from screens.dialogs.preview import load_images

seen = {"suspensions": 0}

class Suspending:
    @contextlib.contextmanager
    def suspend(self):
        seen["suspensions"] += 1
        seen["before"] = "textual_image.widget" in sys.modules
        yield
        seen["inside"] = "textual_image.widget" in sys.modules

first = load_images(Suspending())
again = load_images(Suspending())
print(json.dumps({"why": first, "again": again, **seen}))
"""


def _run(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_image_library_is_imported_inside_the_suspension_once() -> None:
    result = _run({"FIELDKIT_IMAGES": ""})
    assert result["why"] is None and result["again"] is None
    assert result["before"] is False and result["inside"] is True
    assert result["suspensions"] == 1  # the second picture asks nothing


def test_pictures_turned_off_say_so_and_ask_nothing() -> None:
    result = _run({"FIELDKIT_IMAGES": "off"})
    assert result["why"] == "FIELDKIT_IMAGES=off"
    assert result["suspensions"] == 0
