"""The identity policy's numbers: lockout, session and token lifetimes, re-authentication.

Each is an environment variable (documented in the README's configuration table) with a default
chosen for 等保三级 (GB/T 22239-2019 L3-IAS1: 登录失败处理, 连接超时自动退出).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ibrain.settings import SettingsError

DEFAULTS = {
    "IBRAIN_LOGIN_MAX_FAILURES": 5,  # failed logins in a row before the account locks
    "IBRAIN_LOGIN_LOCKOUT_MINUTES": 15,  # how long it stays locked
    "IBRAIN_SESSION_IDLE_MINUTES": 30,  # a person's session ends after this long unused
    "IBRAIN_SESSION_MAX_MINUTES": 480,  # … and this long after the login in any case
    "IBRAIN_APP_TOKEN_MINUTES": 15,  # an app's token lives this long
    "IBRAIN_REAUTH_MINUTES": 15,  # admin actions need a login at most this old
}


@dataclass(frozen=True)
class IdentityPolicy:
    max_failures: int
    lockout: dt.timedelta
    session_idle: dt.timedelta
    session_max: dt.timedelta
    app_token: dt.timedelta
    reauth: dt.timedelta

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IdentityPolicy:
        env = os.environ if environ is None else environ
        values = {}
        for name, default in DEFAULTS.items():
            raw = (env.get(name) or "").strip()
            try:
                value = int(raw) if raw else default
            except ValueError:
                raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
            if value <= 0:
                raise SettingsError(f"{name}={raw!r}: must be at least 1")
            values[name] = value
        minutes = dt.timedelta(minutes=1)
        return cls(
            max_failures=values["IBRAIN_LOGIN_MAX_FAILURES"],
            lockout=values["IBRAIN_LOGIN_LOCKOUT_MINUTES"] * minutes,
            session_idle=values["IBRAIN_SESSION_IDLE_MINUTES"] * minutes,
            session_max=values["IBRAIN_SESSION_MAX_MINUTES"] * minutes,
            app_token=values["IBRAIN_APP_TOKEN_MINUTES"] * minutes,
            reauth=values["IBRAIN_REAUTH_MINUTES"] * minutes,
        )
