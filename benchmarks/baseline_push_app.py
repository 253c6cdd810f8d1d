"""The baseline office of bench_push --throughput: the least a push endpoint can do.

It takes the same bodies as `POST /api/v1/sync/push`, checks the bearer token (its sha256 among
the tokens given), and inserts every op with one executemany per request in one transaction,
answering `applied` for each. Run: BASELINE_DB=… BASELINE_TOKENS='["hash", …]' uvicorn
benchmarks.baseline_push_app:app. BASELINE_DB is an SQLite path or a postgresql:// URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DB = os.environ.get("BASELINE_DB", "baseline.sqlite")
TOKENS = set(json.loads(os.environ.get("BASELINE_TOKENS", "[]")))
CREATE = (
    "CREATE TABLE IF NOT EXISTS ops (op_id TEXT PRIMARY KEY, technician TEXT, client_id TEXT, "
    "kind TEXT, institution_id TEXT, hlc TEXT, data TEXT)"
)
_lock = threading.Lock()
_local = threading.local()


def _connection() -> Any:
    conn = getattr(_local, "conn", None)
    if conn is None:
        if DB.startswith("postgresql"):
            import psycopg

            conn = psycopg.connect(DB)
        else:
            conn = sqlite3.connect(DB, check_same_thread=False, timeout=60)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        _local.conn = conn
    return conn


@contextlib.asynccontextmanager
async def _create_table(_app: Starlette) -> AsyncIterator[None]:
    """The table made once, before any request (40 threads each running CREATE TABLE IF NOT
    EXISTS at once on PostgreSQL race in its catalogue: some requests failed with a 500)."""
    conn = _connection()
    try:
        conn.execute(CREATE)
        conn.commit()
    except Exception:  # noqa: BLE001 (another worker process made it at the same moment)
        conn.rollback()
    yield


def _insert(rows: list[tuple[str, ...]]) -> None:
    conn = _connection()
    if DB.startswith("postgresql"):
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO ops VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
        conn.commit()
        return
    with _lock, conn:  # SQLite: one writer at a time, as any SQLite office
        conn.executemany("INSERT INTO ops VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


async def push(request: Request) -> JSONResponse:
    """Check the token, insert the batch, answer applied per op."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    digest = hashlib.sha256(token.encode()).hexdigest()
    if digest not in TOKENS:
        return JSONResponse({"error": "unauthorized", "message": "bad token"}, status_code=401)
    body = json.loads(await request.body())
    rows = [
        (
            op["op_id"],
            digest[:16],
            body["client_id"],
            op["kind"],
            op["institution_id"],
            op["hlc"],
            json.dumps(op["data"], ensure_ascii=False),
        )
        for op in body["ops"]
    ]
    await run_in_threadpool(_insert, rows)
    return JSONResponse({"results": [{"op_id": r[0], "status": "applied"} for r in rows]})


app = Starlette(routes=[Route("/api/v1/sync/push", push, methods=["POST"])], lifespan=_create_table)
