"""The transport to one recipient: an adapter configured by URL from the environment.

The real platforms' interface specifications are not public, so the sender talks to this
adapter only (POST of the signed body, the recipient's answer back). Rules: HTTPS, or plain HTTP
to a loopback address only; redirects are never followed (a 3xx is a refusal — a redirect could
send a signed package to another host); a timeout on every request.

Configuration: ``IBRAIN_DELIVERY_URL_<RECIPIENT>`` (recipient id upper-cased, ``-`` → ``_``),
e.g. ``IBRAIN_DELIVERY_URL_ZHGL_PLATFORM=https://…/ibrain/deliveries``; keys come from the
delivery keyrings (``security/keys.py``). There is no default URL.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

URL_VARIABLE = "IBRAIN_DELIVERY_URL_{}"


class TransportConfigError(ValueError):
    """A recipient's URL is missing or not allowed."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


def url_variable(recipient: str) -> str:
    return URL_VARIABLE.format(recipient.upper().replace("-", "_"))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """``url`` if it is HTTPS, or HTTP to loopback; else a ``TransportConfigError``."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return url
    raise TransportConfigError(f"{url!r}: deliveries go over HTTPS (plain HTTP only to a loopback address)")


class HttpAdapter:
    """POSTs signed bodies to one recipient's URL; follows no redirect."""

    def __init__(self, recipient: str, url: str, timeout_seconds: float = 30.0) -> None:
        self.recipient = recipient
        self.url = check_url(url)
        self.timeout_seconds = timeout_seconds
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or netrc from the environment for signed traffic

    @classmethod
    def from_env(cls, recipient: str, environ: Mapping[str, str] | None = None) -> HttpAdapter:
        environ = os.environ if environ is None else environ
        variable = url_variable(recipient)
        url = (environ.get(variable) or "").strip()
        if not url:
            raise TransportConfigError(f"{variable} is not set: where should {recipient}'s packages go?")
        return cls(recipient, url)

    def post(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        """One request; raises ``requests.Timeout`` / ``ConnectionError`` as they come."""
        response = self.session.post(
            self.url,
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8", **headers},
            timeout=self.timeout_seconds,
            allow_redirects=False,
        )
        return Answer(response.status_code, dict(response.headers), response.content)
