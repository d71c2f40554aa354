"""The source simulator: deterministic, every source in its native form, a truthful manifest."""

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from ibrain.uscc import is_valid
from ingest.sources import get_source
from simulators import ALL_SOURCES, simulate
from simulators.defects import Defects
from simulators.population import population
from simulators.world import month_range


def test_month_range() -> None:
    assert month_range("2024-11:2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert len(month_range("2024-01:2025-01")) == 13
    with pytest.raises(ValueError, match="YYYY-MM:YYYY-MM"):
        month_range("2024-01")


def test_population_is_deterministic_and_valid() -> None:
    a, b = population(0.05, 1), population(0.05, 1)
    assert a == b and len(a) == 100
    assert all(is_valid(e.uscc) for e in a)
    assert len({e.uscc for e in a}) == len(a)
    assert population(0.05, 2) != a
    assert len({e.city_code for e in population(0.5, 1)}) == 14


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first = simulate(tmp_path / "a", 0.02, 3, "2024-12:2025-01", telemetry_days=1)
    second = simulate(tmp_path / "b", 0.02, 3, "2024-12:2025-01", telemetry_days=1)
    for source, paths in first.files.items():
        assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in second.files[source]], source
    assert first.registry_path.read_bytes() == second.registry_path.read_bytes()
    assert first.manifest == second.manifest


def test_every_source_in_its_native_form(tmp_path: Path) -> None:
    simulation = simulate(tmp_path, 0.05, 5, "2024-12:2025-01", Defects(xlsx_share=0.5), telemetry_days=1)
    assert set(simulation.files) | {"gov_registry"} == set(ALL_SOURCES)
    suffixes = {s: Counter(p.suffix for p in paths) for s, paths in simulation.files.items()}
    assert set(suffixes["gov_stats_monthly"]) == {".csv", ".xlsx"}
    assert set(suffixes["ent_products"]) == {".xlsx"} and set(suffixes["ind_prices"]) == {".xlsx"}
    assert set(suffixes["ent_telemetry"]) == {".jsonl"} and len(simulation.files["ent_telemetry"]) == 24
    assert set(suffixes["ent_orders"]) == {".json"}
    for path in simulation.files["ent_products"]:
        assert zipfile.is_zipfile(path)
    for source, paths in simulation.files.items():
        for path in paths:  # every file name tells its unit and period
            unit, period = get_source(source).identify(path.name)
            assert unit and period, path.name


def test_manifest_records_deliveries_and_late_files(tmp_path: Path) -> None:
    simulation = simulate(tmp_path, 0.02, 9, "2024-10:2025-01", Defects(late_file=0.5), telemetry_days=1)
    deliveries = simulation.manifest["deliveries"]
    assert len(deliveries) == sum(len(p) for p in simulation.files.values())
    late = [d for d in deliveries if d["late"]]
    assert late and len(late) < len(deliveries)
    for d in deliveries:
        arrived, deadline = (
            dt.datetime.fromisoformat(d["arrived_at"]),
            dt.datetime.fromisoformat(d["deadline"]),
        )
        assert (arrived > deadline) == d["late"]
    logged_late = {e["file"] for e in simulation.manifest["defects"]["entries"] if e["kind"] == "late_file"}
    assert logged_late == {d["file"] for d in late}
    assert set(simulation.arrivals()) == {d["file"] for d in deliveries}


def test_defect_rates_are_applied_and_logged_where_they_are(tmp_path: Path) -> None:
    none = Defects(**{name: 0.0 for name in Defects.names()})
    clean = simulate(tmp_path / "clean", 0.1, 5, "2024-01:2024-01", none, ("gov_stats_monthly",))
    source = get_source("gov_stats_monthly")
    records = [
        r for p in clean.files["gov_stats_monthly"] for r in source.parse(p.read_bytes(), p.name).records
    ]
    assert records and all(is_valid(r.values["uscc"]) for r in records)
    assert clean.manifest["defects"]["entries"] == []

    dirty = simulate(
        tmp_path / "dirty",
        0.1,
        5,
        "2024-01:2024-01",
        Defects(invalid_uscc=0.5, xlsx_share=0),
        ("gov_stats_monthly",),
    )
    by_file = {p.name: p for p in dirty.files["gov_stats_monthly"]}
    entries = [e for e in dirty.manifest["defects"]["entries"] if e["kind"] == "invalid_uscc"]
    assert 0.35 < len(entries) / len(records) < 0.65
    for entry in entries:  # the manifest points at the very line that carries the defect
        parsed = source.parse(by_file[entry["file"]].read_bytes(), entry["file"])
        line = next(r for r in parsed.records if r.row_number == entry["row"])
        assert not is_valid(line.values["uscc"])
