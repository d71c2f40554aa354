"""Text standardisation shared by silver jobs, as Spark SQL (no Python UDFs), with Python twins
for the rules people need to check by hand (company names)."""

from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F

_FULL = (
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ．，－／（）：　"
)
_HALF = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.,-/(): "
_TO_HALF = str.maketrans(_FULL, _HALF)
# Dropped when comparing names: spaces, brackets and punctuation that senders use inconsistently.
_NAME_NOISE = r"[\s()\[\]【】《》<>·.,、'\"_-]"


def half_width(col: Column) -> Column:
    """Full-width digits, Latin letters and common punctuation to their ASCII forms."""
    return F.translate(col, _FULL, _HALF)


def clean_text(col: Column) -> Column:
    """Trimmed, half-width text; blank becomes NULL."""
    cleaned = F.trim(half_width(col))
    return F.when(cleaned == "", None).otherwise(cleaned)


def clean_code(col: Column) -> Column:
    """A code (USCC, region, industry): half-width, no spaces at all, upper case; blank → NULL."""
    cleaned = F.upper(F.regexp_replace(half_width(col), r"\s+", ""))
    return F.when(cleaned == "", None).otherwise(cleaned)


def number_text(col: Column) -> Column:
    """A numeric field ready to cast: half-width, thousands separators and spaces removed."""
    return F.regexp_replace(clean_text(col), "[, ]", "")


def to_decimal(col: Column, precision: int = 18, scale: int = 2) -> Column:
    return number_text(col).try_cast(f"decimal({precision},{scale})")


def to_date_text(col: Column) -> Column:
    """A YYYY-MM-DD date (NULL when blank or not a real date)."""
    text = clean_text(col)
    return F.when(text.rlike(r"^\d{4}-\d{2}-\d{2}$"), text.try_cast("date"))


def period_from_text(col: Column) -> Column:
    """First day of the month written as 2024-03, 2024年3月, 202403 or 2024/3 (NULL otherwise)."""
    pattern = r"^(\d{4})\s*(?:-|/|年)?\s*(\d{1,2})\s*月?$"
    text = clean_text(col)
    year = F.regexp_extract(text, pattern, 1)
    month = F.regexp_extract(text, pattern, 2)
    valid = (year != "") & (month.cast("int").between(1, 12))
    return F.when(valid, F.make_date(year.cast("int"), month.cast("int"), F.lit(1)))


def canonical_name(col: Column) -> Column:
    """A company name in the form names are compared in: half-width, without spaces, brackets or
    punctuation, 有限责任公司 read as 有限公司 (the name itself is kept as reported)."""
    text = F.regexp_replace(half_width(col), _NAME_NOISE, "")
    return F.when(text != "", F.regexp_replace(text, "有限责任公司", "有限公司"))


def canonical_name_py(name: str | None) -> str | None:
    """Python twin of :func:`canonical_name` (tests check they agree)."""
    if name is None:
        return None
    text = re.sub(_NAME_NOISE, "", name.translate(_TO_HALF))
    return text.replace("有限责任公司", "有限公司") or None
