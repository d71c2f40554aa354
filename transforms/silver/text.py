"""Text standardisation shared by silver jobs, as Spark SQL (no Python UDFs)."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_FULL = "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ．，－／（）　"
_HALF = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,-/() "


def half_width(col: Column) -> Column:
    """Full-width digits, Latin capitals and common punctuation to their ASCII forms."""
    return F.translate(col, _FULL, _HALF)


def clean_text(col: Column) -> Column:
    """Trimmed, half-width text; blank becomes NULL."""
    cleaned = F.trim(half_width(col))
    return F.when(cleaned == "", None).otherwise(cleaned)


def number_text(col: Column) -> Column:
    """A numeric field ready to cast: half-width, thousands separators and spaces removed."""
    return F.regexp_replace(clean_text(col), "[, ]", "")


def period_from_text(col: Column) -> Column:
    """First day of the month written as 2024-03, 2024年3月, 202403 or 2024/3 (NULL otherwise)."""
    pattern = r"^(\d{4})\s*(?:-|/|年)?\s*(\d{1,2})\s*月?$"
    text = clean_text(col)
    year = F.regexp_extract(text, pattern, 1)
    month = F.regexp_extract(text, pattern, 2)
    valid = (year != "") & (month.cast("int").between(1, 12))
    return F.when(valid, F.make_date(year.cast("int"), month.cast("int"), F.lit(1)))
