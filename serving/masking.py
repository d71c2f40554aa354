"""Masking rules applied to 重要 values served without a grant covering them (issue 14).

The rules and their syntax are defined in ``catalog/publishing.py`` (the catalog check refuses an
unknown rule); this module applies them, value by value, to an Arrow column. A value is masked
only where the caller's grants do not cover its row (``clear`` below, computed by the query from
the grants' row scopes — serving/engine.py).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from cryptography.hazmat.primitives import hashes, hmac

from catalog.contracts import Column
from catalog.publishing import MaskingRule, parse_masking

STEP = decimal.Decimal(10_000)


def value_text(value: Any) -> str:
    """The canonical text of a value, the input of the keyed hash (dates ISO, decimals plain)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def keyed_hash(secret: bytes, value: Any) -> str:
    """HMAC-SM3 of the value's text under the masking key, hex (64 characters). Never a plain hash:
    without the key, a dictionary of likely values cannot be hashed and compared."""
    mac = hmac.HMAC(secret, hashes.SM3())
    mac.update(value_text(value).encode("utf-8"))
    return mac.finalize().hex()


def round_10k(value: Any) -> Any:
    """Rounded half away from zero to a multiple of 10,000 (in the column's own unit); the type kept."""
    if isinstance(value, bool):
        raise TypeError("round_10k needs a number, not a boolean")
    if isinstance(value, decimal.Decimal):
        return (value / STEP).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP) * STEP
    if isinstance(value, int):
        exact = decimal.Decimal(value) / STEP
        return int(exact.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP) * STEP)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        exact = decimal.Decimal(repr(value)) / STEP
        return float(exact.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP) * STEP)
    raise TypeError(f"round_10k needs a number, not {type(value).__name__}")


def keep_ends(value: Any, first: int, last: int) -> str:
    """The first ``first`` and last ``last`` characters kept, every other one ``*``; a value of at
    most ``first + last`` characters becomes all ``*`` (otherwise nothing would be hidden)."""
    text = value_text(value)
    if len(text) <= first + last:
        return "*" * len(text)
    return text[:first] + "*" * (len(text) - first - last) + (text[len(text) - last :] if last else "")


def mask_value(rule: MaskingRule, value: Any, secret: bytes) -> Any:
    """One value masked by ``rule`` (null stays null; ``none`` and ``suppress`` give null)."""
    if value is None or rule.name in ("none", "suppress"):
        return None
    if rule.name == "hash":
        return keyed_hash(secret, value)
    if rule.name == "round_10k":
        return round_10k(value)
    if rule.name == "keep_ends":
        return keep_ends(value, rule.keep_first, rule.keep_last)
    raise ValueError(f"masking rule {rule.name!r} has no implementation")


def masked_type(rule: MaskingRule, original: pa.DataType) -> pa.DataType:
    """The Arrow type of a masked column: text for hash and keep_ends, else the original type."""
    return pa.string() if rule.name in ("hash", "keep_ends") else original


def mask_array(column: Column, values: pa.Array, clear: Sequence[bool] | None, secret: bytes) -> pa.Array:
    """``values`` with every value whose row is not ``clear`` masked by the column's rule
    (``clear`` None = no row is clear). When every row is clear the array is returned unchanged."""
    rule = parse_masking(column.masking)
    if clear is not None and all(clear):
        return values
    python = values.to_pylist()
    out_type = masked_type(rule, values.type)
    if clear is not None and any(clear) and out_type != values.type:
        # mixed clear and masked text: clear values become their canonical text too
        out = [
            value_text(v) if ok and v is not None else mask_value(rule, v, secret)
            for v, ok in zip(python, clear, strict=True)
        ]
    else:
        flags = clear if clear is not None else [False] * len(python)
        out = [v if ok else mask_value(rule, v, secret) for v, ok in zip(python, flags, strict=True)]
    return pa.array(out, type=out_type)
