"""A real PostgreSQL server for tests: Debian's binaries, a temporary data folder, loopback only.

PostgreSQL refuses to run as root, and the tests run as root here and in CI: the server then runs
as the unprivileged ``postgres`` user (``nobody`` where that user is missing) through ``runuser``,
and its folder belongs to that user. The superuser has a random password (SCRAM); the port is
free and on 127.0.0.1 only; the Unix socket lives in the server's own folder.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.seaweed import free_port

SUPERUSER = "ibrain"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (``apt-get install postgresql``)."""


def bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    found = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (initdb, pg_ctl): apt-get install postgresql"
    )


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs a program as an unprivileged user, and that user (None when
    the tests already run unprivileged)."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], user
    raise PostgresUnavailable("running as root and neither a postgres nor a nobody user exists")


@dataclass
class PostgresServer:
    host: str
    port: int
    password: str
    workdir: Path
    prefix: list[str]
    bin: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://{SUPERUSER}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg2

        name = name or f"t_{secrets.token_hex(6)}"
        connection = psycopg2.connect(
            host=self.host, port=self.port, user=SUPERUSER, password=self.password, dbname="postgres"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [
                *self.prefix,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.workdir / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            check=False,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_postgres(timeout: float = 60.0) -> PostgresServer:
    """initdb + pg_ctl start in a new temporary folder; returns once the server accepts connections."""
    binaries = bin_dir()
    prefix, user = _run_as()
    workdir = Path(tempfile.mkdtemp(prefix="ibrain-postgres-"))
    password = secrets.token_hex(16)
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    if user is not None:
        os.chown(workdir, user.pw_uid, user.pw_gid)
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    os.chmod(workdir, 0o700)
    os.chmod(pwfile, 0o600)
    data = workdir / "data"
    log = workdir / "server.log"
    port = free_port()

    def run(args: list[str]) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, cwd=workdir)
        if done.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(
                f"{args[0]} failed ({done.returncode}): {done.stderr}{done.stdout}{server_log}"
            )

    run(
        [
            str(binaries / "initdb"),
            "-D", str(data),
            "-U", SUPERUSER,
            "--pwfile", str(pwfile),
            "--auth", "scram-sha-256",
            "-E", "UTF8",
            "--locale", "C",
            "--no-sync",
        ]
    )  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off -c max_connections=200"
    run(
        [
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(timeout)),
            "start",
        ]
    )
    server = PostgresServer("127.0.0.1", port, password, workdir, prefix, binaries)
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.create_database("ibrain")
            return server
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.2)
