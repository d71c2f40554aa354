# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 产业链韧性：单一来源依赖，以及一家供应商停供时产业链受到的影响
#
# **What it answers.** Which buyers in the pilot chains depend on a single supplier for a
# material (the 2024 supply survey: one supplier, or one supplier holding most of the volume)?
# And if one supplier stopped delivering, which buyers, materials and chain links would be cut
# off at once — and how many of the chain's enterprises is that?
#
# **How it reads.** Through the data service with your own token (`IBRAIN_API_URL`,
# `IBRAIN_TOKEN`); grants, masking and the audit trail apply (`top_supplier_share` is 重要:
# without a grant it is withheld and the notebook falls back to counting single-source
# buyers). A data engineer's direct Spark session is the alternative:
# `spark_session().table("topic.chain_supplier_risk")`.

# %%
import os

import matplotlib.pyplot as plt

from ibrain.charts import use_cjk_font
from serving.client import Client

use_cjk_font()
client = Client()
SUPPLIER = os.environ.get("SUPPLIER_ENTERPRISE_ID")  # default: the one most buyers depend on alone

# %% [markdown]
# ## Single-source dependencies by chain and link

# %%
risk_read = client.read("topic.chain_supplier_risk")
risk = risk_read.to_pandas()
print(f"{len(risk)} buyer × material pairs, Delta version {risk_read.version}")
print(f"withheld from you: {risk_read.withheld or 'nothing'}")
single = risk[risk["supplier_count"] == 1]
summary = (
    risk.assign(single_source=risk["supplier_count"] == 1)
    .groupby(["chain_name_zh", "link"])
    .agg(采购关系=("material", "size"), 单一来源=("single_source", "sum"))
    .assign(单一来源占比=lambda t: (t["单一来源"] / t["采购关系"] * 100).round(1))
)
summary

# %% [markdown]
# ## If one supplier stops
#
# The supplier that the most buyer × material pairs depend on alone (or `SUPPLIER_ENTERPRISE_ID`).
# Those pairs lose their only source at once; pairs where it is the main but not the only
# supplier lose their main source.

# %%
supplier = SUPPLIER or (
    single.groupby("supplier_enterprise_id").size().sort_values(ascending=False).index[0]
    if len(single)
    else risk.groupby("supplier_enterprise_id").size().sort_values(ascending=False).index[0]
)
hit = risk[risk["supplier_enterprise_id"] == supplier]
name = hit["supplier_name"].iloc[0]
cut_off = hit[hit["supplier_count"] == 1]
weakened = hit[hit["supplier_count"] > 1]
chains = ",".join(sorted(hit["chain_code"].unique()))
nodes = client.read("topic.chain_map_node", chain_code__in=chains).to_pandas()
chain_size = nodes.groupby("chain_code")["enterprise_id"].nunique()
impact = (
    hit.assign(断供=hit["supplier_count"] == 1)
    .groupby(["chain_code", "chain_name_zh"])
    .agg(
        断供采购方=("buyer_enterprise_id", lambda s: s[hit.loc[s.index, "supplier_count"] == 1].nunique()),
        受影响采购方=("buyer_enterprise_id", "nunique"),
        物料=("material", "nunique"),
    )
    .reset_index()
)
impact["链上企业数"] = impact["chain_code"].map(chain_size).fillna(0).astype(int)
members = impact["链上企业数"].where(impact["链上企业数"] > 0)
impact["断供占链上企业(%)"] = (impact["断供采购方"] / members * 100).round(1)
print(
    f"{name} ({supplier}) 停供：{cut_off['buyer_enterprise_id'].nunique()} 家采购方失去唯一来源，"
    f"{weakened['buyer_enterprise_id'].nunique()} 家失去主要来源"
)
impact

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
top = single.groupby("supplier_name").size().sort_values().tail(10)
axes[0].barh(top.index, top.values, color="#3b6ea8")
axes[0].set_title("单一来源依赖最多的供应商（采购关系数）")
links = hit.assign(类型=lambda t: t["supplier_count"].map(lambda n: "唯一来源" if n == 1 else "主要来源"))
table = links.groupby(["link", "类型"]).size().unstack(fill_value=0)
table.plot.barh(stacked=True, ax=axes[1], color={"唯一来源": "#c8102e", "主要来源": "#f4a261"})
axes[1].set_title(f"{name} 停供：受影响的采购关系（按环节）")
axes[1].set_ylabel("")
fig.tight_layout()
plt.show()
