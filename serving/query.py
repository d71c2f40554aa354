"""A request's parameters, validated against the dataset's contract, and rendered as safe SQL.

Why so strict: the engine takes SQL text (delta-rs' DataFusion has no bound parameters), so
nothing of the request reaches the SQL but column names taken from the contract (quoted, and
matching the contract schema's ``^[a-z_][a-z0-9_]*$``) and literals parsed into their column's
type and rendered here. Anything else — an unknown parameter, operator, column or format, a value
that does not parse — is a :class:`ParamError` naming the parameter (a 400, never a 5xx).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass

from catalog.contracts import Column, Contract
from catalog.publishing import published_columns

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
INTEGER = re.compile(r"^-?\d{1,18}$")
DECIMAL = re.compile(r"^-?\d{1,30}(\.\d{1,18})?$")
# Filter text: letters (any script), digits, space and . ( ) （ ） · : + % - — no quote, no
# semicolon, no slash, no comment (--). Filterable columns hold codes and names; anything else is
# refused rather than escaped, so an injection attempt is a 400, not an empty page.
TEXT = re.compile(r"^[\w .()（）·:+%\-]+$")
MAX_TEXT = 200
MAX_IN = 100
RESERVED = ("page_size", "cursor", "format", "sort")
DECIMAL_TYPE = re.compile(r"^decimal\((\d+),(\d+)\)$")
TIMESTAMP_RANGE = (dt.datetime(1678, 1, 1), dt.datetime(2262, 1, 1))
OPERATORS_SQL = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class ParamError(ValueError):
    """A bad request parameter: ``parameter`` is named in the 4xx answer (its value never is)."""

    def __init__(self, parameter: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.status = status


def quote(column: str) -> str:
    """A column name as a SQL identifier; only contract names get here (checked once more)."""
    if not IDENTIFIER.match(column):
        raise ValueError(f"not a contract column name: {column!r}")
    return f'"{column}"'


def _integer_digits(kind: str) -> int:
    """Digits before the point a ``decimal(p,s)`` column holds (p − s)."""
    match = DECIMAL_TYPE.match(kind)
    if match is None:
        raise ValueError(f"not a decimal type: {kind!r}")
    return int(match.group(1)) - int(match.group(2))


def literal(column: Column, text: str, parameter: str) -> str:
    """``text`` parsed as a value of ``column``'s type, rendered as a SQL literal."""
    kind = column.type
    if kind == "string":
        if len(text) > MAX_TEXT or not TEXT.match(text) or "--" in text:
            raise ParamError(
                parameter,
                f"{parameter}: 1 to {MAX_TEXT} letters, digits, spaces or . ( ) · : + - (no quotes)",
            )
        return "'" + text.replace("'", "''") + "'"
    if kind in ("int", "bigint"):
        if not INTEGER.match(text):
            raise ParamError(parameter, f"{parameter}: expected a whole number")
        return str(int(text))
    if kind.startswith("decimal"):
        if not DECIMAL.match(text):
            raise ParamError(parameter, f"{parameter}: expected a decimal number like 123.45")
        digits = _integer_digits(kind)
        if len(text.lstrip("-").split(".")[0].lstrip("0")) > digits:
            # a value the column cannot hold, and one the engine would overflow on (a 5xx)
            raise ParamError(parameter, f"{parameter}: at most {digits} digits before the decimal point")
        return format(decimal.Decimal(text), "f")
    if kind == "double":
        if not DECIMAL.match(text):
            raise ParamError(parameter, f"{parameter}: expected a number like 1.5")
        return repr(float(text))
    if kind == "date":
        try:
            value = dt.date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            value = None
        if value is None:
            raise ParamError(parameter, f"{parameter}: expected a date YYYY-MM-DD")
        return f"DATE '{value.isoformat()}'"
    if kind == "timestamp":
        try:
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is not None:  # the lake's times are UTC: a stated offset is converted
                moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):
            raise ParamError(parameter, f"{parameter}: expected a time YYYY-MM-DDTHH:MM:SS") from None
        if not TIMESTAMP_RANGE[0] <= moment < TIMESTAMP_RANGE[1]:
            # the engine compares times in nanoseconds: outside these years it fails (a 5xx)
            raise ParamError(parameter, f"{parameter}: a time from 1678 to 2261")
        return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ParamError(parameter, f"{parameter}: expected true or false")
        return text.upper()
    raise ParamError(parameter, f"{parameter}: the column's type {kind} cannot be filtered")


