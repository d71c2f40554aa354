"""The drop zone: ``<root>/landing/_inbox/<source>/``, where senders put files (SFTP, MinIO upload).

Collecting lands every file through the ingest ledger (content hash, unit, period from the file
name) and removes it from the inbox. Nothing is lost, stuck or taken from outside the inbox
(issue 12, docs/architecture.md: the data's path):

- a file whose name does not tell its unit and period goes to
  ``landing/_rejected/<source>/_unidentified/`` with a reason file;
- only the inbox's own regular files are read. A symbolic link, a FIFO, a device or a socket is
  rejected: a reason file under ``landing/_rejected/<source>/_unsafe/``, the entry itself removed
  from the inbox and whatever a link points at left untouched (and never read: files are opened
  with ``O_NOFOLLOW``, and checked to be regular files after opening). Only the folder's direct
  entries are listed, so no path leaves it. On S3 there are no links or devices: every object is
  a file, a common prefix is a subfolder;
- subfolders and hidden files (an upload in progress, ``.part``) are left in place and reported
  (:attr:`CollectReport.notices`, the logs, the CLI through :func:`inbox_notices`);
- a file that changes while it is read is left for the next collection, and a file is removed
  from the inbox only if it is still the one that was landed.
"""

from __future__ import annotations

import errno
import logging
import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from catalog.tables import LakeTables
from ibrain.lake import Lake
from ingest.ledger import (
    PENDING,
    Delivery,
    IngestLedger,
    PeriodRange,
    display_name,
    read_ledger_columns,
    rejected_uri,
    write_rejection,
)
from ingest.sources import Source, get_source, sources

log = logging.getLogger(__name__)

FILE, UNSAFE, FOLDER, HIDDEN = "file", "unsafe", "folder", "hidden"


@dataclass
class CollectReport:
    landed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unidentified: dict[str, str] = field(default_factory=dict)  # file -> where it was moved
    rejected: dict[str, str] = field(default_factory=dict)  # file -> reason (unsafe, unreadable, …)
    notices: list[str] = field(default_factory=list)  # subfolders and hidden files left in place
    changing: list[str] = field(default_factory=list)  # changed while read: left for the next run


@dataclass(frozen=True)
class InboxEntry:
    name: str
    uri: str
    kind: str  # FILE | UNSAFE | FOLDER | HIDDEN
    detail: str = ""  # for UNSAFE: what it is


def inbox_uri(tables: LakeTables, source: str) -> str:
    return tables.lake.uri("landing", "_inbox", source)


def scan_inbox(lake: Lake, source: str) -> list[InboxEntry]:
    """The direct entries of a source's inbox, by kind, without following anything."""
    folder = lake.uri("landing", "_inbox", source)
    if lake.settings.is_s3:
        found = [
            InboxEntry(posixpath.basename(u), u, HIDDEN if posixpath.basename(u).startswith(".") else FILE)
            for u in lake.list_files(folder, recursive=False)
        ]
        return found + [InboxEntry(d, lake.uri(folder, d), FOLDER) for d in lake.list_dirs(folder)]
    try:
        listing = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    found = []
    for item in sorted(listing, key=lambda e: e.name):
        path = os.path.join(folder, item.name)
        if item.is_symlink():
            found.append(InboxEntry(item.name, path, UNSAFE, f"a symbolic link (to {os.readlink(path)!r})"))
        elif item.is_dir(follow_symlinks=False):
            found.append(InboxEntry(item.name, path, FOLDER))
        elif item.name.startswith("."):
            found.append(InboxEntry(item.name, path, HIDDEN))
        elif item.is_file(follow_symlinks=False):
            found.append(InboxEntry(item.name, path, FILE))
        else:
            found.append(InboxEntry(item.name, path, UNSAFE, _special_kind(path)))
    return found


def _special_kind(path: str) -> str:
    mode = os.lstat(path).st_mode
    for test, what in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device")):
        if test(mode):
            return what
    return "a device" if stat.S_ISBLK(mode) else "not a regular file"


