"""Source simulator: plays the provincial source systems, deterministically for a seed.

``simulate()`` writes every file-based source in its native form under ``<out>/<source>/``, the
registry's data set for the HTTP API (``<out>/gov_registry/registry.json``), and a manifest
(``<out>/manifest.json``) of every injected defect and every file's simulated arrival time.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from simulators.defects import DefectLog, Defects
from simulators.delivery import DeliveryLog
from simulators.registry_api import RegistryApi, registry_records
from simulators.sources import Writer
from simulators.world import CST, World, month_range

FILE_SOURCES = ("gov_stats_monthly", "gov_subsidy", "ent_products", "ind_supply_chain", "ind_prices",
                "ent_orders", "ent_telemetry")  # fmt: skip
ALL_SOURCES = (*FILE_SOURCES, "gov_registry")


@dataclass
class Simulation:
    out_dir: Path
    files: dict[str, list[Path]]
    manifest_path: Path
    registry_path: Path | None

    @property
    def manifest(self) -> dict[str, Any]:
        return orjson.loads(self.manifest_path.read_bytes())

    def arrivals(self) -> dict[str, dt.datetime]:
        """File name -> simulated arrival time (UTC, naive), for landing."""
        return {
            d["file"]: dt.datetime.fromisoformat(d["arrived_at"]).astimezone(dt.UTC).replace(tzinfo=None)
            for d in self.manifest["deliveries"]
        }


def simulate(
    out_dir: Path,
    scale: float = 0.1,
    seed: int = 42,
    months: str = "2024-01:2025-01",
    defects: Defects | None = None,
    sources: tuple[str, ...] = ALL_SOURCES,
    telemetry_days: int = 7,
) -> Simulation:
    unknown = sorted(set(sources) - set(ALL_SOURCES))
    if unknown:
        raise ValueError(f"unknown sources {unknown}; known: {', '.join(ALL_SOURCES)}")
    defects = defects or Defects()
    world = World(scale, seed, month_range(months), telemetry_days)
    writer = Writer(world, out_dir, defects, DefectLog(), DeliveryLog())
    files: dict[str, list[Path]] = {}
    for source in FILE_SOURCES:
        if source in sources:
            shutil.rmtree(out_dir / source, ignore_errors=True)
            files[source] = getattr(writer, source)()
    registry_path = None
    if "gov_registry" in sources:
        registry_path = out_dir / "gov_registry" / "registry.json"
        registry_path.parent.mkdir(parents=True, exist_ok=True)
        records = registry_records(world, defects, writer.log)
        registry_path.write_bytes(orjson.dumps([{k: v for k, v in r.items() if k != "_at"} for r in records]))
    manifest = {
        "scale": scale,
        "seed": seed,
        "months": months,
        "telemetry_days": telemetry_days,
        "enterprises": len(world.enterprises),
        "devices": len(world.devices),
        "window_end": dt.datetime.combine(world.window_end, dt.time(23, 59, 59), CST).isoformat(),
        "defects": writer.log.as_manifest(defects),
        "deliveries": writer.deliveries.entries,
    }
    manifest_path = out_dir / "manifest.json"
    manifest_path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return Simulation(out_dir, files, manifest_path, registry_path)


def registry_api(
    registry_path: Path, token: str, as_of: dt.datetime, error_rate: float = 0.0, seed: int = 0
) -> RegistryApi:
    """An API server (not started) over a simulated registry data set."""
    records = orjson.loads(registry_path.read_bytes())
    for record in records:
        record["_at"] = dt.datetime.fromisoformat(record["updated_at"])
    return RegistryApi(records, token, as_of, error_rate, seed)


__all__ = ["ALL_SOURCES", "FILE_SOURCES", "Defects", "Simulation", "registry_api", "simulate"]
