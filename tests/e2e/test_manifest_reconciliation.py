"""Against the simulator's own manifest (written from what it injected, not from our rules):
every injected defect is caught with the right rule — or accepted for a documented reason — and
no row outside the manifest is rejected or flagged."""

import posixpath
from collections import Counter
from pathlib import Path

import orjson
import pytest
from pyspark.sql import functions as F

from tests.e2e.conftest import DemoLake

pytestmark = pytest.mark.e2e

SILVER_OF = {
    "gov_stats_monthly": ["enterprise_month_stats"],
    "gov_subsidy": ["subsidy_award"],
    "ent_products": ["product"],
    "ind_supply_chain": ["supply_edge"],
    "ind_prices": ["price_quote"],
    "ent_orders": ["purchase_order", "capacity_offer"],
}
# What catching each kind looks like: a rule that rejected the row, "flag:<rule>" for a row kept
# and flagged, "accepted" for a row kept clean.
CAUGHT_BY = {
    # resolved by name (flagged) or not (quarantined); a name shared by two enterprises can
    # resolve to the other one, whose own row then makes this one a duplicate
    "invalid_uscc": {"flag:uscc_check_digit", "unresolved_enterprise", "uscc_check_digit", "duplicate"},
    "missing_required": {"required_fields"},
    "exact_duplicate": {"duplicate"},
    "near_duplicate": {"duplicate"},
    "unknown_region": {"region_code"},
    "abolished_region": {"flag:region_code_successor"},  # mapped to the successor code
    "unknown_industry": {"industry_code"},
    "unit_mixup": {"unit_mismatch", "flag:price_unit"},  # prices in 元/千克 are converted
    "out_of_range": {"range"},
    "missing_field": {"column_count"},
    "not_an_object": {"json_syntax"},
    "messy_text": {"accepted"},  # lower case, spaces, full width: standardised, nothing to reject
}
NOT_ROW_DEFECTS = {"late_file", "corrupt_file"}  # timeliness and whole files, checked elsewhere


def manifest(demo: DemoLake) -> dict:
    return orjson.loads((Path(demo.env["IBRAIN_INBOX"]) / "manifest.json").read_bytes())


def outcomes(demo: DemoLake, source: str) -> dict[tuple[str, int], str]:
    """(file name as delivered, row) -> what became of the row, for rows rejected or flagged."""
    t = demo.tables
    found: dict[tuple[str, int], str] = {}

    def key(r) -> tuple[str, int]:
        return posixpath.basename(r._source_file).split("__", 1)[1], r._row_number

    for r in t.read("quarantine", f"bronze_{source}").collect():
        found[key(r)] = r.rule_id
    for table in SILVER_OF[source]:
        for r in t.read("quarantine", f"silver_{table}").collect():
            found[key(r)] = r.rule_id
        for r in t.read("silver", table).filter(F.col("dq_flags").isNotNull()).collect():
            found[key(r)] = "flag:" + r.dq_flags
    return found


@pytest.mark.parametrize("source", sorted(SILVER_OF))
def test_every_row_defect_is_caught_and_nothing_else_is(demo_lake: DemoLake, source: str) -> None:
    entries = [
        e
        for e in manifest(demo_lake)["defects"]["entries"]
        if e["source"] == source and e["kind"] not in NOT_ROW_DEFECTS
    ]
    assert entries, source
    found = outcomes(demo_lake, source)
    injected = {(e["file"], e["row"]): e["kind"] for e in entries}
    for where, kind in injected.items():
        outcome = found.get(where, "accepted")
        assert outcome in CAUGHT_BY[kind], f"{source} {where}: injected {kind}, got {outcome}"
    unexpected = {where: outcome for where, outcome in found.items() if where not in injected}
    assert not unexpected, f"{source}: rejected or flagged without an injected defect: {unexpected}"


def test_telemetry_defects_by_count(demo_lake: DemoLake) -> None:
    """Telemetry is logged per file (millions of readings), so it reconciles by count."""
    counts = manifest(demo_lake)["defects"]["counts"]["ent_telemetry"]
    t = demo_lake.tables
    bronze = Counter(r.rule_id for r in t.read("quarantine", "bronze_ent_telemetry").collect())
    silver = {
        r.rule_id: r["count"]
        for r in t.read("quarantine", "silver_telemetry_reading").groupBy("rule_id").count().collect()
    }
    assert dict(bronze) == {"json_syntax": counts["json_syntax"]}
    assert silver == {
        "required_fields": counts["missing_required"],
        "range": counts["out_of_range"],
        "duplicate": counts["telemetry_duplicate"],
    }  # clock skew is kept as reported


def test_registry_defects_by_count(demo_lake: DemoLake) -> None:
    """Registry defects are logged by enterprise and version (pages are cut by the API)."""
    counts = manifest(demo_lake)["defects"]["counts"]["gov_registry"]
    t = demo_lake.tables
    rejected = {
        r.rule_id: r["count"]
        for r in t.read("quarantine", "silver_registry_record").groupBy("rule_id").count().collect()
    }
    expected = {
        "uscc_check_digit": counts.get("invalid_uscc", 0),
        "required_fields": counts.get("missing_required", 0),
        "region_code": counts.get("unknown_region", 0),
        "industry_code": counts.get("unknown_industry", 0),
    }
    assert rejected == {k: v for k, v in expected.items() if v}
    flagged = t.read("silver", "registry_record").filter(F.col("dq_flags") == "region_code_successor").count()
    assert flagged == counts.get("abolished_region", 0)
