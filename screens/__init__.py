"""The Textual app: screens, widgets, dialogs and their styles."""

import os

# Textual draws changes at most TEXTUAL_FPS times a second (a timer); at its default of 60 the
# list a keystroke updated waits up to 17 ms for its frame, twice per keystroke (the search box,
# then the list). 120 halves the wait; nothing is drawn more often when nothing changes.
# (Read when Textual is first imported, which importing this package comes before.)
os.environ.setdefault("TEXTUAL_FPS", "120")
