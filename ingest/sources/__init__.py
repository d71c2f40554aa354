"""Source systems: one per bronze contract with an ``ingest`` block."""

from __future__ import annotations

from functools import cache

from catalog import load_catalog
from ingest.sources.base import Source


@cache
def sources() -> dict[str, Source]:
    """Every source by name (built on first use: the contracts are read then, not at import)."""
    return {
        c.table: Source(c) for c in load_catalog().values() if c.layer == "bronze" and c.ingest is not None
    }


class UnknownSourceError(ValueError):
    pass


def get_source(name: str) -> Source:
    try:
        return sources()[name]
    except KeyError:
        known = ", ".join(sorted(sources()))
        raise UnknownSourceError(f"unknown source {name!r}; known sources: {known}") from None


__all__ = ["Source", "UnknownSourceError", "get_source", "sources"]
