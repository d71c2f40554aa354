# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 经济运行分析：一个地市的产值增长，按产业链和行业大类分解
#
# **What it answers.** A city's above-scale (规上) industrial output grew (or fell) by X % against
# the same month a year earlier: which pilot chains and which GB/T 4754 divisions made that
# growth? Each group's *contribution* in percentage points is its change in output divided by the
# city's output a year earlier, so the contributions add up to the city's growth exactly.
#
# **How it reads.** Through the data service with your own token (`IBRAIN_API_URL`,
# `IBRAIN_TOKEN` — e.g. `export IBRAIN_TOKEN=$(ibrain login analyst --print-token)`), so your
# grants, masking and the audit trail apply: `gross_output` is 重要 and is withheld unless a
# grant covers it. A data engineer can read the same table directly instead:
# `from ibrain.spark import spark_session; spark_session().table("theme.economic_operation_month")`.

# %%
import datetime as dt
import os

import matplotlib.pyplot as plt
import pandas as pd

from ibrain.charts import use_cjk_font
from serving.client import Client

use_cjk_font()  # Chinese labels (WenQuanYi Micro Hei); fails clearly if the font is missing
client = Client()  # IBRAIN_API_URL + IBRAIN_TOKEN
CITY = os.environ.get("CITY_CODE")  # default: the city with the largest output
PERIOD = os.environ.get("PERIOD")  # YYYY-MM; default: the latest month with a year-ago month

# %% [markdown]
# ## The data: every row of the city in the month and a year earlier

# %%
DATASET = "theme.economic_operation_month"
period = dt.date.fromisoformat(PERIOD + "-01" if PERIOD else client.as_of(DATASET))
year_ago = period.replace(year=period.year - 1)
reads = [client.read(DATASET, period=str(month)) for month in (year_ago, period)]
for read in reads:
    if "gross_output" in read.withheld or "gross_output" in read.masked:
        raise PermissionError(f"gross_output is withheld from you: apply for {DATASET} in the portal")
df = pd.concat([read.to_pandas() for read in reads], ignore_index=True)
df["gross_output"] = df["gross_output"].astype(float)
city = CITY or df[df["period"] == period].groupby("city_code")["gross_output"].sum().idxmax()
cdf = df[df["city_code"] == city]
city_name = cdf["city_name"].dropna().iloc[0]
print(f"{city_name} ({city}), {period:%Y-%m} against {year_ago:%Y-%m}; Delta version {reads[-1].version}")

# %% [markdown]
# ## Growth and its decomposition


# %%
def contributions(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Each group's output a year ago and now, and its contribution to the total's growth."""
    pivot = frame.pivot_table(index=by, columns="period", values="gross_output", aggfunc="sum")
    pivot = pivot.reindex(columns=[year_ago, period]).fillna(0.0)
    before, now = pivot[year_ago], pivot[period]
    out = pd.DataFrame({"上年同月": before, "本月": now, "贡献(百分点)": (now - before) / before.sum() * 100})
    return out.sort_values("贡献(百分点)")


total_before = cdf.loc[cdf["period"] == year_ago, "gross_output"].sum()
total_now = cdf.loc[cdf["period"] == period, "gross_output"].sum()
growth = (total_now / total_before - 1) * 100
by_chain = contributions(cdf, "chain_name_zh")
by_division = contributions(cdf, "division_name")
print(f"工业总产值 {total_before:,.2f} → {total_now:,.2f} 万元，同比 {growth:+.2f}%")
chain_sum, division_sum = by_chain["贡献(百分点)"].sum(), by_division["贡献(百分点)"].sum()
print(f"产业链贡献合计 {chain_sum:+.2f} 个百分点；行业大类贡献合计 {division_sum:+.2f} 个百分点")
assert abs(chain_sum - growth) < 1e-6 and abs(division_sum - growth) < 1e-6  # the parts add up
by_chain

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 5))
panels = ((axes[0], by_chain, "产业链"), (axes[1], by_division.tail(12), "行业大类（贡献最大的 12 个）"))
for ax, frame, label in panels:
    values = frame["贡献(百分点)"]
    ax.barh(frame.index, values, color=["#c8102e" if v >= 0 else "#067647" for v in values])
    ax.set_title(f"按{label}分解")
    ax.set_xlabel("对同比增速的贡献（百分点）")
    ax.axvline(0, color="#555", linewidth=0.8)
fig.suptitle(f"{city_name} {period:%Y年%m月} 规上工业总产值同比 {growth:+.1f}%")
fig.tight_layout()
plt.show()
