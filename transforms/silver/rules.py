"""Rule builders shared by the silver entities (each returns a framework Rule or Flag)."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

from catalog import Contract
from ibrain.uscc import ALPHABET, spark_check_char_sql, spark_is_valid_sql
from transforms.silver.framework import Flag, Rule, located


def required(bronze: Contract, fields: Sequence[tuple[str, str]]) -> Rule:
    """``fields``: (bronze column, standardised column); the first blank one is named."""
    fails = F.lit(False)
    reason = None
    for raw, clean in fields:
        missing = F.col(clean).isNull()
        fails = fails | missing
        text = located(bronze, raw, "is required but empty")
        reason = F.when(missing, text) if reason is None else reason.when(missing, text)
    return Rule("required_fields", fails, reason)


def uscc_problem(col: str) -> Column:
    """Why a standardised USCC is not valid (GB 32100), in words."""
    c = F.col(col)
    return (
        F.when(c.isNull(), F.lit("is empty"))
        .when(
            F.length(c) != 18,
            F.concat(F.lit("has length "), F.length(c).cast("string"), F.lit(", expected 18")),
        )
        .when(~c.rlike(f"^[{ALPHABET}]{{18}}$"), F.lit("has characters outside the GB 32100 alphabet"))
        .otherwise(
            F.concat(
                F.lit("has check digit "),
                F.substring(c, 18, 1),
                F.lit(", expected "),
                F.expr(spark_check_char_sql(col)),
            )
        )
    )


def uscc_rule(bronze: Contract, raw: str, clean: str) -> Rule:
    return Rule(
        "uscc_check_digit", ~F.expr(spark_is_valid_sql(clean)), located(bronze, raw, uscc_problem(clean))
    )


def numeric(bronze: Contract, fields: Sequence[tuple[str, str, str]]) -> Rule:
    """``fields``: (bronze column, cleaned text column, typed column): text present, no number."""
    fails = F.lit(False)
    reason = None
    for raw, text, typed in fields:
        bad = F.col(text).isNotNull() & F.col(typed).isNull()
        fails = fails | bad
        msg = located(bronze, raw, "is not a number")
        reason = F.when(bad, msg) if reason is None else reason.when(bad, msg)
    return Rule("numeric_format", fails, reason)


def dates(bronze: Contract, fields: Sequence[tuple[str, str]], rule_id: str = "date_format") -> Rule:
    """``fields``: (bronze column, typed date column): a value present that is not a real date."""
    fails = F.lit(False)
    reason = None
    for raw, typed in fields:
        bad = F.coalesce((F.trim(F.col(raw)) != "") & F.col(typed).isNull(), F.lit(False))
        fails = fails | bad
        msg = located(bronze, raw, "is not a date (YYYY-MM-DD)")
        reason = F.when(bad, msg) if reason is None else reason.when(bad, msg)
    return Rule(rule_id, fails, reason)


def region_rules(bronze: Contract, raw: str, prefix: str = "_region") -> tuple[Rule, Flag]:
    """Unknown or not-yet/no-longer valid codes are rejected; abolished codes with a successor are
    kept as the successor and flagged."""
    state = F.col(f"{prefix}_state")
    reason = F.when(
        state == "unknown", located(bronze, raw, "is not a GB/T 2260 code of Liaoning")
    ).otherwise(located(bronze, raw, "was not a valid code on the record's date"))
    rule = Rule("region_code", state.isin("unknown", "not_valid_then"), reason)
    return rule, Flag("region_code_successor", state == "successor")


def industry_rule(bronze: Contract, raw: str) -> Rule:
    return Rule(
        "industry_code",
        F.col("s_industry_code").isNotNull() & ~F.col("_industry_known"),
        located(bronze, raw, "is not a GB/T 4754-2017 class"),
    )


def negative(bronze: Contract, fields: Sequence[tuple[str, str]], rule_id: str = "range") -> Rule:
    """``fields``: (bronze column, typed column) that must not be negative."""
    fails = F.lit(False)
    reason = None
    for raw, typed in fields:
        bad = F.coalesce(F.col(typed) < 0, F.lit(False))
        fails = fails | bad
        msg = located(bronze, raw, "is negative")
        reason = F.when(bad, msg) if reason is None else reason.when(bad, msg)
    return Rule(rule_id, fails, reason)


def uscc_authority(clean: str) -> Flag:
    """Characters 3–8 of a valid USCC name the registering authority: they must look like a
    GB/T 2260 code of a real province — only plausibility, since the authority may be outside
    Liaoning or predate a code change. An implausible one is kept and flagged."""
    from ibrain.uscc import PROVINCE_PREFIXES, spark_is_valid_sql

    plausible = F.substring(F.col(clean), 3, 2).isin(*sorted(PROVINCE_PREFIXES)) & F.substring(
        F.col(clean), 3, 6
    ).rlike(r"^\d{6}$")
    return Flag("uscc_authority", F.expr(spark_is_valid_sql(clean)) & ~plausible)
