"""Lake layout and file access for a local folder or an ``s3://`` root.

Layout (docs/architecture.md: storage): ``<root>/<layer>/<table>/``; table name ``<layer>.<table>``;
Dagster asset key ``[layer, table]``.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.fs as pafs

from ibrain.settings import Settings, get_settings

LAYERS: tuple[str, ...] = (
    "landing",
    "bronze",
    "silver",
    "gold",
    "theme",
    "topic",
    "indicator",
    "quality",
    "quarantine",
    "audit",
    "exchange",
)
# Layers whose sub-folders are Delta tables (landing holds raw files). The exchange layer holds the
# export models (Delta tables, dbt) and, beside them, the delivery packages' files in
# ``exchange/<recipient>/`` (folders without a _delta_log, never taken for tables).
TABLE_LAYERS: tuple[str, ...] = tuple(x for x in LAYERS if x != "landing")


class LakeError(RuntimeError):
    pass


@dataclass(frozen=True)
class TableRef:
    layer: str
    table: str
    uri: str

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}"


class Lake:
    """Paths and byte-level file access under the lake root."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.root = self.settings.lake_root

    # -- paths -----------------------------------------------------------------------------
    def uri(self, *parts: str) -> str:
        clean = [p.strip("/") for p in parts if p]
        return posixpath.join(self.root, *clean) if clean else self.root

    def table_uri(self, layer: str, table: str) -> str:
        return self.ref(layer, table).uri

    def ref(self, layer: str, table: str) -> TableRef:
        if layer not in TABLE_LAYERS:
            raise LakeError(f"{layer!r} is not a table layer; expected one of {TABLE_LAYERS}")
        return TableRef(layer, table, self.uri(layer, table))

    # -- file system -------------------------------------------------------------------------
    @cached_property
    def fs(self) -> pafs.FileSystem:
        if not self.settings.is_s3:
            return pafs.LocalFileSystem()
        s3 = self.settings.s3
        kwargs: dict[str, object] = {
            "access_key": s3.access_key_id,
            "secret_key": s3.secret_access_key,
            "region": s3.region,
        }
        if s3.endpoint_url:
            endpoint = urlparse(s3.endpoint_url)
            kwargs["endpoint_override"] = endpoint.netloc or endpoint.path
            kwargs["scheme"] = endpoint.scheme or ("http" if s3.allow_http else "https")
        return pafs.S3FileSystem(**kwargs)

    def _fs_path(self, uri: str) -> str:
        return uri[len("s3://") :] if uri.startswith("s3://") else uri

    def storage_options(self) -> dict[str, str] | None:
        """delta-rs storage options for this lake (None for a local folder)."""
        return self.settings.s3.storage_options() if self.settings.is_s3 else None

    def exists(self, uri: str) -> bool:
        return self.fs.get_file_info(self._fs_path(uri)).type != pafs.FileType.NotFound

    def read_bytes(self, uri: str) -> bytes:
        with self.fs.open_input_stream(self._fs_path(uri)) as stream:
            return stream.read()

    def write_bytes(self, uri: str, data: bytes) -> None:
        """Write a whole object. Local writes go through a temp file and a rename so readers
        never see half a file; an S3 PUT is atomic by itself."""
        path = self._fs_path(uri)
        if self.settings.is_s3:
            with self.fs.open_output_stream(path) as out:
                out.write(data)
            return
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)

    def delete(self, uri: str) -> None:
        self.fs.delete_file(self._fs_path(uri))

    def delete_dir(self, uri: str) -> None:
        if self.exists(uri):
            self.fs.delete_dir(self._fs_path(uri))

    def open_output(self, uri: str):
        """A writable stream (for pyarrow writers); parent folders are created as needed."""
        path = self._fs_path(uri)
        if not self.settings.is_s3:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return self.fs.open_output_stream(path)

    def list_dirs(self, uri: str) -> list[str]:
        """Names of the immediate sub-folders of ``uri`` (empty when it does not exist)."""
        selector = pafs.FileSelector(self._fs_path(uri), recursive=False, allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)

    def list_files(self, uri: str, recursive: bool = True) -> list[str]:
        """URIs of the files under ``uri``."""
        selector = pafs.FileSelector(self._fs_path(uri), recursive=recursive, allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        prefix = "s3://" if self.settings.is_s3 else ""
        return sorted(prefix + i.path for i in infos if i.type == pafs.FileType.File)

    def file_times(self, uri: str, recursive: bool = True) -> dict[str, dt.datetime | None]:
        """URIs of the files under ``uri`` → their modification time (UTC; None if the store has
        none), e.g. to leave alone a file another process may have just written."""
        selector = pafs.FileSelector(self._fs_path(uri), recursive=recursive, allow_not_found=True)
        prefix = "s3://" if self.settings.is_s3 else ""
        found: dict[str, dt.datetime | None] = {}
        for info in self.fs.get_file_info(selector):
            if info.type == pafs.FileType.File:
                mtime = info.mtime
                if mtime is not None and mtime.tzinfo is None:
                    mtime = mtime.replace(tzinfo=dt.UTC)
                found[prefix + info.path] = mtime
        return found

    def ensure_bucket(self) -> None:
        """Create the root's bucket on S3 if it is missing (a no-op for a local folder)."""
        if not self.settings.is_s3:
            Path(self.root).mkdir(parents=True, exist_ok=True)
            return
        bucket = self._fs_path(self.root).split("/", 1)[0]
        self.fs.create_dir(bucket)

    # -- Delta tables -------------------------------------------------------------------------
    def is_delta_table(self, uri: str) -> bool:
        return bool(self.list_files(posixpath.join(uri, "_delta_log"), recursive=False))

    def delta_tables(self) -> list[TableRef]:
        """Every Delta table under the root, found by its ``_delta_log``."""
        found: list[TableRef] = []
        for layer in TABLE_LAYERS:
            for table in self.list_dirs(self.uri(layer)):
                uri = self.uri(layer, table)
                if not table.startswith(("_", ".")) and self.is_delta_table(uri):
                    found.append(TableRef(layer, table, uri))
        return found
