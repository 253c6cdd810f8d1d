"""Backups of the office store: a consistent copy while serving, and a restore under a new epoch.

A backup is always an SQLite file (whatever the store is), so one file can bring back an office
on SQLite or PostgreSQL. From SQLite it is SQLite's own online backup (one snapshot, every
table); from PostgreSQL every table of the schema is read inside one REPEATABLE READ
transaction (one snapshot) and written to the file.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, delete, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import serving
from .store import (
    SCHEMA_VERSION,
    Store,
    database_url,
    institutions,
    make_engine,
    meta,
    metadata,
    ops,
)

SQLITE_HEADER = b"SQLite format 3\x00"
CHUNK = 2000  # rows copied per statement


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is bilingual and says what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")


class ServerRunning(BackupError):
    """A restore asked for while a server is serving the store (it is left as it was)."""


def backup(store: Store, target: Path) -> Summary:
    """Write a consistent copy of the store to `target` (replaced only once complete); a summary."""
    target = target.expanduser()
    if not target.parent.is_dir():
        raise BackupError(
            f"目录“{target.parent}”不存在，请先创建", f"the folder '{target.parent}' does not exist"
        )
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if store.engine.dialect.name == "sqlite":
            _sqlite_copy(Path(str(store.engine.url.database)), partial)
        else:
            _logical_copy(store.engine, partial)
        os.replace(partial, target)
    except (OSError, sqlite3.Error, SQLAlchemyError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(
            f"无法写入备份“{target}”：{exc}（请检查磁盘空间和权限）",
            f"cannot write the backup '{target}': {exc} (check disk space and permissions)",
        ) from None
    return _summary(target)


def restore(source: Path, db: str) -> Summary:
    """Replace the store at `db` with the backup `source`, under a new epoch; a summary."""
    source = source.expanduser()
    _check_backup(source)
    engine = make_engine(db)
    try:
        with serving.alone(db, engine):  # never under a running server (it would go on stale)
            return _restore(source, db)
    except serving.StillServing as exc:
        raise ServerRunning(exc.zh, exc.en) from None
    finally:
        engine.dispose()


def _restore(source: Path, db: str) -> Summary:
    url = database_url(db)
    if make_url(url).get_backend_name() == "sqlite":
        target = Path(str(make_url(url).database))
        if target.exists():
            Store(db).close()  # refuses (StoreError) a store written by a newer fieldkit
        _sqlite_copy(source, target)
    else:
        _logical_restore(source, db)
    store = Store(db)
    try:
        store.create_schema()  # tables this fieldkit has that the backup's did not
        with store.writing() as conn:
            store.set_meta(conn, "epoch", secrets.token_hex(8))
            store.set_meta(conn, "restored_from", source.name)
    finally:
        store.close()
    return _summary(source)


def _check_backup(source: Path) -> None:
    """Refuse a file that is not a fieldkit office store, or one from a newer fieldkit."""
    try:
        with source.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BackupError(
            f"无法读取“{source}”：{exc.strerror}", f"cannot read '{source}': {exc.strerror}"
        ) from None
    not_ours = BackupError(
        f"“{source}”不是 fieldkit 办公室数据库的备份（请用 fieldkit server backup 写出的文件），"
        "办公室数据库未作任何改动",
        f"'{source}' is not a backup of a fieldkit office store (use a file written by "
        "fieldkit server backup); the office store was not changed",
    )
    if header != SQLITE_HEADER:
        raise not_ours
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            found = dict(
                conn.execute(
                    "SELECT key, value FROM meta WHERE key IN ('schema_version', 'private_key')"
                ).fetchall()
            )
        finally:
            conn.close()
    except sqlite3.Error:
        raise not_ours from None
    if "private_key" not in found:
        raise not_ours
    version = str(found.get("schema_version") or "0")
    if not version.isdigit() or int(version) > int(SCHEMA_VERSION):
        raise BackupError(
            f"备份“{source}”来自更新版本的 fieldkit（数据库版本 {version}，本程序 {SCHEMA_VERSION}），"
            "请先升级 fieldkit；办公室数据库未作任何改动",
            f"the backup '{source}' comes from a newer fieldkit (store version {version}, this "
            f"one {SCHEMA_VERSION}): upgrade fieldkit first; the office store was not changed",
        )


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent snapshot of every table, even while others write."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
    finally:
        src.close()


def _logical_copy(engine: Engine, target: Path) -> None:
    """Every table of the schema, read in one snapshot, written to a new SQLite file."""
    out = create_engine(f"sqlite:///{target}")
    try:
        metadata.create_all(out)
        with engine.connect() as conn, out.begin() as dst:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                _copy_tables(conn, dst)
    finally:
        out.dispose()


def _logical_restore(source: Path, db: str) -> None:
    """Empty the (PostgreSQL) store's tables and fill them from the backup, in one transaction."""
    store = Store(db)
    backup_engine = create_engine(f"sqlite:///file:{source}?mode=ro&uri=true")
    try:
        if store.initialized():
            store.check_version()
        store.create_schema()
        with store.writing() as dst, backup_engine.connect() as src:
            for table in reversed(metadata.sorted_tables):
                dst.execute(delete(table))
            _copy_tables(src, dst)
    except SQLAlchemyError as exc:
        raise BackupError(
            f"恢复失败，办公室数据库未作改动：{exc}",
            f"the restore failed and the office store was not changed: {exc}",
        ) from None
    finally:
        backup_engine.dispose()
        store.close()


def _copy_tables(src: Connection, dst: Connection) -> None:
    """Copy the rows of every table the backup has, parents before children."""
    present = set(src.dialect.get_table_names(src))
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue
        rows = src.execute(select(table)).mappings()
        while batch := rows.fetchmany(CHUNK):
            dst.execute(insert(table), [dict(r) for r in batch])


@dataclass(frozen=True)
class Summary:
    """What a backup holds."""

    institutions: int
    ops: int
    head: int

    def words(self) -> tuple[str, str]:
        """(zh, en)."""
        return (
            f"{self.institutions} 家机构，{self.ops} 条操作，变更序号至 {self.head}",
            f"{self.institutions} institutions, {self.ops} ops, changes up to {self.head}",
        )


def _summary(path: Path) -> Summary:
    """Count what a backup file holds."""
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(institutions)).scalar_one()
            pushed = conn.execute(select(func.count()).select_from(ops)).scalar_one()
            head = conn.execute(select(meta.c.value).where(meta.c.key == "seq")).scalar()
    finally:
        engine.dispose()
    return Summary(int(count), int(pushed), int(head or 0))
