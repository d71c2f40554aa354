"""Silver: standardise, validate, resolve and de-duplicate bronze, quarantining what breaks a rule.

:func:`facts` lists every silver fact entity in build order, each defined in the module named after
its table (``transforms/silver/entities/<table>.py``); the enterprise master
(``transforms.silver.enterprise``) is built from :func:`registry` before the facts that resolve
against it. Both are functions so that importing the package reads no contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transforms.silver.framework import Entity


def registry() -> Entity:
    """silver.registry_record, from which the enterprise master is derived."""
    from transforms.silver.entities import registry_record

    return registry_record.entity()


def facts() -> list[Entity]:
    """The fact entities, in build order."""
    from transforms.silver.entities import (
        capacity_offer,
        enterprise_month_stats,
        price_quote,
        product,
        purchase_order,
        subsidy_award,
        supply_edge,
        telemetry_reading,
    )

    return [
        enterprise_month_stats.entity(),
        subsidy_award.entity(),
        product.entity(),
        supply_edge.entity(),
        purchase_order.entity(),
        capacity_offer.entity(),
        price_quote.entity(),
        telemetry_reading.entity(),
    ]
