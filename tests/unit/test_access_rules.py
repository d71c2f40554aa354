"""Rules of 数据申请 (serving/portal/access.py) that need no server: the expiry bound and the
row-scope values a grant may hold (each one the reader will accept)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from catalog.contracts import load_catalog
from serving.portal.access import AccessError, _scope_values, _text, expiry_of, max_expiry
from tests.support.data_service import write_contracts

NOW = dt.datetime(2024, 2, 29, 10, 30, tzinfo=dt.UTC)


def test_expiry_is_after_now_and_at_most_one_calendar_year_ahead() -> None:
    assert max_expiry(NOW) == dt.datetime(2025, 2, 28, 10, 30, tzinfo=dt.UTC)  # no 29 February in 2025
    assert max_expiry(dt.datetime(2024, 3, 1, tzinfo=dt.UTC)) == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert expiry_of(dt.date(2025, 2, 28), NOW) == dt.datetime(2025, 2, 28, tzinfo=dt.UTC)
    assert expiry_of(dt.date(2024, 3, 1), NOW) == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    for day in (dt.date(2025, 3, 1), dt.date(2024, 2, 29), dt.date(2023, 1, 1), None):
        with pytest.raises(AccessError) as refused:
            expiry_of(day, NOW)
        assert refused.value.parameter == "expires_on"


def test_scope_values_are_what_the_reader_accepts(tmp_path) -> None:
    folder = write_contracts(tmp_path / "contracts")
    contract = load_catalog(folder)["theme.test_city_month"]
    assert _scope_values(contract, "city", [" 210200", "210100", "210100", ""], "cities") == [
        "210100",
        "210200",
    ]
    assert _scope_values(contract, "chain", [], "chains") == []
    for values in (["2101"], ["210100'"], ["21010a"], ["210100 OR 1=1"]):
        with pytest.raises(AccessError):
            _scope_values(contract, "city", values, "cities")
    with pytest.raises(AccessError):
        _scope_values(contract, "chain", ["robotics--"], "chains")
    assert _scope_values(contract, "chain", ["robotics"], "chains") == ["robotics"]
    # a dimension the dataset has no column for cannot be asked for
    unscoped = dataclasses.replace(contract, api=dataclasses.replace(contract.api, scope={}))
    with pytest.raises(AccessError, match="no city scope"):
        _scope_values(unscoped, "city", ["210100"], "cities")


def test_free_text_refuses_control_characters() -> None:
    assert _text("  地市经济运行监测\n第二行 ", "purpose", 4) == "地市经济运行监测\n第二行"
    for bad in ("用途\x00说明", "用途\x1b[31m", "abc", "x" * 1001):
        with pytest.raises(AccessError) as refused:
            _text(bad, "purpose", 4)
        assert refused.value.parameter == "purpose"
