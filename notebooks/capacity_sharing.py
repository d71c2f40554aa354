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
# # 产能共享：闲置产能与在手订单
#
# **What it answers.** In the CNC machining chain, month by month: how much idle capacity do
# enterprises offer on the sharing platform (capacity offers, offering enterprises), against how
# many open orders, and how busy are the connected CNC machines? When offers outgrow orders the
# chain has spare capacity to share; when orders outgrow offers and utilisation is high, it is
# short. Then: which open orders have matching idle capacity (top matches of the latest month)?
#
# **How it reads.** Through the data service with your own token (`IBRAIN_API_URL`,
# `IBRAIN_TOKEN`); grants, masking and the audit trail apply. A data engineer's direct Spark
# session is the alternative: `spark_session().table("topic.cnc_capacity_matching_month")`.

# %%
import matplotlib.pyplot as plt

from ibrain.charts import use_cjk_font
from serving.client import Client

use_cjk_font()
client = Client()

# %% [markdown]
# ## Idle capacity against open orders, by month

# %%
read = client.read("topic.cnc_capacity_matching_month")
months = (
    read.to_pandas()
    .groupby("period")
    .agg(
        产能发布数=("offer_count", "sum"),
        发布企业数=("offering_enterprise_count", "sum"),
        在手订单数=("open_order_count", "max"),
        设备利用率=("cnc_utilisation_pct", "max"),
    )
    .sort_index()
)
months["发布/订单"] = (months["产能发布数"] / months["在手订单数"].where(months["在手订单数"] > 0)).round(2)
print(f"Delta version {read.version}, as of {read.as_of}")
months

# %%
fig, ax = plt.subplots(figsize=(10, 4.5))
labels = [f"{p:%y-%m}" for p in months.index]
ax.bar(labels, months["产能发布数"], color="#3b6ea8", label="闲置产能发布数")
ax.plot(labels, months["在手订单数"], color="#c8102e", marker="o", label="在手订单数")
ax.set_ylabel("数量")
right = ax.twinx()
right.plot(labels, months["设备利用率"], color="#2a9d8f", ls="--", marker=".", label="数控设备利用率(%)")
right.set_ylabel("利用率（%）")
handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
ax.legend(handles, [h.get_label() for h in handles], loc="upper left")
ax.set_title("数控加工产业链：闲置产能与在手订单")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Top matches of the latest month: open orders and the idle capacity that could serve them

# %%
latest = months.index.max()
matches = client.read("topic.cnc_idle_capacity_match", period=str(latest)).to_pandas()
top = matches[matches["offer_rank"] == 1]
print(f"{latest:%Y-%m}: {matches['order_id'].nunique()} 个订单有可匹配的闲置产能，{len(matches)} 条推荐")
top[
    [
        "order_id",
        "product_category",
        "chain_link",
        "due_date",
        "offer_enterprise_name",
        "equipment_type",
        "available_from",
        "available_to",
    ]
].head(15)
