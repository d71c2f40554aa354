"""Registry of source systems; each knows its contracts, how to name a delivery, how to parse it."""

from __future__ import annotations

from ingest.sources.base import Source
from ingest.sources.gov_stats_monthly import GovStatsMonthly

SOURCES: dict[str, Source] = {s.name: s for s in (GovStatsMonthly(),)}


class UnknownSourceError(ValueError):
    pass


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise UnknownSourceError(f"unknown source {name!r}; known sources: {known}") from None


__all__ = ["SOURCES", "Source", "UnknownSourceError", "get_source"]
