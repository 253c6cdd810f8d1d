"""The office server: the FastAPI app over one store, with its limits and compression."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldkit import __version__
from fieldkit.evidence.storage import FileStore, default_location

from . import pull
from .auth import FailedLogins
from .cases_api import router as cases_router
from .checkpoints import Checkpointer
from .errors import error_response, install_error_handlers
from .files import router as files_router
from .routes import router
from .serving import ServingLock
from .store import Store
from .tokens import LastSeen

MAX_BODY = 2 * 1024 * 1024
# `fieldkit serve --workers N`: each process builds its app from the store named here.
SERVE_DB = "FIELDKIT_SERVE_DB"
APP_FACTORY = "fieldkit.server.app:app_from_environment"
DEFAULT_OFFICE_NAME = "湖南省校外培训监管办公室"


class BodyLimit:
    """Refuse request bodies over a size with 413, before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "too_large",
            f"请求体超过{self.max_bytes // 1024 // 1024} MiB，请分批发送 / "
            f"the request body is over {self.max_bytes // 1024 // 1024} MiB; send smaller batches",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def close_app(app: FastAPI) -> None:
    """Stop the app's background work and release its store."""
    app.state.puller.close()
    if app.state.checkpointer is not None:
        app.state.checkpointer.close()
    app.state.serving.release()
    app.state.store.close()


def create_app(
    db: str | Path,
    office_name: str = DEFAULT_OFFICE_NAME,
    failed_logins: FailedLogins | None = None,
    files: str | None = None,
) -> FastAPI:
    """The office API over the store at `db` (a path or database URL); initialises it if new.

    `files`: where evidence files are kept (a folder or an fsspec URL such as s3://bucket/x);
    by default FIELDKIT_FILES, else a folder beside a SQLite store.
    """
    store = Store(db)
    store.initialize(office_name)
    epoch = store.get_meta("epoch") or ""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        close_app(app)

    app = FastAPI(
        title="fieldkit office server",
        version=__version__,
        lifespan=lifespan,
        description="同步、统计、支付码签名与证据文件 / sync, stats, payment-code signing and evidence files",
    )
    app.state.store, app.state.epoch = store, epoch
    app.state.files = FileStore(files or os.environ.get("FIELDKIT_FILES") or default_location(db))
    app.state.puller = pull.Puller(store, epoch)
    app.state.failed_logins = failed_logins or FailedLogins()
    app.state.last_seen = LastSeen(store.engine)
    app.state.serving = ServingLock(db, store.engine)  # a restore waits for it (serving.py)
    app.state.checkpointer = (  # an SQLite store's log copied back off the request path
        Checkpointer(store.engine) if store.engine.dialect.name == "sqlite" else None
    )
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY)
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(cases_router)
    app.include_router(files_router)
    return app


def app_from_environment() -> FastAPI:
    """The app over the store named by $FIELDKIT_SERVE_DB (one per server process)."""
    return create_app(os.environ[SERVE_DB])
