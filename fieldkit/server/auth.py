"""Who is calling and what they may see: bearer tokens, technicians and their scope."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from fieldkit import domain

from .store import assignments, changes, institutions, technicians

TECHNICIAN = "technician"
SUPERVISOR = "supervisor"
TOKEN_PREFIX = "fk_"


@dataclass(frozen=True)
class Caller:
    """An authenticated technician or supervisor."""

    id: str
    name: str
    role: str
    zone: str

    @property
    def supervisor(self) -> bool:
        """Whether the caller sees a whole zone rather than an assigned list."""
        return self.role == SUPERVISOR

    def wire(self) -> dict[str, str]:
        """The `/api/v1/me` answer."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "zone": self.zone,
            "zone_name": domain.full_name(self.zone),
        }


def new_token() -> str:
    """A fresh high-entropy bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token (sha256; tokens are random, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_caller(conn: Connection, token: str) -> Caller | None:
    """The technician holding this token, or None."""
    wanted = token_hash(token)
    row = conn.execute(select(technicians).where(technicians.c.token_hash == wanted)).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return Caller(row.id, row.name, row.role, row.zone)


def division_filter(column: ColumnElement[str], zone: str) -> ColumnElement[bool]:
    """SQL for `domain.contains(zone, column)`: the division lies inside the zone."""
    if zone == domain.PROVINCE_CODE:
        return column.like("43%")
    if zone.endswith("00"):
        return column.like(zone[:4] + "%")
    return column == zone


def institution_scope(caller: Caller) -> ColumnElement[bool]:
    """SQL condition on `institutions` for what the caller may see and change."""
    if caller.supervisor:
        return division_filter(institutions.c.division_code, caller.zone)
    assigned = select(assignments.c.institution_id).where(assignments.c.technician_id == caller.id)
    return institutions.c.id.in_(assigned)


def change_scope(caller: Caller) -> ColumnElement[bool]:
    """SQL condition on `changes` for what the caller pulls (incl. their own `unassigned`)."""
    if caller.supervisor:
        return and_(
            changes.c.audience.is_(None), division_filter(changes.c.division_code, caller.zone)
        )
    assigned = select(assignments.c.institution_id).where(assignments.c.technician_id == caller.id)
    return or_(
        and_(changes.c.audience.is_(None), changes.c.institution_id.in_(assigned)),
        changes.c.audience == caller.id,
    )


def may_touch(conn: Connection, caller: Caller, institution_id: str, division_code: str) -> bool:
    """Whether the caller may see and change this institution."""
    if caller.supervisor:
        return domain.contains(caller.zone, division_code)
    owner = conn.execute(
        select(assignments.c.technician_id).where(assignments.c.institution_id == institution_id)
    ).scalar()
    return owner == caller.id


class FailedLogins:
    """Bad tokens per client address in a sliding window; past the limit, the address waits."""

    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.max_addresses, self.clock = (
            limit,
            window,
            max_addresses,
            clock,
        )
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int:
        """Seconds this address must wait before its next token is checked (0: go ahead)."""
        with self._lock:
            times = self._recent(address)
            if len(times) < self.limit:
                return 0
            return max(1, int(times[0] + self.window - self.clock()) + 1)

    def failed(self, address: str) -> None:
        """Count one bad token from this address."""
        with self._lock:
            times = self._recent(address)
            times.append(self.clock())
            self._seen[address] = times
            self._seen.move_to_end(address)
            while len(self._seen) > self.max_addresses:
                self._seen.popitem(last=False)

    def _recent(self, address: str) -> deque[float]:
        """The failures of an address still inside the window."""
        times = self._seen.get(address, deque())
        while times and times[0] <= self.clock() - self.window:
            times.popleft()
        return times
