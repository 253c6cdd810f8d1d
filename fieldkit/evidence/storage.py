"""The office's evidence files, through fsspec: a folder by default, an object store by URL.

Layout under the root: `files/ab/<sha256>` for whole files (named by the hash of their bytes,
so a photo attached twice is stored once) and `partial/<sha256>/<offset>` for the pieces of an
upload still arriving (each piece one object, since object stores cannot append). Several
office servers sharing one object store see the same pieces, so an upload can resume on any.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PIECE_NAME = "{:012d}"


class StorageError(Exception):
    """The store refused a write (disk full, permissions); bilingual message."""

    def __init__(self, zh: str, en: str, full: bool = False) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.full = zh, en, full


class HashMismatch(Exception):
    """The bytes received do not hash to the name they were sent under."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"expected {expected}, got {got}")
        self.expected, self.got = expected, got


@dataclass(frozen=True)
class Progress:
    """How much of a file the office holds: bytes received in order, and whether it is whole."""

    received: int
    complete: bool


def default_location(db: str | Path) -> str:
    """The folder beside a SQLite office store (`office.files`), or `fieldkit-files` for a URL."""
    text = str(db)
    if "://" in text and not text.startswith("sqlite:///"):
        return str(Path("fieldkit-files").resolve())
    path = Path(text.removeprefix("sqlite:///")).expanduser().resolve()
    return str(path.with_name(f"{path.stem}.files"))


class FileStore:
    """Evidence files of the office on any fsspec filesystem (`file`, `s3`, `memory`...)."""

    def __init__(self, url: str, **options: Any) -> None:
        import fsspec.core

        self.url = url
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **options)
        except ImportError as exc:
            raise StorageError(
                f"文件存储“{url}”需要安装 {exc.name or '驱动'}（S3：pip install 'fieldkit[s3]'）",
                f"the file storage '{url}' needs {exc.name or 'a driver'} installed "
                "(S3: pip install 'fieldkit[s3]')",
            ) from None
        except ValueError as exc:
            raise StorageError(
                f"文件存储地址“{url}”无效（{exc}）",
                f"the file storage '{url}' is not valid ({exc})",
            ) from None
        self.root = root.rstrip("/")
        self.local = "file" in _protocols(self.fs)
        if self.local:
            try:
                self.fs.makedirs(self.root, exist_ok=True)
            except OSError as exc:
                raise _refused(exc) from None

    def _file(self, sha256: str) -> str:
        return f"{self.root}/files/{sha256[:2]}/{sha256}"

    def _partial(self, sha256: str) -> str:
        return f"{self.root}/partial/{sha256}"

    def has(self, sha256: str) -> bool:
        """Whether the whole file is stored."""
        return bool(self.fs.exists(self._file(sha256)))

    def read(self, sha256: str) -> bytes:
        """The stored file's bytes (FileNotFoundError if it is not stored)."""
        return bytes(self.fs.cat_file(self._file(sha256)))

    def progress(self, sha256: str) -> Progress:
        """How many bytes of the file have arrived in order (all of them when it is stored)."""
        if self.has(sha256):
            return Progress(int(self.fs.size(self._file(sha256))), True)
        return Progress(sum(size for _, size in self._pieces(sha256)), False)

    def _pieces(self, sha256: str) -> list[tuple[str, int]]:
        """The pieces that follow each other from byte 0 (a stray later piece is ignored)."""
        try:
            listed = self.fs.ls(self._partial(sha256), detail=True)
        except FileNotFoundError:
            return []
        found: dict[int, tuple[str, int]] = {}
        for entry in listed:
            name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
            if name.isdigit() and entry.get("type", "file") == "file":
                found[int(name)] = (str(entry["name"]), int(entry["size"]))
        pieces, offset = [], 0
        while offset in found and found[offset][1] > 0:
            pieces.append(found[offset])
            offset += found[offset][1]
        return pieces

    def put_piece(self, sha256: str, offset: int, data: bytes) -> int:
        """Keep the piece that starts at `offset` (the bytes received so far); the new total."""
        path = f"{self._partial(sha256)}/{PIECE_NAME.format(offset)}"
        try:
            if self.local:
                self.fs.makedirs(self._partial(sha256), exist_ok=True)
                _write_synced(Path(path), data)
            else:
                self.fs.pipe_file(path, data)
        except OSError as exc:
            raise _refused(exc) from None
        return offset + len(data)

    def finish(self, sha256: str) -> int:
        """Join the pieces, check their hash, store the whole file; its size (HashMismatch else).

        A mismatch throws the pieces away: the sender starts that file again from byte 0.
        """
        pieces = self._pieces(sha256)
        digest = hashlib.sha256()
        chunks = []
        for path, _ in pieces:
            chunk = bytes(self.fs.cat_file(path))
            digest.update(chunk)
            chunks.append(chunk)
        got = digest.hexdigest()
        if got != sha256:
            self.discard(sha256)
            raise HashMismatch(sha256, got)
        data = b"".join(chunks)
        target = self._file(sha256)
        try:
            if self.local:
                self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                _write_synced(Path(target), data)
            else:
                self.fs.pipe_file(target, data)
        except OSError as exc:
            raise _refused(exc) from None
        self.discard(sha256)
        return len(data)

    def discard(self, sha256: str) -> None:
        """Forget the pieces of an unfinished upload."""
        try:
            self.fs.rm(self._partial(sha256), recursive=True)
        except FileNotFoundError:
            pass


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _write_synced(path: Path, data: bytes) -> None:
    """Write through a temporary name, synced, then renamed: a crash leaves no short file."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(temp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _refused(exc: OSError) -> StorageError:
    if exc.errno == 28:  # ENOSPC
        return StorageError(
            "办公室服务器的存储空间已满，文件未保存；请通知管理员，笔记本上的文件会稍后重传",
            "the office's file storage is full; the file was not stored. Tell the "
            "administrator; the laptop keeps the file and sends it again later",
            full=True,
        )
    return StorageError(
        f"办公室服务器无法保存文件（{exc.strerror or exc}）",
        f"the office server could not store the file ({exc.strerror or exc})",
    )
