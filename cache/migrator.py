"""The runner of the cache's numbered migrations, keeping the record sqlite-utils keeps.

Caches were first migrated by sqlite-utils' Migrations; this runner reads and writes the same
record: the table `_sqlite_migrations` (id, migration_set, name, applied_at: the text of an
aware UTC datetime), its unique index on (migration_set, name), a row per migration applied in
the same transaction as the migration. Files migrated by either read the same to the other.

Why not sqlite-utils itself: importing it imports numpy, and making its Database scans every
installed package's entry points for plugins, ~0.5 s before anything is migrated, at every new
cache (a first login's sync pays it in full). The cache's migrations only ever use the
connection, which is all this runner hands them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .schema import MIGRATIONS_TABLE, applied_migrations, has_migration_record

# As sqlite-utils creates them, so a cache made here is the cache it made, schema and all.
TABLE_SQL = (
    f'CREATE TABLE "{MIGRATIONS_TABLE}" (\n   "id" INTEGER PRIMARY KEY,\n'
    '   "migration_set" TEXT,\n   "name" TEXT,\n   "applied_at" TEXT\n)'
)
INDEX_SQL = (
    f'CREATE UNIQUE INDEX "idx_{MIGRATIONS_TABLE}_migration_set_name"\n'
    f'    ON "{MIGRATIONS_TABLE}" ("migration_set", "name")'
)


class Database:
    """What a migration is handed: the open connection, inside the migrating transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


@dataclass(frozen=True)
class Migration:
    name: str
    fn: Callable[[Database], None]


class Migrations:
    """A named set of migrations, applied in the order they were defined."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._migrations: list[Migration] = []

    def __call__(
        self, *, name: str
    ) -> Callable[[Callable[[Database], None]], Callable[[Database], None]]:
        """Register the decorated function as the migration `name`."""

        def register(fn: Callable[[Database], None]) -> Callable[[Database], None]:
            if any(m.name == name for m in self._migrations):
                raise ValueError(f"migration {name!r} is already in set {self.name!r}")
            self._migrations.append(Migration(name, fn))
            return fn

        return register

    def applied(self, conn: sqlite3.Connection) -> list[str]:
        """The names of this set's migrations the file has had, in the order applied."""
        return applied_migrations(conn, self.name)

    def apply(self, conn: sqlite3.Connection, stop_before: str | None = None) -> None:
        """Apply the pending migrations (up to, not including, `stop_before`), each in a
        savepoint of the caller's transaction together with its record."""
        if not has_migration_record(conn):
            conn.execute(TABLE_SQL)
            conn.execute(INDEX_SQL)
        done = set(self.applied(conn))
        if stop_before is not None and stop_before in done:
            raise ValueError(f"cannot stop before {stop_before!r}: it is applied already")
        for migration in self._migrations:
            if migration.name == stop_before:
                return
            if migration.name in done:
                continue
            conn.execute("SAVEPOINT migration")
            try:
                migration.fn(Database(conn))
                conn.execute(
                    f'INSERT INTO "{MIGRATIONS_TABLE}" (migration_set, name, applied_at) '
                    "VALUES (?, ?, ?)",
                    (self.name, migration.name, str(datetime.now(UTC))),
                )
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK TO SAVEPOINT migration")
                    conn.execute("RELEASE SAVEPOINT migration")
                raise
            conn.execute("RELEASE SAVEPOINT migration")
