"""A small Python client of the data service (``ibrain serve``), for notebooks and scripts.

It reads an API product whole — every page of one Delta version, in key order, as Arrow — with
the caller's own token, so the service's grants, masking and audit trail apply to an analyst's
notebook exactly as to any consumer (docs/architecture.md: the data service). Configuration:
``IBRAIN_API_URL`` (default ``http://127.0.0.1:8000``) and ``IBRAIN_TOKEN`` (from ``ibrain login
--print-token``, or an app's token from ``POST /v1/token``). Transient failures (429, 5xx,
timeouts) are retried by ``ibrain.retry``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import requests

from ibrain.retry import HttpRetryPolicy, http_get

URL_ENV = "IBRAIN_API_URL"
TOKEN_ENV = "IBRAIN_TOKEN"
DEFAULT_URL = "http://127.0.0.1:8000"
PAGE_SIZE = 1000


class ClientError(RuntimeError):
    """The service refused the request (4xx) or no token is configured; the message is the
    service's own (it names the parameter or column)."""


@dataclass
class Dataset:
    """One read: the rows as Arrow, and what the service said about them."""

    table: pa.Table
    version: int
    as_of: str | None
    masked: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)

    def to_pandas(self) -> pd.DataFrame:
        return self.table.to_pandas()


class Client:
    """``Client()`` reads the environment; ``client.read("theme.economic_operation_month",
    city_code="210200", period__gte="2024-06-01")`` returns every matching row."""

    def __init__(
        self, url: str | None = None, token: str | None = None, environ: Mapping[str, str] | None = None
    ):
        environ = os.environ if environ is None else environ
        self.url = (url or (environ.get(URL_ENV) or "").strip() or DEFAULT_URL).rstrip("/")
        token = token or (environ.get(TOKEN_ENV) or "").strip()
        if not token:
            raise ClientError(
                f"no token: set {TOKEN_ENV}, e.g. export {TOKEN_ENV}=$(ibrain login <you> --print-token)"
            )
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.policy = HttpRetryPolicy.from_env(environ)

    def _get(self, path: str, params: Mapping[str, str]) -> requests.Response:
        response = http_get(self.session, self.url + path, params=params, policy=self.policy)
        if response.status_code != 200:
            try:
                error = response.json()["error"]
                message = error["message"] + (
                    f" (parameter {error['parameter']})" if error.get("parameter") else ""
                )
            except (ValueError, KeyError, TypeError):
                message = response.text[:300]
            raise ClientError(f"GET {path}: HTTP {response.status_code}: {message}")
        return response

    def datasets(self) -> list[dict]:
        """The API products the service publishes (name, path, columns with grade)."""
        return self._get("/v1/datasets", {}).json()

    def as_of(self, dataset: str) -> str | None:
        """The data's as-of date (its latest period) as the service states it."""
        layer, _, table = dataset.partition(".")
        return self._get(f"/v1/{layer}/{table}", {"page_size": "1"}).json()["as_of"]

    def read(self, dataset: str, **filters: str) -> Dataset:
        """Every row of ``dataset`` (``layer.table``) matching ``filters`` (the API's parameters,
        e.g. ``period__gte="2024-01-01"``, ``chain_code__in="robotics,cnc"``), at one version."""
        layer, _, table = dataset.partition(".")
        path = f"/v1/{layer}/{table}"
        params = {**{k: str(v) for k, v in filters.items()}, "format": "arrow", "page_size": str(PAGE_SIZE)}
        batches: list[pa.Table] = []
        meta: dict[bytes, bytes] = {}
        cursor = None
        while True:
            page_params = {**params, "cursor": cursor} if cursor else params
            page = pa.ipc.open_stream(self._get(path, page_params).content).read_all()
            meta = page.schema.metadata or {}
            batches.append(page.replace_schema_metadata(None))
            cursor = meta.get(b"next_cursor", b"").decode() or None
            if not cursor:
                break
        table = pa.concat_tables(batches) if len(batches) > 1 else batches[0]

        def names(key: bytes) -> list[str]:
            return [n for n in meta.get(key, b"").decode().split(",") if n]

        return Dataset(
            table=table,
            version=int(meta.get(b"version", b"-1")),
            as_of=meta.get(b"as_of", b"").decode() or None,
            masked=names(b"masked"),
            withheld=names(b"withheld"),
        )
