"""Silver: standardise, validate, resolve and de-duplicate bronze, quarantining what breaks a rule.

``REGISTRY`` and ``FACTS`` list every silver entity in build order, each defined in the module named
after its table (``transforms/silver/entities/<table>.py``); the enterprise master
(``enterprise_master``) is built from ``registry_record`` before the facts that resolve against it.
"""

from transforms.silver.entities import (
    capacity_offer,
    enterprise_month_stats,
    price_quote,
    product,
    purchase_order,
    registry_record,
    subsidy_award,
    supply_edge,
    telemetry_reading,
)

REGISTRY = registry_record.ENTITY
FACTS = [
    enterprise_month_stats.ENTITY,
    subsidy_award.ENTITY,
    product.ENTITY,
    supply_edge.ENTITY,
    purchase_order.ENTITY,
    capacity_offer.ENTITY,
    price_quote.ENTITY,
    telemetry_reading.ENTITY,
]
