"""A paginated JSON API client that survives rate limits and outages.

Transient failures (429, 5xx, timeouts, connection errors) are retried by the HTTP policy of
:mod:`ibrain.retry` (exponential backoff with jitter, honouring ``Retry-After`` up to a cap);
other 4xx are errors that name the URL and the status.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from ibrain.retry import HttpRetryPolicy, RetriesExhausted, http_get


class ApiError(RuntimeError):
    pass


@dataclass
class PageFetcher:
    base_url: str
    token: str
    retry: HttpRetryPolicy = field(default_factory=HttpRetryPolicy)
    timeout_seconds: float = 30.0
    retries: int = 0  # retried requests so far (for the pull log)

    def __post_init__(self) -> None:
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {self.token}"

    def _count_retry(self) -> None:
        self.retries += 1

    def get(self, path: str, params: dict[str, Any]) -> bytes:
        url = self.base_url.rstrip("/") + path
        try:
            response = http_get(
                self._session,
                url,
                params=params,
                policy=self.retry,
                timeout_seconds=self.timeout_seconds,
                on_retry=self._count_retry,
            )
        except RetriesExhausted as exc:
            raise ApiError(str(exc)) from exc
        if response.status_code != 200:
            raise ApiError(f"GET {response.url}: HTTP {response.status_code}: {response.text[:300]}")
        return response.content

    def pages(self, path: str, params: dict[str, Any], page_size: int) -> Iterator[tuple[int, bytes, dict]]:
        """(page number, raw body, parsed body) for every page, following ``total_pages``."""
        import orjson

        page = 1
        while True:
            raw = self.get(path, {**params, "page": page, "page_size": page_size})
            body = orjson.loads(raw)
            yield page, raw, body
            if page >= int(body.get("total_pages", 1)):
                return
            page += 1
