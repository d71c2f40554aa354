"""Per-principal rate limit and daily quota, counted in the state database (shared by workers).

Fixed windows: one per UTC minute and one per UTC day. ``exceeded`` looks before the read (a
caller over the limit costs no query); ``count`` adds the request in the transaction that writes
its audit record and looks again, so two workers racing past the limit are both counted and the
later one refused. The token endpoint has a limit of its own, per client address.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ibrain.settings import SettingsError
from security.usage import count_request, current_count

DEFAULTS = {
    "IBRAIN_API_RATE_PER_MINUTE": 600,  # requests per principal per minute
    "IBRAIN_API_DAILY_QUOTA": 100_000,  # requests per principal per UTC day
    "IBRAIN_API_TOKEN_RATE_PER_MINUTE": 20,  # token requests per client address per minute
    "IBRAIN_API_TIMEOUT_SECONDS": 10,  # a read that takes longer is answered 503
}


@dataclass(frozen=True)
class Limits:
    per_minute: int
    per_day: int
    token_per_minute: int
    timeout_seconds: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        values = {}
        for name, default in DEFAULTS.items():
            raw = (env.get(name) or "").strip()
            try:
                value = int(raw) if raw else default
            except ValueError:
                raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
            if value < 1:
                raise SettingsError(f"{name}={raw!r}: must be at least 1")
            values[name] = value
        return cls(*values.values())


def windows(now: dt.datetime, per_minute: int, per_day: int | None) -> list[tuple[str, int, int]]:
    """(window name, epoch second it ends, limit) of the windows ``now`` falls in."""
    epoch = int(now.timestamp())
    minute = epoch // 60
    found = [(f"m:{minute}", (minute + 1) * 60, per_minute)]
    if per_day is not None:
        day = now.astimezone(dt.UTC).date()
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
        found.append((f"d:{day.isoformat()}", int(end.timestamp()), per_day))
    return found


def exceeded(
    session: Session, key: str, now: dt.datetime, per_minute: int, per_day: int | None
) -> int | None:
    """Seconds to wait (Retry-After) when ``key`` is at its limit already, else None."""
    for window, ends, limit in windows(now, per_minute, per_day):
        if current_count(session, key, window) >= limit:
            return max(1, ends - int(now.timestamp()))
    return None


def count(session: Session, key: str, now: dt.datetime, per_minute: int, per_day: int | None) -> int | None:
    """Count one request for ``key``; seconds to wait when that went over a limit, else None."""
    wait = None
    for window, ends, limit in windows(now, per_minute, per_day):
        if count_request(session, key, window, ends) > limit:
            wait = max(wait or 0, max(1, ends - int(now.timestamp())))
    return wait
