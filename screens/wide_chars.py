"""Chinese characters kept whole where a toast (or any overlay) lies over other widgets' edges.

Textual 8 paints a line in pieces cut at every column where any visible widget starts or ends,
the widgets below an overlay included, and a double-width character that a cut falls through is
replaced by two spaces. A toast over the list loses the character at the list's scrollbar edge
("常德童画音乐" shows as "常德童" / "音乐"); a bare app with nothing below its toast does not show
it. Upstream: https://github.com/Textualize/textual/issues/6357 (open in 8.2.8, the newest).

The only change made here: a widget's line is cut only where another widget's piece begins or
ends, not at every edge of the widgets it covers; the pieces it wins in a row are painted as one
(the others of the row left empty, so nothing below claims them). Everything else is Textual's.
Remove this module once Textual keeps wide characters whole itself (its test says when).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

_ORIGINAL = Compositor._render_chops
_EMPTY = Strip([])


def _render_chops(
    self: Compositor, crop: Region, is_rendered_line: Callable[[int], bool]
) -> Sequence[Mapping[int, Strip]]:
    """Each line's pieces by starting column, front widget first (as Textual's own), except that
    the pieces one widget wins side by side are one piece, so no character of it is cut."""
    cuts = self.cuts
    chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    for region, clip, strips in self._get_renders(crop):
        render_region = region.intersection(clip)
        render_x = render_region.x
        first_cut, last_cut = render_region.column_span
        for y, strip in zip(render_region.line_range, strips, strict=False):
            if not is_rendered_line(y):
                continue
            line = chops[y]
            final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
            starts = final_cuts[:-1]
            if not starts:
                continue
            free = [line.get(cut) is None for cut in starts]
            # cut only where what is painted changes hands: from this widget to one above it
            runs = [0] + [i for i in range(1, len(starts)) if free[i] != free[i - 1]]
            ends = [starts[i] for i in runs[1:]] + [final_cuts[-1]]
            pieces = strip.divide([end - render_x for end in ends])
            for run, (first, piece) in enumerate(zip(runs, pieces, strict=False)):
                if not free[first]:
                    continue
                line[starts[first]] = piece
                last = runs[run + 1] if run + 1 < len(runs) else len(starts)
                for i in range(first + 1, last):
                    line[starts[i]] = _EMPTY  # painted by the piece that begins the run
    return chops  # type: ignore[return-value]  # every piece is filled by the screen's own


def _fits(original: object) -> bool:
    """Whether Textual's compositor is still the one this replacement was written against (its
    method's parameters and the two members it reads); another Textual keeps its own cutting."""
    import inspect

    try:
        names = list(inspect.signature(original).parameters)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return names == ["self", "crop", "is_rendered_line"] and all(
        hasattr(Compositor, member) for member in ("cuts", "_get_renders")
    )


# Fingerprints (sha256 of the source, first 16 hex digits) of the Textual code this module was
# written against and works with (Textual 8.2.8): the cutting it replaces, and the partial
# update that crops the pieces it makes.
KNOWN_SOURCES = {
    "Compositor._render_chops": "ca8c3359d7afd017",
    "ChopsUpdate.render_segments": "4c1cdb567e0b8354",
    "Compositor.render_partial_update": "888dccc892d8ecc2",
}


def textual_is_the_known_one() -> bool:
    """Whether Textual's code around the replacement is exactly the code it was written with
    (~3 ms of reading source: asked once the first screen is painted, not at start)."""
    import hashlib
    import inspect

    from textual._compositor import ChopsUpdate

    functions: dict[str, Callable[..., object]] = {
        "Compositor._render_chops": _ORIGINAL,
        "ChopsUpdate.render_segments": ChopsUpdate.render_segments,
        "Compositor.render_partial_update": Compositor.render_partial_update,
    }
    try:
        seen = {
            name: hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()[:16]
            for name, fn in functions.items()
        }
    except (OSError, TypeError):
        return False  # (no source to compare: Textual's own cutting)
    return seen == KNOWN_SOURCES


def check_textual() -> None:
    """Once the first screen is painted: back to Textual's own cutting unless its code is the
    known one (a later Textual 8.x may cut or crop otherwise, or have fixed textual#6357)."""
    if not textual_is_the_known_one():
        textual_cuts_wide_characters()


def keep_wide_characters_whole() -> None:
    """Use the line cutting above in every screen (idempotent), as long as Textual's compositor
    is the one it was written for: a later Textual that changed it paints as it does itself."""
    if _fits(_ORIGINAL):
        Compositor._render_chops = _render_chops  # type: ignore[method-assign]


def textual_cuts_wide_characters() -> None:
    """Textual's own line cutting again (for the test that tells when this module can go)."""
    Compositor._render_chops = _ORIGINAL  # type: ignore[method-assign]
