"""A fresh demo lake holds exactly the data of the committed fingerprint (docs/architecture.md,
"Proving that data did not change").

The fingerprint was recorded from the code before the re-layering, at the e2e demo's scale and seed;
refactors and performance work must leave it unchanged. When a change is *meant* to change data,
re-record it (`ibrain lake fingerprint --out tests/e2e/fingerprints/demo-e2e.json` on a fresh demo
lake built with tests/e2e/conftest.py's DEMO_ARGS) and say why in the commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ibrain import fingerprint
from tests.e2e.conftest import DemoLake

pytestmark = pytest.mark.e2e
COMMITTED = Path(__file__).parent / "fingerprints" / "demo-e2e.json"


def test_a_fresh_demo_lake_matches_the_committed_fingerprint(demo_lake: DemoLake) -> None:
    expected = fingerprint.load(COMMITTED)
    assert len(expected) > 70  # every layer's tables, not an empty lake
    assert fingerprint.differences(expected, demo_lake.fingerprint) == []


def test_the_comparison_notices_a_changed_table(demo_lake: DemoLake) -> None:
    """The comparison is not vacuous: one changed hash or row count is reported by name."""
    expected = fingerprint.load(COMMITTED)
    name = "theme.economic_operation_month"
    real = expected[name]
    tampered = {**expected, name: fingerprint.TableFingerprint(name, real.rows, "0-0", real.columns)}
    assert fingerprint.differences(tampered, demo_lake.fingerprint) == [
        f"{name}: same {real.rows} rows but different content"
    ]
    shorter = {**expected, name: fingerprint.TableFingerprint(name, real.rows + 1, real.hash, real.columns)}
    assert fingerprint.differences(shorter, demo_lake.fingerprint) == [
        f"{name}: {real.rows} rows, expected {real.rows + 1}"
    ]
