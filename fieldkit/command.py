"""The installed `fieldkit` command: Python's cycle collector paused while the program loads.

Loading the app allocates the objects of some 400 modules, none of them garbage; with the
collector on, a start ran ~80 collections that found nothing (20-40 ms on this project's test
machine, measured with gc.callbacks). `fieldkit.cli.main` turns the collector back on for every
command but the app, and the app turns it on once its first screen is drawn (screens.app).
"""

from __future__ import annotations

import gc


def main() -> int:
    """`fieldkit ...`: the command line, run with the collector paused until it has loaded."""
    gc.disable()
    from fieldkit.cli import main as run

    return run()
