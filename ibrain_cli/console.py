"""What the terminal shows: the CLI's own lines and one line per stage (a live bar on a terminal).

Everything else — the embedded Sail engine's Rust logging, Dagster, dbt, Great Expectations,
py4j/pyspark, and whatever the Dagster step processes write — goes to a log file under
``$DAGSTER_HOME/logs`` while a command runs (:func:`log_to_file`): file descriptors 1 and 2 of the
process point at that file, so child processes and native code are caught too, and the CLI writes
to copies of the original descriptors. ``ibrain -v`` leaves the descriptors alone and shows it all
live, as before. On failure the error and the log's path are printed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn
from rich.spinner import Spinner
from rich.table import Column
from rich.text import Text

NAME_WIDTH = 12  # stage names are padded to this, so the lines of a run line up


@dataclass
class _Terminal:
    """Where the CLI's own lines go: the process's stdout/stderr, or copies of them while the
    descriptors point at the log file."""

    out: IO[str] | None = None
    err: IO[str] | None = None
    log_path: Path | None = None
    stage: Stage | None = None  # the stage whose live bar is on screen
    verbose: bool = False

    def stream(self, err: bool) -> IO[str]:
        chosen = self.err if err else self.out
        return chosen or (sys.stderr if err else sys.stdout)


_TERMINAL = _Terminal()


def set_verbose(verbose: bool) -> None:
    """``ibrain -v``: logs stay on the terminal; stages print plain lines (no live bar)."""
    _TERMINAL.verbose = verbose


def is_verbose() -> bool:
    return _TERMINAL.verbose


def capturing() -> bool:
    """Whether engine and library output is going to the log file now."""
    return _TERMINAL.log_path is not None


def echo(message: str = "", *, fg: str | None = None, err: bool = False) -> None:
    """Print one of the CLI's own lines (above a live bar, if one is showing)."""
    stage = _TERMINAL.stage
    if stage is not None and stage.live is not None and not err:
        stage.live.console.print(Text(message, style=fg or ""), soft_wrap=True)
        return
    if fg:
        click.secho(message, fg=fg, file=_TERMINAL.stream(err))
    else:
        click.echo(message, file=_TERMINAL.stream(err))


def fail(message: str) -> NoReturn:
    """Print the error and exit 1 (the log's path follows, see :func:`log_to_file`)."""
    echo(f"error: {message}", fg="red", err=True)
    sys.exit(1)


