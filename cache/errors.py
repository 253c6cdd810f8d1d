"""Errors of the offline cache: each says what happened, what was kept and what to do, in zh and en."""

from __future__ import annotations

from pathlib import Path


class CacheError(Exception):
    """The cache file cannot be used as asked; `zh` and `en` say what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en

    def message(self, lang: str = "zh") -> str:
        """The message in the user's language ('zh' or 'en')."""
        return self.zh if lang.startswith("zh") else self.en


class NotAFieldkitCache(CacheError):
    """The file exists but is not a fieldkit cache; it was left untouched."""

    def __init__(self, path: Path, detail: str = "") -> None:
        extra = f"（{detail}）" if detail else ""
        super().__init__(
            f"文件 {path} 不是 fieldkit 的本地缓存{extra}，未做任何改动。"
            "请检查 FIELDKIT_HOME 或配置名，或将该文件移走后重新打开并同步。",
            f"{path} is not a fieldkit cache{f' ({detail})' if detail else ''}; it was left "
            "untouched. Check FIELDKIT_HOME or the profile, or move the file away, reopen and sync.",
        )
        self.path = path
        self.detail = detail


class CacheTooNew(CacheError):
    """The file was written by a newer fieldkit; it was left untouched."""

    def __init__(self, path: Path, unknown: list[str]) -> None:
        names = ", ".join(unknown)
        super().__init__(
            f"本地缓存 {path} 由更新版本的 fieldkit 创建（未知的结构版本：{names}），"
            "未做任何改动。请升级 fieldkit 后再打开。",
            f"The cache {path} was written by a newer fieldkit (unknown schema steps: {names}); "
            "it was left untouched. Upgrade fieldkit and open it again.",
        )
        self.path = path
        self.unknown = unknown


class CacheUnavailable(CacheError):
    """The file could not be opened or written (permissions, disk full, held by another program)."""

    def __init__(self, path: Path, detail: str, writing: bool = False) -> None:
        if writing:
            zh_what, en_what = f"无法写入本地缓存 {path}", f"Could not save to the cache {path}"
            zh_kept = "这次更改没有保存，之前保存的数据都在"
            en_kept = "this change was not saved; everything saved before is kept"
        else:
            zh_what, en_what = f"无法打开本地缓存 {path}", f"Cannot open the cache {path}"
            zh_kept, en_kept = "已保存的数据没有丢失", "nothing saved was lost"
        super().__init__(
            f"{zh_what}：{detail}。{zh_kept}；请检查磁盘空间和文件权限，"
            "关闭其他正在使用它的 fieldkit 后重试。",
            f"{en_what}: {detail}; {en_kept}. Check disk space and file permissions, close any "
            "other fieldkit using it, and try again.",
        )
        self.path = path


class MalformedChange(CacheError):
    """A change pulled from the office lacks a field or has a wrong type; its page was not applied."""

    def __init__(self, change: object, detail: str) -> None:
        seq = change.get("seq") if isinstance(change, dict) else None
        super().__init__(
            f"服务器发来的第 {seq} 条变更格式错误（{detail}），本页未保存，已有数据不受影响。"
            "请稍后重试同步；如仍出现，请联系办公室。",
            f"The office sent a malformed change (seq {seq}: {detail}); this page was not saved "
            "and nothing already saved changed. Sync again later; if it persists, tell the office.",
        )
        self.change = change


class CacheFull(CacheUnavailable):
    """The disk (or the file's size limit) is full: the change was not saved, nothing earlier lost."""

    def __init__(self, path: Path, detail: str) -> None:
        CacheError.__init__(
            self,
            f"无法写入本地缓存 {path}：磁盘空间已满或无法写入（{detail}）。这次更改没有保存，"
            "之前保存的数据都在。请清理磁盘空间（删除不需要的文件或清空回收站）后再保存一次。",
            f"Could not save to the cache {path}: the disk is full or cannot be written "
            f"({detail}). This change was not saved; everything saved before is kept. Free some "
            "disk space (delete files you do not need, empty the recycle bin) and save again.",
        )
        self.path = path


class CacheDamaged(NotAFieldkitCache):
    """The cache file is damaged (truncated, overwritten); `fieldkit sync` sets it aside and salvages it."""

    def __init__(self, path: Path, detail: str) -> None:
        CacheError.__init__(
            self,
            f"本地缓存 {path} 已损坏（{detail}）。请运行 fieldkit sync：它会把损坏的文件改名保留"
            "（不会删除），抢救其中还能读出的未发送更改，再从办公室重新下载其余数据。",
            f"The cache {path} is damaged ({detail}). Run `fieldkit sync`: it keeps the damaged "
            "file aside (renamed, never deleted), rescues the unsent changes it can still read, "
            "and downloads the rest from the office again.",
        )
        self.path = path
        self.detail = detail


# SQLite primary result codes (the low byte of sqlite3.Error.sqlite_errorcode).
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 10, 11, 13, 26


def is_damage(exc: BaseException) -> bool:
    """Whether an sqlite3 error says the file's content is damaged (not busy, not full)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (SQLITE_CORRUPT, SQLITE_NOTADB)


def from_sqlite(path: Path, exc: BaseException, writing: bool = False) -> CacheError:
    """The cache error an sqlite3 error means: full disk, damaged file, or unavailable."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == SQLITE_FULL or (writing and code == SQLITE_IOERR):
        return CacheFull(path, str(exc))
    if is_damage(exc):
        return CacheDamaged(path, str(exc))
    return CacheUnavailable(path, str(exc), writing=writing)
