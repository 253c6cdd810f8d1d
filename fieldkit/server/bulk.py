"""Large imports' writes: one statement for many rows, compiled once, bound by the driver.

SQLAlchemy's executemany builds and processes each row's parameters in Python, which is most of
the time of an import that writes tens of thousands of rows. For tables of plain text and number
columns the driver binds the values as they are, so a statement compiled once for the dialect is
handed to the driver's own executemany (the same SQL on SQLite and PostgreSQL; still inside the
caller's transaction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.expression import UpdateBase


def executemany(conn: Connection, statement: UpdateBase, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run an INSERT/UPDATE/DELETE once per row of `rows` (keys: the statement's parameter names).

    Only for columns whose values need no conversion (text, integers, None): no JSON, no dates.
    """
    if not rows:
        return
    compiled = statement.compile(dialect=conn.dialect)
    names = compiled.positiontup
    params: list[Any]
    if names is not None:  # qmark (SQLite), format, numeric
        params = [tuple(row[n] for n in names) for row in rows]
    else:  # named, pyformat (psycopg)
        params = [{n: row[n] for n in compiled.params} for row in rows]
    conn.exec_driver_sql(str(compiled), params)
