"""Dagster resources: the Spark engine (and the lake behind it)."""

from __future__ import annotations

import dagster as dg

from catalog.tables import LakeTables
from ibrain.lake import Lake
from ibrain.settings import get_settings


class SparkResource(dg.ConfigurableResource):
    """A Spark Connect session attached to the lake: ``SPARK_REMOTE`` when set, otherwise an
    embedded Sail server kept alive in the step's process. The lake root comes from
    ``IBRAIN_LAKE_ROOT`` so that the dbt child process and the CLI agree with the assets."""

    def tables(self) -> LakeTables:
        return LakeTables(lake=Lake(get_settings()))
