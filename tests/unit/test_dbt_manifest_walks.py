"""Walks over a dbt manifest (catalog/lineage.py), on a hand-made manifest."""

from catalog.lineage import dbt_model_id, dbt_source_inputs, has_dbt_tag


def model(schema: str, name: str, tag: str, parents: list[str]) -> dict:
    return {"resource_type": "model", "schema": schema, "name": name, "config": {"tags": [tag]},
            "depends_on": {"nodes": parents}}  # fmt: skip


def source(source_name: str, name: str) -> dict:
    return {"resource_type": "source", "source_name": source_name, "name": name}


# indicator_value (monthly) ← fct_a (monthly) ← silver.a, silver.b
#                           ← dim_x (dimension) ← silver.x          (not followed: not monthly)
#                           ← silver.c, gold seed (not a silver source)
MANIFEST = {
    "nodes": {
        "model.p.indicator_value": model(
            "indicator", "indicator_value", "monthly",
            ["model.p.fct_a", "model.p.dim_x", "source.p.silver.c", "source.p.gold.seed"],
        ),
        "model.p.fct_a": model(
            "gold", "fct_a", "monthly", ["source.p.silver.a", "source.p.silver.b", "model.p.fct_a"]
        ),
        "model.p.dim_x": model("gold", "dim_x", "dimension", ["source.p.silver.x"]),
        "test.p.t": {"resource_type": "test", "schema": "gold", "name": "fct_a", "config": {}},
    },
    "sources": {
        "source.p.silver.a": source("silver", "a"),
        "source.p.silver.b": source("silver", "b"),
        "source.p.silver.c": source("silver", "c"),
        "source.p.silver.x": source("silver", "x"),
        "source.p.gold.seed": source("gold", "seed"),
    },
}  # fmt: skip


def test_the_model_of_a_table() -> None:
    assert dbt_model_id(MANIFEST, "gold", "fct_a") == "model.p.fct_a"  # the test of the same name is not
    assert dbt_model_id(MANIFEST, "silver", "fct_a") is None
    assert has_dbt_tag(MANIFEST, "model.p.fct_a", "monthly") and not has_dbt_tag(
        MANIFEST, "model.p.dim_x", "monthly"
    )


def test_silver_inputs_through_monthly_models_only() -> None:
    assert dbt_source_inputs(MANIFEST, "model.p.indicator_value", "silver", "monthly") == ["a", "b", "c"]
    assert dbt_source_inputs(MANIFEST, "model.p.dim_x", "silver", "monthly") == ["x"]
    assert dbt_source_inputs(MANIFEST, "model.p.fct_a", "gold", "monthly") == []
