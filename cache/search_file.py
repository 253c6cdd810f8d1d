"""The search index kept on disk beside the cache, so a start reads it in milliseconds instead
of building it again (numpy; imported only with the index).

One file, `<cache file>.search` (`search.index_path`): a header (JSON) naming the arrays and a checksum of them, then
the arrays, each at an aligned offset, read whole at load (not mapped: a file cut or changed
in place under a mapping would crash the app or change its answers). The header says which state of
the cache the arrays hold: the last change of search_changes taken in (`seq`) and a token that
the cache's meta holds as long as that file is the one written for it. Anything that does not
fit (another format, a file cut short, a flipped byte, a token the cache does not hold) is not
an index: `load` answers None and the index is built again, never a wrong answer. Deleting the
file costs one build.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .search_index import PAD, SearchIndex

MAGIC = b"FKSEARCH"
FORMAT = 2  # bumped whenever SearchIndex's arrays change meaning: older files are built again
# (1: positions grouped by character pairs; 2: a suffix array)
ALIGN = 64
ARRAYS = ("text", "order", "rows_in_order", "heads", "everyone", "char_bits", "pair_bits")


def save(index: SearchIndex, path: Path, seq: int, token: str) -> bool:
    """Write the index (atomically: a whole new file or none); False if it could not be written
    (a read-only folder, a full disk): the index then lives in memory only."""
    arrays = _arrays(index)
    layout, offset = [], 0
    for name, array in arrays.items():
        offset = -(-offset // ALIGN) * ALIGN
        layout.append([name, array.dtype.str, list(array.shape), offset])
        offset += array.nbytes
    crc = at = 0  # of the arrays as laid out, the padding between them too
    for (_, _, _, offset_of), array in zip(layout, arrays.values(), strict=True):
        crc = zlib.crc32(_bytes(array), zlib.crc32(bytes(offset_of - at), crc))
        at = offset_of + array.nbytes
    header = {
        "format": FORMAT,
        "seq": seq,
        "token": token,
        "rows": index.rows,
        "size": index.size,
        "depth": index.depth,
        "chars": "".join(sorted(index.char_id, key=index.char_id.__getitem__)),
        "char_ids": sorted(index.char_bits),
        "pairs": sorted(index.pair_bits),
        "layout": layout,
        "length": offset,
        "crc": crc,
    }
    head = json.dumps(header).encode()
    start = -(-(len(MAGIC) + 8 + len(head)) // ALIGN) * ALIGN
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(MAGIC + len(head).to_bytes(8, "little") + head)
            for (_, _, _, at), array in zip(layout, arrays.values(), strict=True):
                out.seek(start + at)
                out.write(_bytes(array))
            out.truncate(start + offset)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True


def load(path: Path, token: str | None) -> tuple[SearchIndex, int] | None:
    """The index in the file and the last change it holds, or None if there is no file, it is
    not whole or not for this cache (`token`: the cache's); never raises for a bad file."""
    if not token:
        return None
    try:
        with path.open("rb") as fh:
            data = bytearray(os.fstat(fh.fileno()).st_size)
            if fh.readinto(data) != len(data):
                return None  # cut short while being read
    except OSError:
        return None
    try:
        return _read(data, token)
    except (ValueError, KeyError, TypeError, IndexError, OverflowError, UnicodeDecodeError):
        return None


def _read(data: bytearray, token: str) -> tuple[SearchIndex, int] | None:
    if data[: len(MAGIC)] != MAGIC:
        return None
    size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 8], "little")
    body = len(MAGIC) + 8
    if size > len(data) - body:
        return None
    header: dict[str, Any] = json.loads(data[body : body + size])
    if header.get("format") != FORMAT or header.get("token") != token:
        return None
    start = -(-(body + size) // ALIGN) * ALIGN
    if len(data) != start + int(header["length"]):
        return None  # cut short, or grown
    crc = zlib.crc32(memoryview(data)[start:])
    if crc != header["crc"]:
        return None
    arrays = {}
    for name, dtype, shape, at in header["layout"]:
        count = int(np.prod(shape)) if shape else 1
        array = np.frombuffer(data, dtype=np.dtype(dtype), count=count, offset=start + at)
        arrays[name] = array.reshape(shape)
    if set(arrays) != set(ARRAYS):
        return None
    index = SearchIndex.__new__(SearchIndex)
    index.size, index.rows = int(header["size"]), int(header["rows"])
    index.depth = int(header["depth"])
    index.char_id = {ch: i for i, ch in enumerate(header["chars"])}
    for name in ARRAYS[:5]:
        setattr(index, name, arrays[name])
    index.char_bits = dict(zip(header["char_ids"], arrays["char_bits"], strict=True))
    index.pair_bits = {
        (int(a), int(b)): bits
        for (a, b), bits in zip(header["pairs"], arrays["pair_bits"], strict=True)
    }
    index.file_bytes = data  # the arrays are views of it
    if not _sound(index):
        return None
    return index, int(header["seq"])


def _sound(index: SearchIndex) -> bool:
    """The arrays agree with each other (a file of another build with a matching checksum would
    be a bug, but never a crash at a keystroke)."""
    n = len(index.order)
    return (
        len(index.text) == n + PAD
        and n == len(index.rows_in_order)
        and len(index.everyone) == index.size
        and len(index.heads) == len(index.char_id) + 1
        and int(index.heads[-1]) == n
        and index.depth >= 1
    )


def _bytes(array: np.ndarray[Any, Any]) -> memoryview:
    """The array's bytes, without a copy (an empty array: no bytes)."""
    if array.size == 0:
        return memoryview(b"")
    return np.ascontiguousarray(array).data.cast("B")


def _arrays(index: SearchIndex) -> dict[str, np.ndarray[Any, Any]]:
    width = (index.size + 7) // 8
    char_bits = [index.char_bits[c] for c in sorted(index.char_bits)]
    pair_bits = [index.pair_bits[p] for p in sorted(index.pair_bits)]
    return {
        "text": index.text,
        "order": index.order,
        "rows_in_order": index.rows_in_order,
        "heads": index.heads,
        "everyone": index.everyone,
        "char_bits": np.array(char_bits, dtype=np.uint8).reshape(len(char_bits), width),
        "pair_bits": np.array(pair_bits, dtype=np.uint8).reshape(len(pair_bits), width),
    }
