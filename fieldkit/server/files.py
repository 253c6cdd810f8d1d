"""Evidence at the office: the `attachment.add` op, the resumable upload and the file download.

Upload protocol (hash-checked, resumable, in bounded pieces):

1. The laptop pushes `attachment.add` (the file's SHA-256, size, type, and the record it belongs
   to) like any other op. Only then may its bytes be sent, and only by someone who may see that
   record.
2. `GET /api/v1/uploads/{sha256}` answers what the office holds: `received` bytes in order and
   whether the file is `complete`. A file already stored (attached elsewhere, by anyone) answers
   complete at once: nothing is sent twice.
3. `PUT /api/v1/uploads/{sha256}?offset=N` with the next piece (at most 1 MiB) as
   `application/octet-stream`. An offset other than `received` answers 409 with the office's
   `received`, so a piece repeated or lost in a drop is never stored twice or skipped. The piece
   that completes the file has the whole checked against its hash: a mismatch answers 422
   `hash_mismatch` and throws the pieces away (the laptop starts that file again).
4. `GET /api/v1/files/{sha256}` answers the stored bytes to whoever may see a record that refers
   to them, 404 to anyone else (and while the file has not arrived).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from starlette.concurrency import run_in_threadpool

from fieldkit.evidence.storage import FileStore, HashMismatch, StorageError

from . import models
from .auth import Caller, institution_scope
from .errors import ApiError
from .evidence import declared_size
from .routes import ERRORS, Office, Who
from .store import Store, attachment_changes, attachments, emit, institutions, now_iso, stored_files

router = APIRouter()
MAX_PIECE = 1024 * 1024
HASH = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file's bytes")]
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = ERRORS | {
    s: {"model": models.ErrorBody} for s in (409, 507)
}


class UploadState(BaseModel):
    """What the office holds of one file."""

    sha256: str
    size: int = Field(description="the file's size in bytes, as its attachment declared")
    received: int = Field(description="bytes held in order from the start: send from here")
    complete: bool = Field(description="the whole file is stored and its hash checked")


def _not_found(sha256: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        f"没有您可查看的文件 {sha256[:12]}",
        f"no file {sha256[:12]} that you may see",
    )


def files_of(request: Request) -> FileStore:
    """The app's file storage."""
    return request.app.state.files  # type: ignore[no-any-return]


def _state(store: Store, files: FileStore, who: Caller, sha256: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        size = declared_size(conn, who, sha256)
        held = conn.execute(
            select(stored_files.c.size).where(stored_files.c.sha256 == sha256)
        ).scalar()
    if size is None:
        raise _not_found(sha256)
    if held is not None:
        return {"sha256": sha256, "size": size, "received": int(held), "complete": True}
    progress = files.progress(sha256)
    if progress.complete:  # stored by another server that stopped before noting it
        _note_stored(store, sha256, progress.received)
    return {
        "sha256": sha256,
        "size": size,
        "received": progress.received,
        "complete": progress.complete,
    }


def _note_stored(store: Store, sha256: str, size: int) -> None:
    """Record a file as stored and tell everyone who pulls its attachments."""
    with store.writing() as conn:
        if conn.execute(
            select(stored_files.c.sha256).where(stored_files.c.sha256 == sha256)
        ).first():
            return
        conn.execute(insert(stored_files).values(sha256=sha256, size=size, stored_at=now_iso()))
        emit(conn, attachment_changes(conn, attachments.c.sha256 == sha256))


# --- routes ---------------------------------------------------------------------------------------
@router.get(
    "/api/v1/uploads/{sha256}", response_model=UploadState, responses=ERRORS, tags=["files"]
)
def upload_state(who: Who, store: Office, request: Request, sha256: HASH) -> dict[str, Any]:
    """What the office holds of a file: send from `received` (nothing if `complete`)."""
    return _state(store, files_of(request), who, sha256)


@router.put(
    "/api/v1/uploads/{sha256}",
    response_model=UploadState,
    responses=UPLOAD_ERRORS,
    tags=["files"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_piece(
    who: Who,
    store: Office,
    request: Request,
    sha256: HASH,
    offset: Annotated[int, Query(ge=0, description="where this piece starts: the `received`")],
) -> dict[str, Any]:
    """Send the next piece of a file (at most 1 MiB); the piece that completes it is hash-checked."""
    body = await request.body()
    files = files_of(request)
    state = await run_in_threadpool(_state, store, files, who, sha256)
    if state["complete"]:
        return state
    if offset != state["received"]:
        raise ApiError(
            409,
            "offset_mismatch",
            f"办公室已收到 {state['received']} 字节，请从那里继续",
            f"the office holds {state['received']} bytes: continue from there",
        )
    if not body:
        raise ApiError(422, "empty_piece", "上传的片段为空", "the piece is empty", "body")
    if len(body) > MAX_PIECE or offset + len(body) > state["size"]:
        raise ApiError(
            413,
            "too_large",
            f"片段超过 {MAX_PIECE // 1024} KiB 或超出文件大小 {state['size']} 字节",
            f"the piece is over {MAX_PIECE // 1024} KiB or runs past the file's "
            f"{state['size']} bytes",
        )
    try:
        received = await run_in_threadpool(files.put_piece, sha256, offset, body)
        if received < state["size"]:
            return state | {"received": received}
        size = await run_in_threadpool(files.finish, sha256)
    except StorageError as exc:
        raise ApiError(507 if exc.full else 503, "storage", exc.zh, exc.en) from None
    except HashMismatch as exc:
        raise ApiError(
            422,
            "hash_mismatch",
            f"收到的文件内容与摘要不符（得到 {exc.got[:12]}…），已丢弃，请从头重传",
            f"the bytes received do not match the hash (got {exc.got[:12]}…); they were "
            "thrown away: send the file again from the start",
            "body",
        ) from None
    await run_in_threadpool(_note_stored, store, sha256, size)
    return state | {"received": size, "complete": True}


@router.get(
    "/api/v1/files/{sha256}",
    responses=ERRORS | {200: {"content": {"application/octet-stream": {}}}},
    response_class=Response,
    tags=["files"],
)
def get_file(who: Who, store: Office, request: Request, sha256: HASH) -> Response:
    """The stored bytes of a file, to whoever may see a record that refers to them."""
    with store.engine.connect() as conn:
        mime = conn.execute(
            select(attachments.c.data["mime"].as_string())
            .join(institutions, institutions.c.id == attachments.c.institution_id)
            .join(stored_files, stored_files.c.sha256 == attachments.c.sha256)
            .where(attachments.c.sha256 == sha256, institution_scope(who))
            .limit(1)
        ).scalar()
    if mime is None:
        raise _not_found(sha256)
    try:
        data = files_of(request).read(sha256)
    except FileNotFoundError:
        raise _not_found(sha256) from None
    return Response(
        data,
        media_type=mime or "application/octet-stream",
        headers={"Cache-Control": "private, max-age=31536000, immutable", "ETag": f'"{sha256}"'},
    )
