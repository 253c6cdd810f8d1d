"""Tokens under the office's control: who holds one, when they were last seen, revoke, rotate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from fieldkit import domain

from .auth import new_token, token_hash
from .store import now_iso, ops, retired_tokens, technician_status, technicians

SEEN_EVERY = 300.0  # seconds between two "last seen" writes for one technician


class TokenError(Exception):
    """A token action that cannot be done; the message is bilingual and says what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class TechnicianRow:
    """One line of `fieldkit server technicians`."""

    id: str
    name: str
    zone: str
    role: str
    revoked_at: str | None
    last_seen: str | None
    devices: int

    @property
    def zone_name(self) -> str:
        """The zone's full Chinese name."""
        return domain.full_name(self.zone)


def listing(conn: Connection) -> list[TechnicianRow]:
    """Every technician with zone, role, revocation, last contact and devices seen (by id)."""
    devices: dict[str, int] = dict(
        conn.execute(
            select(ops.c.technician_id, func.count(ops.c.client_id.distinct())).group_by(
                ops.c.technician_id
            )
        ).all()
    )
    joined = technicians.outerjoin(
        technician_status, technician_status.c.technician_id == technicians.c.id
    )
    rows = conn.execute(
        select(
            technicians.c.id,
            technicians.c.name,
            technicians.c.zone,
            technicians.c.role,
            technician_status.c.revoked_at,
            technician_status.c.last_seen,
        )
        .select_from(joined)
        .order_by(technicians.c.id)
    ).all()
    return [TechnicianRow(*r, devices=int(devices.get(r.id, 0))) for r in rows]


def revoke(conn: Connection, technician_id: str) -> str:
    """End a technician's token (its laptop is told so at its next contact); their name."""
    tech = _technician(conn, technician_id)
    _retire(conn, tech, "revoked")
    conn.execute(  # a hash of a token nobody was ever given: no token opens this account now
        update(technicians)
        .where(technicians.c.id == tech.id)
        .values(token_hash=token_hash(new_token()))
    )
    _set_status(conn, tech.id, revoked_at=now_iso())
    return str(tech.name)


def rotate(conn: Connection, technician_id: str) -> str:
    """Give a technician a new token (the old one is ended); the new token, to print once."""
    tech = _technician(conn, technician_id)
    _retire(conn, tech, "rotated")
    token = new_token()
    conn.execute(
        update(technicians).where(technicians.c.id == tech.id).values(token_hash=token_hash(token))
    )
    _set_status(conn, tech.id, revoked_at=None)
    return token


def retired(conn: Connection, token: str) -> tuple[str, str] | None:
    """(why, when) if this token is one the office ended, else None."""
    row = conn.execute(
        select(retired_tokens.c.why, retired_tokens.c.retired_at).where(
            retired_tokens.c.token_hash == token_hash(token)
        )
    ).first()
    return (str(row.why), str(row.retired_at)) if row else None


def retired_words(why: str, when: str) -> tuple[str, str]:
    """What a laptop holding an ended token is told (zh, en)."""
    day = when[:10]
    if why == "rotated":
        return (
            f"办公室已于{day}为您换发了新令牌，这个旧令牌已停用；请用新令牌运行 fieldkit login "
            "重新登录，本机未发送的更改会随之发送",
            f"the office issued you a new token on {day} and this old one no longer works: "
            "run fieldkit login with the new token; your unsent changes are then sent",
        )
    return (
        f"办公室已于{day}停用了这个令牌；请向办公室索取新令牌后运行 fieldkit login 重新登录，"
        "本机未发送的更改会随之发送",
        f"the office revoked this token on {day}: ask the office for a new token and run "
        "fieldkit login again; your unsent changes are then sent",
    )


def _technician(conn: Connection, technician_id: str) -> Any:
    tech = conn.execute(
        select(technicians).where(technicians.c.id == technician_id.strip().upper())
    ).first()
    if tech is None:
        raise TokenError(
            f"没有技术人员“{technician_id}”（fieldkit server technicians 列出全部）",
            f"no technician '{technician_id}' (fieldkit server technicians lists them)",
        )
    return tech


def _retire(conn: Connection, tech: Any, why: str) -> None:
    conn.execute(
        insert(retired_tokens).values(
            token_hash=tech.token_hash,
            technician_id=tech.id,
            why=why,
            retired_at=now_iso(),
        )
    )


def _set_status(conn: Connection, technician_id: str, **values: str | None) -> None:
    """Write a technician's status row, creating it if there is none, in one statement.

    (An UPDATE, then an INSERT when it changed nothing, let two server processes seeing a
    technician's first contact at once both insert: the second's unique violation was a 500.)
    """
    upsert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
    conn.execute(
        upsert(technician_status)
        .values(technician_id=technician_id, **values)
        .on_conflict_do_update(index_elements=["technician_id"], set_=values)
    )


class LastSeen:
    """Notes when each technician was last seen, writing at most every SEEN_EVERY seconds each."""

    def __init__(
        self, engine: Engine, every: float = SEEN_EVERY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine, self.every, self.clock = engine, every, clock
        self._written: dict[str, float] = {}
        self._lock = threading.Lock()

    def saw(self, technician_id: str) -> None:
        """Record a contact of this technician (a write only if the last one is old)."""
        now = self.clock()
        with self._lock:
            if now - self._written.get(technician_id, -self.every) < self.every:
                return
            self._written[technician_id] = now
        with self.engine.begin() as conn:
            _set_status(conn, technician_id, last_seen=now_iso())
