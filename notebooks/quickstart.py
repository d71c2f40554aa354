# %% [markdown]
# # Industry Brain — querying the lake from a notebook
#
# Run `make demo` first. Then open this file as a notebook (VS Code / Jupyter with jupytext) or
# run it as a script: `.venv/bin/python notebooks/quickstart.py`.
#
# `spark_session()` connects to `SPARK_REMOTE` or starts the embedded engine, and registers
# every Delta table of the lake (`IBRAIN_LAKE_ROOT`) as `<layer>.<table>`.

# %%
from ibrain.spark import spark_session

spark = spark_session()
spark.sql("SHOW TABLES IN gold").show()

# %% [markdown]
# ## 经济运行: output by city for the latest month, with growth
#
# `theme.economic_operation_month` has one row per city × industry division × chain × month;
# a city's total is the sum of its rows.

# %%
latest = spark.sql("SELECT max(period) AS p FROM theme.economic_operation_month").first().p
spark.sql(f"""
    WITH city AS (
        SELECT city_name,
               sum(CASE WHEN period = DATE'{latest}' THEN enterprise_count END) AS enterprise_count,
               sum(CASE WHEN period = DATE'{latest}' THEN gross_output END) AS gross_output,
               sum(CASE WHEN period < DATE'{latest}' THEN gross_output END) AS gross_output_year_ago
        FROM theme.economic_operation_month
        WHERE period IN (DATE'{latest}', add_months(DATE'{latest}', -12))
        GROUP BY city_name
    )
    SELECT city_name, enterprise_count, gross_output,
           round((gross_output / gross_output_year_ago - 1) * 100, 2) AS gross_output_yoy_pct
    FROM city
    ORDER BY gross_output DESC
""").show(truncate=False)

# %% [markdown]
# The largest city × industry division × chain cells, with month-on-month and year-on-year growth

# %%
spark.sql(f"""
    SELECT city_name, division_name, chain_name_zh, enterprise_count, gross_output,
           gross_output_mom_pct, gross_output_yoy_pct, profit_margin_pct
    FROM theme.economic_operation_month
    WHERE period = DATE'{latest}'
    ORDER BY gross_output DESC
    LIMIT 15
""").show(truncate=False)

# %% [markdown]
# ## 产业链: how is each pilot chain doing?

# %%
spark.table("topic.chain_output_month").where(f"period = DATE'{latest}'").select(
    "chain_name_zh", "enterprise_count", "gross_output", "gross_output_yoy_pct", "energy_intensity"
).show(truncate=False)

# %% [markdown]
# ## Data quality: why were rows quarantined?

# %%
spark.sql("""
    SELECT rule_id, count(*) AS rows, min(reason) AS example
    FROM quarantine.silver_enterprise_month_stats
    GROUP BY rule_id ORDER BY rows DESC
""").show(truncate=False)

# %% [markdown]
# ## Rows kept but flagged (corrected): e.g. an invalid USCC resolved by company name and region

# %%
spark.sql("""
    SELECT dq_flags, resolution, count(*) AS rows
    FROM silver.enterprise_month_stats
    WHERE dq_flags IS NOT NULL
    GROUP BY dq_flags, resolution ORDER BY rows DESC
""").show(truncate=False)

# %% [markdown]
# ## 一企一档: the enterprise master and its history

# %%
spark.sql("""
    SELECT count(DISTINCT enterprise_id) AS enterprises, count(*) AS versions,
           sum(CASE WHEN is_current THEN 1 ELSE 0 END) AS current_rows
    FROM silver.enterprise
""").show()
