"""Transformations: PySpark silver jobs (transforms/silver) and the dbt project (transforms/dbt)."""
