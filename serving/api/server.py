"""Start the data service: build it from the settings, run uvicorn, exit 0 on SIGTERM.

Why the signal handlers and ``os._exit``: uvicorn handles SIGTERM and SIGINT by finishing in-flight
requests, then restores the handlers it found and raises the signal again — with the default
handler in place that kills the process (status -15). So ``run`` first puts in handlers that only
note the signal. And the interpreter's own teardown can crash in delta-rs' native runtime threads
(the "delta-rs teardown crash"), turning a clean stop into a non-zero exit: once the server has
stopped and the state database's connections are closed nothing is left to clean up, so the
process flushes its output and ends with status 0 at once.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

import uvicorn

from catalog.contracts import Contract, load_catalog
from catalog.publishing import catalog_api_problems
from ibrain.lake import Lake
from ibrain.settings import Settings, SettingsError, get_settings
from security.db import database_url, make_engine, migrate
from security.identity.config import IdentityPolicy
from security.keys import load_keyring
from serving.api.app import Service, create_app
from serving.api.auth import Authenticator
from serving.api.limits import Limits
from serving.engine import Reader

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def build_service(
    settings: Settings | None = None,
    catalog: dict[str, Contract] | None = None,
    db_url: str | None = None,
) -> Service:
    """The service over the settings' lake and state database; refuses to start when the catalog
    check fails or a key is missing or exposed (no fail-open)."""
    settings = settings or get_settings()
    catalog = catalog if catalog is not None else load_catalog()
    problems = catalog_api_problems(catalog)
    if problems:
        raise SettingsError("the catalog's API products are not sound:\n  " + "\n  ".join(problems))
    engine = make_engine(db_url or database_url(settings))
    migrate(engine)
    token_keyring = load_keyring("token", settings=settings)
    masking_secret = load_keyring("masking", settings=settings).secret()
    policy = IdentityPolicy.from_env()
    return Service(
        catalog=catalog,
        reader=Reader(Lake(settings)),
        db=engine,
        auth=Authenticator(token_keyring, policy),
        token_keyring=token_keyring,
        policy=policy,
        masking_secret=masking_secret,
        limits=Limits.from_env(),
    )


def run(
    service: Service, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log_level: str = "info"
) -> None:
    """Serve until SIGTERM or SIGINT, then end the process with status 0 (see the module doc)."""
    config = uvicorn.Config(
        create_app(service), host=host, port=port, log_level=log_level, timeout_graceful_shutdown=10
    )
    server = uvicorn.Server(config)
    received: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: received.append(number))
    try:
        server.run()
    finally:
        service.db.dispose()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    # 0 after a clean stop (a signal, or uvicorn told to exit); 1 when it never started (port taken)
    os._exit(0 if server.started else 1)
