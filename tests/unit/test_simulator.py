from pathlib import Path

import pytest

from ibrain.uscc import is_valid
from ingest.simulator.gov_stats_monthly import Defects, month_range, write_files
from ingest.simulator.population import population
from ingest.sources import get_source


def test_month_range() -> None:
    assert month_range("2024-11:2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert len(month_range("2024-01:2025-01")) == 13
    with pytest.raises(ValueError, match="YYYY-MM:YYYY-MM"):
        month_range("2024-01")


def test_population_is_deterministic_and_valid() -> None:
    a, b = population(0.05, 1), population(0.05, 1)
    assert a == b
    assert len(a) == 100
    assert all(is_valid(e.uscc) for e in a)
    assert len({e.uscc for e in a}) == len(a)
    assert population(0.05, 2) != a


def test_files_are_deterministic_and_parse(tmp_path: Path) -> None:
    ents = population(0.02, 3)
    first = write_files(ents, ["2024-01"], tmp_path / "a", 3)
    second = write_files(ents, ["2024-01"], tmp_path / "b", 3)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    source = get_source("gov_stats_monthly")
    records = 0
    for path in first:
        parsed = source.parse(path.read_bytes(), path.name)
        records += len(parsed.records) + len(parsed.rejects)
    assert records == len(ents)


def test_defect_rates_are_applied(tmp_path: Path) -> None:
    ents = population(0.1, 5)
    clean = Defects(
        invalid_uscc=0, thousands_separator=0, full_width_digits=0, blank_energy=0, missing_field=0
    )
    paths = write_files(ents, ["2024-01"], tmp_path / "clean", 5, clean)
    source = get_source("gov_stats_monthly")
    records = [r for p in paths for _, r in source.parse(p.read_bytes(), p.name).records]
    assert all(is_valid(r["uscc"]) for r in records)
    dirty = write_files(ents, ["2024-01"], tmp_path / "dirty", 5, Defects(invalid_uscc=0.5))
    records = [r for p in dirty for _, r in source.parse(p.read_bytes(), p.name).records]
    invalid = sum(not is_valid(r["uscc"]) for r in records)
    assert 0.35 < invalid / len(records) < 0.65
