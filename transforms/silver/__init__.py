"""Silver: standardise, validate, resolve and de-duplicate bronze, quarantining what breaks a rule.

``ENTITIES`` lists every silver fact entity in build order; the enterprise master
(``enterprise_master``) is built from ``registry_record`` before the facts that resolve against it.
"""

from transforms.silver.entities import (
    enterprise_month_stats,
    orders,
    price_quote,
    product,
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
    orders.ORDER_ENTITY,
    orders.CAPACITY_ENTITY,
    price_quote.ENTITY,
    telemetry_reading.ENTITY,
]