def inbox_files(tables: LakeTables, source: str) -> list[str]:
    """URIs of the regular, visible files waiting in a source's inbox."""
    return [e.uri for e in scan_inbox(tables.lake, source) if e.kind == FILE]


class _Changed(OSError):
    """The file changed while it was read (a sender still writing, or replacing it)."""


class _NotRegular(OSError):
    """What was opened is not a regular file (a FIFO or device put in place of the file)."""


def _swapped(error: OSError) -> bool:
    """Whether a read failed because the entry became a link (O_NOFOLLOW) or a special file."""
    return isinstance(error, _NotRegular) or error.errno == errno.ELOOP


class _LocalFile:
    """Reads one inbox file without following a link, and remembers what it read, so the file is
    removed afterwards only if it is still the same one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity: tuple[int, int, int] | None = None

    def read(self) -> bytes:
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise _NotRegular(f"{self.path}: not a regular file")
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            after = os.fstat(fd)
        finally:
            os.close(fd)
        data = b"".join(chunks)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(data) != (
            after.st_size
        ):
            raise _Changed(f"{self.path}: changed while it was read")
        self.identity = (before.st_ino, before.st_size, before.st_mtime_ns)
        return data

    def still_same(self) -> bool:
        try:
            now = os.lstat(self.path)
        except FileNotFoundError:
            return False
        return stat.S_ISREG(now.st_mode) and (now.st_ino, now.st_size, now.st_mtime_ns) == self.identity


def collect(tables: LakeTables, source_name: str, periods: PeriodRange | None = None) -> CollectReport:
    """Land the files waiting in ``source_name``'s inbox (see the module docstring); a file whose
    period is outside ``periods`` is rejected by the ledger."""
    source = get_source(source_name)
    lake = tables.lake
    report = CollectReport()
    deliveries: list[tuple[InboxEntry, Delivery, _LocalFile | None]] = []
    for entry in scan_inbox(lake, source_name):
        shown = display_name(entry.name)
        if entry.kind in (FOLDER, HIDDEN):
            what = "subfolder" if entry.kind == FOLDER else "hidden file"
            report.notices.append(
                f"{source_name}: {what} {shown} left in the inbox (only files are collected)"
            )
            continue
        if entry.kind == UNSAFE:
            _reject_unsafe(lake, source_name, entry, report)
            continue
        local = None if lake.settings.is_s3 else _LocalFile(entry.uri)
        read: Callable[[], bytes] = local.read if local else _reader(lake, entry.uri)
        unit, period = source.identify(entry.name)
        if unit is None or period is None:
            _reject_unidentified(lake, source, entry, read, local, report)
            continue
        deliveries.append((entry, Delivery(source_name, entry.name, read, unit, period), local))
    if deliveries:
        result = IngestLedger(tables).land([d for _, d, _ in deliveries], periods)
        report.landed, report.unchanged = result.landed, result.unchanged
        for entry, delivery, local in deliveries:
            error = result.unread.get(delivery.file_name)
            if isinstance(error, _Changed):
                report.changing.append(entry.name)
                log.warning(
                    "%s: %s changed while it was read; left for the next run", source_name, entry.name
                )
                continue
            if error is not None and local is not None and _swapped(error):  # swapped in after the scan
                entry = InboxEntry(entry.name, entry.uri, UNSAFE, "no longer a regular file")
                _reject_unsafe(lake, source_name, entry, report)
                continue
            if delivery.file_name in result.rejected:
                report.rejected[entry.name] = result.rejected[delivery.file_name]
                if error is not None:
                    continue  # unreadable (permissions…): left in place, reported on every run
            if local is not None and not local.still_same():
                report.changing.append(entry.name)
                log.warning(
                    "%s: %s was replaced after it was read; the new one is left for the next run",
                    source_name,
                    entry.name,
                )
                continue
            lake.delete(entry.uri)
    for notice in report.notices:
        log.warning("%s", notice)
    return report


def _reader(lake: Lake, uri: str) -> Callable[[], bytes]:
    return lambda: lake.read_bytes(uri)


def _reject_unsafe(
    lake: Lake, source: str, entry: InboxEntry, report: CollectReport, reason: str | None = None
) -> None:
    """Record why and remove the entry itself (a link's target is neither read nor touched)."""
    reason = reason or (
        f"{display_name(entry.name)}: {entry.detail} in the inbox, not a regular file: not read; "
        "the entry is removed from the inbox, anything it points at is left untouched"
    )
    write_rejection(lake, rejected_uri(lake, source, "_unsafe", entry.name), None, reason)
    os.unlink(entry.uri)  # an inbox entry of a local lake (S3 has no links or devices)
    report.rejected[entry.name] = reason
    log.error("%s: rejected %s", source, reason)


def _reject_unidentified(
    lake: Lake,
    source: Source,
    entry: InboxEntry,
    read: Callable[[], bytes],
    local: _LocalFile | None,
    report: CollectReport,
) -> None:
    target = rejected_uri(lake, source.name, None, entry.name)
    try:
        data = read()
    except _Changed:
        report.changing.append(entry.name)
        return
    except OSError as exc:
        reason = f"{display_name(entry.name)}: cannot be read ({type(exc).__name__}: {exc})"
        report.rejected[entry.name] = reason
        log.error("%s: %s", source.name, reason)
        return
    write_rejection(
        lake,
        target,
        data,
        f"{display_name(entry.name)}: the file name does not match {source.spec.file_pattern}",
    )
    if local is None or local.still_same():
        lake.delete(entry.uri)
    report.unidentified[entry.name] = target
    log.error("%s: unidentified file %s moved to %s", source.name, display_name(entry.name), target)


def inbox_notices(lake: Lake) -> list[str]:
    """What is left in the inboxes and will not be collected (subfolders, hidden files, folders of
    unknown sources), one line each, for the CLI."""
    known = sources()
    lines = [
        f"landing/_inbox/{name}: not a source's inbox; its files are not collected"
        for name in lake.list_dirs(lake.uri("landing", "_inbox"))
        if name not in known
    ]
    for name in known:
        for entry in scan_inbox(lake, name):
            if entry.kind in (FOLDER, HIDDEN):
                what = "subfolder" if entry.kind == FOLDER else "hidden file"
                lines.append(f"{name}: {what} {display_name(entry.name)} left in the inbox")
    return lines


def inbox_periods_from_names(source: Source, uris: list[str]) -> set[str]:
    """Periods the files waiting in an inbox belong to (for sensors). A name that tells no period
    counts under the current one, so the file is collected (and rejected) rather than left waiting."""
    periods = set()
    for uri in uris:
        name = posixpath.basename(uri)
        if not name.startswith("."):
            periods.add(source.identify(name)[1] or source.current_period())
    return periods


def pending_work(lake: Lake) -> dict[str, list[str]]:
    """Source → periods with deliveries pending in the ledger or entries to collect in its inbox
    (files, and links or devices to reject), without Spark: for sensors."""
    work: dict[str, set[str]] = {}
    for row in read_ledger_columns(lake, ["source", "period", "status"]):
        if row["status"] == PENDING:
            work.setdefault(row["source"], set()).add(row["period"])
    for name, source in sources().items():
        waiting = [e.uri for e in scan_inbox(lake, name) if e.kind in (FILE, UNSAFE)]
        periods = inbox_periods_from_names(source, waiting)
        if periods:
            work.setdefault(name, set()).update(periods)
    return {k: sorted(v) for k, v in sorted(work.items())}


def drop_files(lake: Lake, files: Mapping[str, Iterable[Path]]) -> int:
    """Copy local files, listed per source, into the sources' drop zones, as a sender would (for
    the sensor or ``ibrain ingest`` to collect); the bucket is created first if missing.
    Returns the number of files copied."""
    lake.ensure_bucket()
    count = 0
    for source, paths in files.items():
        for path in paths:
            lake.write_bytes(lake.uri("landing", "_inbox", source, path.name), path.read_bytes())
            count += 1
    return count
