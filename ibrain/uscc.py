"""统一社会信用代码 (GB 32100-2015): check digit, validation, and the same rule as Spark SQL.

18 characters from ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I O S V Z). Characters 1–17 carry
weights 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28; check = 31 − (Σ value×weight mod 31),
with 31 → 0. Characters 3–8 are the registering authority's GB/T 2260 code.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Province-level prefixes of GB/T 2260 (the first two digits of a division code).
PROVINCE_PREFIXES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)


def check_char(body17: str) -> str:
    """The 18th character for a 17-character body (raises on a character outside the alphabet)."""
    if len(body17) != 17:
        raise ValueError(f"USCC body must have 17 characters, got {len(body17)}")
    total = sum(_VALUE[ch] * w for ch, w in zip(body17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str | None) -> bool:
    """True when ``code`` is 18 characters of the alphabet with a correct check digit."""
    if code is None or len(code) != 18 or any(ch not in _VALUE for ch in code):
        return False
    return check_char(code[:17]) == code[17]


def invalid_reason(code: str | None) -> str | None:
    """Why ``code`` is not a valid USCC, or None if it is."""
    if code is None or code == "":
        return "empty"
    if len(code) != 18:
        return f"length {len(code)}, expected 18"
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return f"characters outside GB 32100 alphabet: {''.join(bad)}"
    expected = check_char(code[:17])
    if expected != code[17]:
        return f"check digit {code[17]}, expected {expected}"
    return None


def authority_plausible(code: str) -> bool:
    """Characters 3–8 look like a GB/T 2260 code of a real province (plausibility only)."""
    region = code[2:8]
    return region.isdigit() and region[:2] in PROVINCE_PREFIXES


def spark_check_char_sql(column: str) -> str:
    """Spark SQL computing the expected check character of ``column`` (a normalised USCC).

    Pure SQL (no Python UDF), so it runs inside the engine at full speed.
    """
    terms = " + ".join(
        f"(instr('{ALPHABET}', substr({column}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(WEIGHTS)
    )
    return f"substr('{ALPHABET}', ((31 - (({terms}) % 31)) % 31) + 1, 1)"


def spark_is_valid_sql(column: str) -> str:
    """Spark SQL that is true exactly when :func:`is_valid` is (false for NULL)."""
    return (
        f"coalesce({column} RLIKE '^[0-9ABCDEFGHJKLMNPQRTUWXY]{{18}}$' "
        f"AND substr({column}, 18, 1) = {spark_check_char_sql(column)}, false)"
    )
