"""The in-memory search index: every institution's search text as one array of character ids,
with the positions of each character, so any word of any length is found exactly in a few
milliseconds at 77,500 institutions (numpy; imported only when an index is built).

A word is found by taking the positions of its rarest character and keeping those where the
characters around it spell the word (a few vectorised comparisons); one character, and two
characters that are both common, are answered from bitsets made when the index is built. The
answer is a boolean array over rowids. Rows changed since the build are answered from their
current text (`Delta`) until the next build.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.bool_]
SEPARATOR = "\x00"  # between rows in the array; a word holding it is checked row by row
# A character (or a pair of them) in more rows than 1/DENSE of all gets a bitset at build time.
DENSE = 16


@dataclass
class Delta:
    """Rows whose text changed since the index was built: their current text (None: gone)."""

    texts: dict[int, str | None] = field(default_factory=dict)
    stale: Mask | None = None  # rows of the built index that must not be answered from it


# At this offset of a word the position's group is `low`, or (the word's last character, a
# common one) in [low, high) (a pair it begins) or `tail` (it before a rare character).
Check = tuple[int, int, int, int]


class SearchIndex:
    """Which rows hold a word, for every word, from one build over (rowid, text) rows.

    Every position of the text is given a group by what starts there (one radix sort groups
    them): a pair of common characters (one group per pair; common: more than 1/DENSE of the
    rows hold it), a common character before a rare one, or a rare character. A word is looked
    for from its smallest group and kept where the groups at its other offsets agree, two
    characters at a time, so a keystroke never walks the many positions of a common letter.
    """

    file_bytes: bytearray | None = None  # what the arrays are views of, when read from a file

    def __init__(self, rows: Sequence[tuple[int, str]]) -> None:
        rowids = np.fromiter((r for r, _ in rows), dtype=np.int64, count=len(rows))
        texts = [t for _, t in rows]
        self.size = int(rowids.max()) + 1 if len(rows) else 1  # rowids below this
        self.rows = len(rows)
        joined = SEPARATOR.join(texts) + SEPARATOR  # (an empty cache: one separator)
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        counts = np.bincount(points)
        present = np.flatnonzero(counts)  # present[0] == 0: the separator
        table = np.zeros(len(counts), dtype=np.int32)  # code point -> character id
        table[present] = np.arange(len(present), dtype=np.int32)
        ids = table[points]  # the text, as character ids
        self.char_id = {chr(p): i for i, p in enumerate(present.tolist())}
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
        self.row_of = (  # the rowid of each position
            np.repeat(rowids.astype(np.int32), lengths) if len(rows) else np.zeros(1, np.int32)
        )
        self.everyone = self._mask(rowids)
        common = np.flatnonzero(counts[present] > max(1, len(rows) // DENSE))
        common = common[common != 0]
        self.common = n = len(common)
        self.slot = np.full(len(present), n, dtype=np.int32)  # common characters: 0..n-1
        self.slot[common] = np.arange(n, dtype=np.int32)
        self.rare_base = n * n + n  # groups: pairs, then common-before-rare, then rare
        self.key = self._group(ids, self.rare_base + len(present))
        self.char_bits = {int(c): self._pack(self._mask(self._rows_of(int(c)))) for c in common}
        self.pair_bits = {
            pair: self._pack(self._mask(self.row_of[self._group_of(self._pair_key(*pair))]))
            for pair in self._dense_pairs(len(rows) // DENSE)
        }

    # building ----------------------------------------------------------------------------------
    def _group(self, ids: npt.NDArray[np.int32], groups: int) -> npt.NDArray[np.integer]:
        """Each position's group, and the positions sorted by group (`order`, `bounds`)."""
        n = np.int32(self.common)
        slot = self.slot[ids]
        after = np.append(slot[1:], n)
        key = np.where(after < n, slot * n + after, n * n + slot)
        rare = slot == n
        key[rare] = ids[rare] + np.int32(self.rare_base)
        key = key.astype(np.uint16 if groups < 1 << 16 else np.int32)
        self.order = np.argsort(key, kind="stable").astype(np.int32)  # radix sort for 16 bits
        self.sizes = np.bincount(key, minlength=groups)
        self.bounds = np.concatenate(([0], np.cumsum(self.sizes)))
        return key

    def _group_of(self, key: int) -> npt.NDArray[np.int32]:
        return self.order[self.bounds[key] : self.bounds[key + 1]]

    def _pair_key(self, a: int, b: int) -> int:
        return int(self.slot[a]) * self.common + int(self.slot[b])

    def _rows_of(self, char: int) -> npt.NDArray[np.int32]:
        """The rows (with repeats) holding a common character: its pairs' and its tail's."""
        n, here = self.common, int(self.slot[char])
        pairs = self.order[self.bounds[here * n] : self.bounds[here * n + n]]
        return np.concatenate((self.row_of[pairs], self.row_of[self._group_of(n * n + here)]))

    def _dense_pairs(self, dense: int) -> list[tuple[int, int]]:
        """The pairs of common characters at more than `dense` positions."""
        n = self.common
        keys = np.flatnonzero(self.sizes[: n * n] > max(1, dense))
        by_slot = np.flatnonzero(self.slot < n)[np.argsort(self.slot[self.slot < n])]
        return [(int(by_slot[k // n]), int(by_slot[k % n])) for k in keys.tolist()]

    def _mask(self, rowids: npt.NDArray[np.integer]) -> Mask:
        mask = np.zeros(self.size, dtype=np.bool_)
        mask[rowids] = True
        return mask

    @staticmethod
    def _pack(mask: Mask) -> npt.NDArray[np.uint8]:
        return np.packbits(mask, bitorder="little")

    def _unpack(self, packed: npt.NDArray[np.uint8]) -> Mask:
        return np.unpackbits(packed, count=self.size, bitorder="little").view(np.bool_)

    # answering ---------------------------------------------------------------------------------
    def find(self, word: str) -> Mask:
        """The rows (a mask over rowids) whose text holds `word`."""
        chars = [self.char_id.get(ch) for ch in word]
        if not word or None in chars or 0 in chars:  # unknown here, or the separator
            return np.zeros(self.size, dtype=np.bool_)
        ids = [c for c in chars if c is not None]
        if len(ids) == 1 and ids[0] in self.char_bits:
            return self._unpack(self.char_bits[ids[0]])
        if len(ids) == 2 and (ids[0], ids[1]) in self.pair_bits:
            return self._unpack(self.pair_bits[(ids[0], ids[1])])
        return self._mask(self.row_of[self._starts(ids)])

    def _exact(self, ids: list[int], k: int) -> int | None:
        """The one group a match has at offset k of the word, if the word says which."""
        n, here = self.common, int(self.slot[ids[k]])
        if here >= n:
            return self.rare_base + ids[k]
        if k + 1 == len(ids):
            return None  # a common last character: any pair it begins, or its tail
        after = int(self.slot[ids[k + 1]])
        return here * n + after if after < n else n * n + here

    def _starts(self, ids: list[int]) -> npt.NDArray[np.int64]:
        """Where the word begins in the text: its smallest group's positions, kept where the
        groups at the word's other offsets agree (two characters at a time where both are
        common)."""
        exact = [(k, g) for k in range(len(ids)) if (g := self._exact(ids, k)) is not None]
        at, anchor = min(exact, key=lambda kg: int(self.sizes[kg[1]]))
        starts = self._group_of(anchor).astype(np.int64) - at
        starts = starts[(starts >= 0) & (starts <= len(self.key) - len(ids))]
        for k, low, high, tail in self._checks(ids, dict(exact), at):
            if len(starts) == 0:
                break
            found = self.key[starts + k]
            if tail < 0:
                starts = starts[found == low]
            else:
                starts = starts[((found >= low) & (found < high)) | (found == tail)]
        return starts

    def _checks(self, ids: list[int], exact: dict[int, int], anchor: int) -> list[Check]:
        """Offsets covering the word, smallest groups first (the anchor's own left out)."""
        checks: list[tuple[int, Check]] = []
        k = 0
        while k < len(ids):
            covered = 2 if self.slot[ids[k]] < self.common and k + 1 < len(ids) else 1
            if covered == 2 and self.slot[ids[k + 1]] >= self.common:
                covered = 1  # a common character before a rare one: its tail group
            if k == anchor:  # its group is the anchor's: already agreed
                k += covered
                continue
            if k in exact:
                checks.append((int(self.sizes[exact[k]]), (k, exact[k], exact[k] + 1, -1)))
            else:
                here, n = int(self.slot[ids[k]]), self.common
                checks.append((len(self.key), (k, here * n, here * n + n, n * n + here)))
            k += covered
        return [check for _, check in sorted(checks)]

    def nbytes(self) -> int:
        """Memory held by the index's arrays, in bytes."""
        arrays = [self.key, self.order, self.bounds, self.sizes, self.row_of, self.everyone]
        arrays += [self.slot, *self.char_bits.values(), *self.pair_bits.values()]
        return sum(a.nbytes for a in arrays)


def find_all(index: SearchIndex, delta: Delta, words: Iterable[str]) -> Mask:
    """Rows holding every word: the index's answer outside changed rows, the current text's inside."""
    size = max([index.size] + [r + 1 for r in delta.texts])
    hits: Mask | None = None
    for word in words:
        found = index.find(word)
        if size > index.size:
            found = np.concatenate((found, np.zeros(size - index.size, dtype=np.bool_)))
        if delta.stale is not None:
            found &= ~_fit(delta.stale, size)
        for row, text in delta.texts.items():
            if text is not None and word in text:
                found[row] = True
        hits = found if hits is None else hits & found
    return hits if hits is not None else np.ones(size, dtype=np.bool_)


def _fit(mask: Mask, size: int) -> Mask:
    if len(mask) >= size:
        return mask[:size]
    return np.concatenate((mask, np.zeros(size - len(mask), dtype=np.bool_)))
