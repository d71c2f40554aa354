"""A paginated JSON API client that survives rate limits and outages.

429 and 503 (and connection errors) are retried with exponential backoff and jitter, honouring
``Retry-After`` up to a cap; other 4xx are errors that name the URL and the status.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

log = logging.getLogger(__name__)
RETRYABLE = {429, 500, 502, 503, 504}


class ApiError(RuntimeError):
    pass


@dataclass
class RetryPolicy:
    attempts: int = 8
    backoff_seconds: float = 0.5
    max_wait_seconds: float = 30.0


@dataclass
class PageFetcher:
    base_url: str
    token: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_seconds: float = 30.0
    retries: int = 0  # retried responses so far (for the pull log)

    def __post_init__(self) -> None:
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {self.token}"

    def get(self, path: str, params: dict[str, Any]) -> bytes:
        url = self.base_url.rstrip("/") + path
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = self._session.get(url, params=params, timeout=self.timeout_seconds)
            except requests.ConnectionError as exc:
                status, wait_hint, detail = None, None, str(exc)
            else:
                if response.status_code == 200:
                    return response.content
                if response.status_code not in RETRYABLE:
                    raise ApiError(f"GET {response.url}: HTTP {response.status_code}: {response.text[:300]}")
                status, detail = response.status_code, response.text[:200]
                wait_hint = _retry_after(response.headers.get("Retry-After"))
            if attempt == self.retry.attempts:
                raise ApiError(
                    f"GET {url} {params}: gave up after {attempt} attempts (last: {status} {detail})"
                )
            backoff = self.retry.backoff_seconds * 2 ** (attempt - 1) * (0.5 + random.random())
            wait = min(self.retry.max_wait_seconds, max(backoff, wait_hint or 0.0))
            self.retries += 1
            log.warning("GET %s: %s, retry %d in %.2fs", url, status or "connection error", attempt, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")

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


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
