"""Many rows' writes: one statement for many rows, compiled once, bound by the driver.

SQLAlchemy's executemany builds and processes each row's parameters in Python, which is most of
the time of an import that writes tens of thousands of rows (and much of a pushed batch's). The
values are handed to the driver as they are, JSON columns serialised here as SQLAlchemy would
(the dialect's serializer), with a statement compiled once for the connection's dialect (the same
SQL on SQLite and PostgreSQL, whose paramstyles differ; still inside the caller's transaction).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, bindparam
from sqlalchemy.sql.expression import UpdateBase

# (key, dialect, driver, paramstyle) -> (SQL, positional?, [(parameter name, JSON?)])
_Compiled = tuple[str, bool, list[tuple[str, bool]]]
_CACHE: dict[tuple[str, ...], _Compiled] = {}


def executemany(
    conn: Connection,
    statement: UpdateBase,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    key: str | None = None,
) -> None:
    """Run an INSERT/UPDATE/DELETE once per row of `rows` (keys: the statement's parameter names).

    `columns`: the columns an INSERT without values sets (all of the table's otherwise). `key`
    names a statement that is always the same (with the same `columns`), compiled once for good.
    For text, numbers, booleans, bytes, None and JSON columns: no dates, no other conversion.
    """
    if not rows:
        return
    sql, positional, names = _compile(conn, statement, columns, key)
    dumps: Callable[[Any], str] = getattr(conn.dialect, "_json_serializer", None) or json.dumps
    params: list[Any]
    if positional:  # qmark (SQLite), format, numeric
        params = [
            tuple(dumps(row[n]) if is_json else row[n] for n, is_json in names) for row in rows
        ]
    else:  # named, pyformat (psycopg)
        params = [{n: dumps(row[n]) if is_json else row[n] for n, is_json in names} for row in rows]
    cursor = _cursor(conn)
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def _cursor(conn: Connection) -> Any:
    """A cursor of the connection's driver, inside the transaction the connection has open.

    The statements here are compiled and their values bound already: SQLAlchemy's execution
    context around each (events, result metadata) was most of their time in Python.
    """
    driver = conn.connection.dbapi_connection  # (a closed connection raises, as execute would)
    if driver is None:
        raise RuntimeError("the connection has no driver connection")
    return driver.cursor()


def _compile(
    conn: Connection, statement: UpdateBase, columns: Sequence[str] | None, key: str | None
) -> _Compiled:
    dialect = conn.dialect
    cache_key = None
    if key is not None:
        cache_key = (key, dialect.name, dialect.driver, str(dialect.paramstyle))
        found = _CACHE.get(cache_key)
        if found is not None:
            return found
    compiled = statement.compile(
        dialect=dialect, column_keys=list(columns) if columns is not None else None
    )
    order = compiled.positiontup
    wanted = list(order) if order is not None else list(compiled.params)
    names = [(n, isinstance(compiled.binds[n].type, JSON)) for n in wanted]
    result: _Compiled = (str(compiled), order is not None, names)
    if cache_key is not None:
        _CACHE[cache_key] = result
    return result


def insert_many(
    conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]], key: str
) -> list[Any]:
    """Insert `rows` (all with the same keys) with multi-row VALUES statements; their RETURNING rows.

    `statement`: an INSERT without values (with its RETURNING, ON CONFLICT…). The rows go in
    their order, in pieces of 256, 128, … 1 rows, each size compiled once for the dialect (named
    `key`), the values bound by the driver as `executemany` binds them.
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    table = statement.table
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    dumps: Callable[[Any], str] = getattr(conn.dialect, "_json_serializer", None) or json.dumps
    found: list[Any] = []
    start = 0
    while start < len(rows):
        size = _PIECE
        while size > len(rows) - start:
            size //= 2
        piece = rows[start : start + size]
        start += size
        sql, positional, names = _compile_rows(conn, statement, columns, size, key)
        serialised: dict[int, str] = {}  # a JSON value shared by the rows is serialised once
        value = _Values(dumps, serialised)
        if positional:  # row by row, each row's columns in one order (see _compile_rows)
            get = itemgetter(*columns)
            json_at = [k for k, c in enumerate(columns) if c in json_columns]
            flat: list[Any] = []
            for row in piece:
                values = list(get(row)) if len(columns) > 1 else [get(row)]
                for k in json_at:
                    values[k] = value(row, columns[k], True)
                flat += values
            params: Any = tuple(flat)
        else:
            params = {name: value(piece[i], c, is_json) for name, i, c, is_json in names}
        cursor = _cursor(conn)
        try:
            cursor.execute(sql, params)
            found += cursor.fetchall()
        finally:
            cursor.close()
    return found


class _Values:
    """A row's value for a column as the driver binds it (JSON serialised, once per object)."""

    def __init__(self, dumps: Callable[[Any], str], serialised: dict[int, str]) -> None:
        self.dumps, self.serialised = dumps, serialised

    def __call__(self, row: Mapping[str, Any], column: str, is_json: bool) -> Any:
        if not is_json:
            return row[column]
        found = self.serialised.get(id(row[column]))
        if found is None:
            found = self.serialised[id(row[column])] = self.dumps(row[column])
        return found


_PIECE = 256
# (key, columns, rows, dialect, driver, paramstyle) -> (SQL, positional?, [(name, row, column, JSON?)])
_RowsCompiled = tuple[str, bool, list[tuple[str, int, str, bool]]]
_ROWS_CACHE: dict[tuple[Any, ...], _RowsCompiled] = {}


def _compile_rows(
    conn: Connection, statement: Any, columns: tuple[str, ...], size: int, key: str
) -> _RowsCompiled:
    dialect = conn.dialect
    cache_key = (key, columns, size, dialect.name, dialect.driver, str(dialect.paramstyle))
    found = _ROWS_CACHE.get(cache_key)
    if found is not None:
        return found
    where = {f"r{i}_{c}": (i, c) for i in range(size) for c in columns}
    table = statement.table
    values = [
        {c: bindparam(f"r{i}_{c}", type_=table.c[c].type) for c in columns} for i in range(size)
    ]
    compiled = statement.values(values).compile(dialect=dialect)
    order = compiled.positiontup
    wanted = list(order) if order is not None else list(compiled.params)
    names = [(n, *where[n], isinstance(table.c[where[n][1]].type, JSON)) for n in wanted]
    if order is not None and [(i, c) for _, i, c, _ in names] != [
        (i, c) for i in range(size) for c in columns
    ]:
        raise ValueError(f"{key}: the statement binds its values in another order")
    result: _RowsCompiled = (str(compiled), order is not None, names)
    _ROWS_CACHE[cache_key] = result
    return result