@dataclass(frozen=True)
class Filter:
    column: str
    operator: str
    literals: tuple[str, ...]
    parameter: str

    def sql(self) -> str:
        if self.operator == "in":
            return f"{quote(self.column)} IN ({', '.join(self.literals)})"
        return f"{quote(self.column)} {OPERATORS_SQL[self.operator]} {self.literals[0]}"


@dataclass(frozen=True)
class Request:
    """A validated request: filters, sort (column, descending), page size, format, cursor text."""

    filters: tuple[Filter, ...]
    sort: tuple[tuple[str, bool], ...]
    page_size: int
    format: str
    cursor: str | None

    def fingerprint(self) -> str:
        """What a cursor is bound to: the same filters and sort (page size and format may change)."""
        parts = [f"{f.column}|{f.operator}|{','.join(f.literals)}" for f in self.filters]
        parts += [f"sort:{column}:{int(desc)}" for column, desc in self.sort]
        return "\n".join(parts)


def parse_request(contract: Contract, items: list[tuple[str, str]]) -> Request:
    """The query string's ``items`` validated against ``contract``'s ``api`` block."""
    api = contract.api
    if api is None:
        raise ParamError("dataset", "the dataset is not published")
    published = set(published_columns(contract))
    seen: set[str] = set()
    filters: list[Filter] = []
    sort: list[tuple[str, bool]] = []
    page_size = api.default_page_size
    fmt = "json"
    cursor = None
    for key, value in items:
        if key in seen:
            raise ParamError(key, f"{key}: given more than once")
        seen.add(key)
        if key == "page_size":
            if not INTEGER.match(value) or not 1 <= int(value) <= api.max_page_size:
                raise ParamError(key, f"page_size: a whole number from 1 to {api.max_page_size}")
            page_size = int(value)
        elif key == "format":
            if value not in api.formats:
                raise ParamError(key, f"format: one of {', '.join(api.formats)}")
            fmt = value
        elif key == "cursor":
            if not value or len(value) > 1000:
                raise ParamError(key, "cursor: not a cursor this service issued")
            cursor = value
        elif key == "sort":
            sort = _parse_sort(contract, value)
        else:
            column, _, operator = key.partition("__")
            operator = operator or "eq"
            allowed = api.filters.get(column)
            if allowed is None or column not in published or not IDENTIFIER.match(column):
                raise ParamError(key, f"{key}: not a parameter of this dataset")
            if operator not in allowed:
                raise ParamError(key, f"{key}: operator {operator!r} not allowed on {column}")
            col = contract.column(column)
            if operator == "in":
                values = value.split(",")
                if not 1 <= len(values) <= MAX_IN:
                    raise ParamError(key, f"{key}: 1 to {MAX_IN} comma-separated values")
                literals = tuple(literal(col, v, key) for v in values)
            else:
                literals = (literal(col, value, key),)
            filters.append(Filter(column, operator, literals, key))
    return Request(tuple(filters), tuple(sort), page_size, fmt, cursor)


def _parse_sort(contract: Contract, value: str) -> list[tuple[str, bool]]:
    api = contract.api
    assert api is not None
    sort: list[tuple[str, bool]] = []
    for part in value.split(","):
        descending = part.startswith("-")
        column = part[1:] if descending else part
        if column not in api.sort:
            raise ParamError("sort", f"sort: {', '.join(api.sort) or 'no column'} (prefix - for descending)")
        if any(column == c for c, _ in sort):
            raise ParamError("sort", "sort: a column named twice")
        sort.append((column, descending))
    return sort
