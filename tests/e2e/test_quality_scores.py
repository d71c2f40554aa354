"""Quality results on the demo lake: every layer is measured in all six dimensions (issue 6).

How X, the scores and the issues are computed is tested against numbers worked out by hand in
tests/integration/test_quality_measure.py and test_quality_store.py."""

import pytest
from pyspark.sql import functions as F

from quality.store import DIMENSIONS
from tests.e2e.conftest import DemoLake

pytestmark = pytest.mark.e2e


def test_dq_result_shows_all_six_dimensions(demo_lake: DemoLake) -> None:
    results = demo_lake.tables.read("quality", "dq_result")
    assert {r.dimension for r in results.select("dimension").distinct().collect()} == set(DIMENSIONS)
    for layer in ("silver", "gold", "theme", "topic", "indicator"):
        layer_dims = results.filter(F.col("dataset").startswith(f"{layer}.")).select("dimension").distinct()
        assert layer_dims.count() >= 5, layer  # silver datasets may exempt 一致性 with a reason