# -- the log file ---------------------------------------------------------------------------------
def log_path(dagster_home: Path, now: dt.datetime | None = None) -> Path:
    """``$DAGSTER_HOME/logs/ibrain-<local time>-<pid>.log``: one file per command."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return dagster_home / "logs" / f"ibrain-{stamp}-{os.getpid()}.log"


@contextmanager
def log_to_file(path: Path, *, announce: bool) -> Iterator[Path]:
    """Send file descriptors 1 and 2 — Python's stdout/stderr, native code, child processes — to
    ``path`` for the duration; the CLI's own lines still reach the terminal (:func:`echo`).

    Python logging goes there too, at INFO. On the way out the descriptors are restored; if the
    command failed (an exception, or a non-zero exit) the log's path is printed on stderr, and
    ``announce`` prints it after a success as well. A file left empty is removed (and not named).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    _TERMINAL.out = open(saved_out, "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    _TERMINAL.err = open(saved_err, "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    _TERMINAL.log_path = path
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    failed = True
    try:
        yield path
        failed = False
    except SystemExit as exc:
        failed = exc.code not in (0, None)
        raise
    except BaseException:
        logging.getLogger("ibrain_cli").exception("the command failed")  # the traceback, in the log
        raise
    finally:
        root.setLevel(level)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(_TERMINAL.out.fileno(), 1)
        os.dup2(_TERMINAL.err.fileno(), 2)
        _TERMINAL.out.close()
        _TERMINAL.err.close()
        _TERMINAL.out = _TERMINAL.err = _TERMINAL.log_path = None
        kept = path.exists() and path.stat().st_size > 0
        if not kept:
            path.unlink(missing_ok=True)
        if failed and kept:
            echo(f"engine and library logs: {path}", err=True)
        elif announce and kept:
            echo(f"log: {path}")


# -- stages ---------------------------------------------------------------------------------------
def _clock(seconds: float) -> str:
    """H:MM:SS, as rich's elapsed column shows it."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class _MarkColumn(ProgressColumn):
    """A spinner while the stage runs, then ✓ or ✗."""

    def __init__(self, table_column: Column | None = None) -> None:
        super().__init__(table_column)
        self.spinner = Spinner("dots", style="progress.spinner")

    def render(self, task: Task) -> Text:
        if task.fields.get("failed"):
            return Text("✗", style="red")
        if task.finished:
            return Text("✓", style="green")
        return self.spinner.render(task.get_time())  # type: ignore[return-value]


class _ElapsedColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        return Text(_clock(elapsed or 0), style="progress.elapsed")


@dataclass
class Stage:
    """One step of a command (simulate, land, ingest, pipeline, …): how far it is and how it
    ended. ``unit`` counts something (steps); without it the stage shows a spinner only."""

    name: str
    unit: str | None = None
    done: int = 0
    total: int = 0
    detail: str = ""
    failed: bool = False
    started: float = field(default_factory=time.monotonic)
    live: Progress | None = None
    task: int | None = None

    def update(self, done: int | None = None, total: int | None = None, detail: str | None = None) -> None:
        """Safe to call from another thread (rich's Progress locks)."""
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if detail is not None:
            self.detail = detail
        self._refresh()

    def check(self, ok: bool) -> None:
        """Mark the stage failed unless ``ok`` (e.g. a run's success)."""
        if not ok:
            self.fail()

    def fail(self, detail: str | None = None) -> None:
        self.failed = True
        if detail is not None:
            self.detail = detail
        self._refresh()

    def _counts(self) -> str:
        return f"{self.done}/{self.total} {self.unit}" if self.unit and self.total else ""

    def _refresh(self, finished: bool = False) -> None:
        if self.live is None or self.task is None:
            return
        total = max(self.total, self.done) or None
        completed = total if finished and total and not self.failed else self.done
        if finished and total is None:
            total = completed = 1
        self.live.update(
            self.task,
            completed=completed or 0,
            total=total,
            counts=self._counts(),
            detail=self.detail,
            failed=self.failed,
        )

    def line(self) -> str:
        """The stage's final line when no live bar is shown."""
        mark = "✗" if self.failed else "✓"
        parts = [p for p in (self._counts(), self.detail) if p]
        text = f"{mark} {self.name:<{NAME_WIDTH}} {_clock(time.monotonic() - self.started)}"
        return f"{text}  {'  '.join(parts)}" if parts else text


def _live_bar(stage: Stage, stream: IO[str]) -> Progress:
    fixed = Column(no_wrap=True)
    columns: list[str | ProgressColumn] = [
        _MarkColumn(table_column=fixed),
        TextColumn(f"{stage.name:<{NAME_WIDTH}}", table_column=fixed),
    ]
    if stage.unit:
        columns += [BarColumn(bar_width=24, table_column=fixed), TextColumn("{task.fields[counts]}")]
    columns += [
        _ElapsedColumn(table_column=Column(no_wrap=True, min_width=7)),
        TextColumn(
            "{task.fields[detail]}",
            style="dim",
            table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
        ),
    ]
    console = Console(file=stream, force_terminal=True, soft_wrap=False, highlight=False)
    # The descriptors may point at the log file: rich must not take over sys.stdout/sys.stderr.
    return Progress(*columns, console=console, redirect_stdout=False, redirect_stderr=False, expand=True)


@contextmanager
def stage(name: str, unit: str | None = None) -> Iterator[Stage]:
    """A stage of the command: a live line with a spinner (and a bar when ``unit`` counts) on a
    terminal; a plain line when it ends otherwise (tests, CI, a pipe, ``-v``). An exception
    marks it failed."""
    current = Stage(name, unit)
    stream = _TERMINAL.stream(err=False)
    if not _TERMINAL.verbose and stream.isatty():
        current.live = _live_bar(current, stream)
        current.task = current.live.add_task(name, total=None, counts="", detail="", failed=False)
        current.live.start()
    _TERMINAL.stage = current
    try:
        yield current
    except BaseException:
        current.failed = True
        raise
    finally:
        _TERMINAL.stage = None
        if current.live is not None:
            current._refresh(finished=True)
            current.live.stop_task(current.task)  # type: ignore[arg-type]
            current.live.stop()
        else:
            echo(current.line(), fg="red" if current.failed else None)
