"""Source systems: one per bronze contract with an ``ingest`` block."""

from __future__ import annotations

from catalog import load_catalog
from ingest.sources.base import Source

SOURCES: dict[str, Source] = {
    c.table: Source(c) for c in load_catalog().values() if c.layer == "bronze" and c.ingest is not None
}


class UnknownSourceError(ValueError):
    pass


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise UnknownSourceError(f"unknown source {name!r}; known sources: {known}") from None


__all__ = ["SOURCES", "Source", "UnknownSourceError", "get_source"]
