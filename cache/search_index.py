"""The in-memory search index: every institution's search text as one array of character ids
and a suffix array over it, so any word of any length is found exactly in well under a
millisecond at 77,500 institutions, however many rows hold it (numpy; imported only when an
index is built or read).

The suffix array lists every position of the text in the order of what follows it (to
`depth` characters; a longer word is checked beyond them), so the positions where a word
begins are one contiguous range, found by two binary searches; the rows of that range are
kept beside it in the same order. A common character, and a pair of them, is answered from a
bitset made when the index is built (its range would be hundreds of thousands of positions).
The answer is a boolean array over rowids. Rows changed since the build are answered from
their current text (`Delta`) until the next build.
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
DEPTH = 8  # the suffixes are sorted this many characters deep, where the sort keys allow
FIRST = DEPTH  # at most this many characters in the first pass of the sort (tests lower it)
PAD = 1  # a separator after the text's end, so the character after any position can be read


@dataclass
class Delta:
    """Rows whose text changed since the index was built: their current text (None: gone)."""

    texts: dict[int, str | None] = field(default_factory=dict)
    stale: Mask | None = None  # rows of the built index that must not be answered from it


class SearchIndex:
    """Which rows hold a word, for every word, from one build over (rowid, text) rows.

    `text`: the rows' texts joined by SEPARATOR, as character ids (0: the separator, the
    smallest), and PAD separators more; `order`: the positions of `text` sorted by the `depth` characters from each;
    `rows_in_order`: the row of each of those positions; `heads[c]`: where the positions
    beginning with character c start in `order`.
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
        ids = table[points].astype("<u2" if len(present) <= 1 << 16 else "<u4")
        del points
        self.text = np.concatenate((ids, np.zeros(PAD, dtype=ids.dtype)))
        self.char_id = {chr(p): i for i, p in enumerate(present.tolist())}
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
        row_of = (  # the rowid of each position
            np.repeat(rowids.astype(np.int32), lengths) if len(rows) else np.zeros(1, np.int32)
        )
        self.everyone = self._mask(rowids)
        self.order, self.depth = _suffix_order(ids, len(present))
        del ids
        self.rows_in_order = row_of[self.order]
        del row_of
        self.heads = np.concatenate(([0], np.cumsum(counts[present]))).astype(np.int64)
        dense = max(1, len(rows) // DENSE)
        self.char_bits: dict[int, npt.NDArray[np.uint8]] = {}
        self.pair_bits: dict[tuple[int, int], npt.NDArray[np.uint8]] = {}
        for char in range(1, len(present)):
            low, high = int(self.heads[char]), int(self.heads[char + 1])
            if high - low <= dense:
                continue  # (fewer positions than a bitset's worth of rows)
            bits = self._pack(self._mask(self.rows_in_order[low:high]))
            if int(np.bitwise_count(bits).sum()) <= dense:
                continue
            self.char_bits[char] = bits
            if self.depth >= 2:  # (the pairs a character begins are in runs)
                self._dense_pairs(char, low, high, dense)

    # building ----------------------------------------------------------------------------------
    def _dense_pairs(self, char: int, low: int, high: int, dense: int) -> None:
        """Bitsets for the pairs beginning with a common character that are in many rows."""
        after = self.text[self.order[low:high].astype(np.int64) + 1]  # (PAD: never past it)
        edges = np.flatnonzero(np.diff(after.astype(np.int64))) + 1  # (sorted: one run a pair)
        starts = np.concatenate(([0], edges))
        ends = np.concatenate((edges, [len(after)]))
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            second = int(after[start])
            if end - start <= dense or second == 0:
                continue
            bits = self._pack(self._mask(self.rows_in_order[low + start : low + end]))
            if int(np.bitwise_count(bits).sum()) > dense:
                self.pair_bits[(char, second)] = bits

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
        return self._mask(self._rows(ids))

    def _rows(self, ids: list[int]) -> npt.NDArray[np.int32]:
        """The row of every position where the word begins (with repeats)."""
        depth = self.depth
        if len(ids) <= depth:
            low, high = self._range(ids)
            return self.rows_in_order[low:high]
        # Longer than the sort: the smallest range of `depth` characters, checked around it.
        windows = sorted({*range(0, len(ids) - depth + 1, depth), len(ids) - depth})
        ranges = [(self._range(ids[at : at + depth]), at) for at in windows]
        (low, high), at = min(ranges, key=lambda r: r[0][1] - r[0][0])
        starts = self.order[low:high] - np.int32(at)  # (int32: half the memory to walk)
        rows = self.rows_in_order[low:high]
        inside = (starts >= 0) & (starts <= len(self.order) - len(ids))
        if not inside.all():
            starts, rows = starts[inside], rows[inside]
        keep = np.ones(len(starts), dtype=np.bool_)
        for k in range(len(ids)):
            if not at <= k < at + depth:  # (one character at a time: numpy's fastest gather)
                keep &= self.text[starts + k] == ids[k]
        return rows[keep]

    def _range(self, ids: list[int]) -> tuple[int, int]:
        """Where in `order` the positions beginning with `ids` (at most `depth` long) are."""
        low, high = int(self.heads[ids[0]]), int(self.heads[ids[0] + 1])
        if len(ids) == 1:
            return low, high
        return self._bound(ids, low, high, False), self._bound(ids, low, high, True)

    def _bound(self, ids: list[int], low: int, high: int, after: bool) -> int:
        """The first place in order[low:high] whose characters are above `ids` (`after`), or
        not below them."""
        text, order, width = self.text, self.order, len(ids)
        while low < high:
            mid = (low + high) >> 1
            at = int(order[mid])
            here = text[at : at + width].tolist()
            if here < ids or (after and here == ids):
                low = mid + 1
            else:
                high = mid
        return low

    def nbytes(self) -> int:
        """Memory held by the index's arrays, in bytes."""
        arrays = [self.text, self.order, self.rows_in_order, self.heads, self.everyone]
        arrays += [*self.char_bits.values(), *self.pair_bits.values()]
        return sum(a.nbytes for a in arrays)


def _suffix_order(
    text: npt.NDArray[np.unsignedinteger], chars: int
) -> tuple[npt.NDArray[np.int32], int]:
    """Every position of `text`, sorted by the characters from it, and to how many characters
    deep (DEPTH where the sort keys allow it). Each pass sorts one 64-bit number a position:
    its sort key above, the position below (numpy sorts plain numbers far faster than it
    sorts positions by a key); the next pass doubles the depth from the ranks of the last.
    Past the end of the text counts as the smallest key, as the separator does: a word never
    holds the separator, so either way it is below any word."""
    n = len(text)
    place = max(1, (n - 1).bit_length())  # bits of a position
    width = max(1, (chars - 1).bit_length())  # bits of a character id
    depth = max(1, min(DEPTH, FIRST, (64 - place) // width))
    key = np.zeros(n, dtype=np.uint64)
    for k in range(depth):  # the first `depth` characters, one above the next
        key <<= np.uint64(width)
        key[: max(0, n - k)] |= text[k:]
    order, key = _sorted(key, place)
    while depth < DEPTH:
        ranks = _ranks(key, order)
        bits = max(1, int(ranks.max()).bit_length())
        if 2 * bits + place > 64:
            break  # (this depth it is: a longer word is checked beyond it)
        key = ranks << np.uint64(bits)
        key[: max(0, n - depth)] |= ranks[depth:]
        del ranks
        order, key = _sorted(key, place)
        depth *= 2
    return order.astype(np.int32), depth


def _sorted(
    key: npt.NDArray[np.uint64], place: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
    """The positions in the order of their keys, and the keys in that order (`key` is used up)."""
    key <<= np.uint64(place)
    key |= np.arange(len(key), dtype=np.uint64)
    key.sort()
    order = (key & np.uint64((1 << place) - 1)).astype(np.int64)
    key >>= np.uint64(place)
    return order, key


def _ranks(
    sorted_keys: npt.NDArray[np.uint64], order: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint64]:
    """Each position's rank among the distinct keys (equal keys, equal ranks), by position."""
    new = np.empty(len(sorted_keys), dtype=np.uint64)
    new[0] = 0
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:], casting="unsafe")
    ranks = np.empty(len(order), dtype=np.uint64)
    ranks[order] = np.cumsum(new, dtype=np.uint64)
    return ranks


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
