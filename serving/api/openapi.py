"""The OpenAPI description of the API products, and what counts as a breaking change.

Operation summaries and column titles are the contracts' Chinese names, descriptions their English
names — no example values (a 核心 value cannot leak through the schema: 核心 columns are absent).
The schema is committed (``serving/openapi/v1.json``); ``breaking_changes`` compares it with the
one the code generates, so a breaking change must come with a new version in the path.

Breaking (for a client written against the old schema): a path or operation removed; a parameter
removed, newly required, or its type changed, or an enum value it accepted dropped; a response
field removed or its type changed. Adding paths, optional parameters, fields or enum values is not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog.contracts import Column, Contract
from catalog.publishing import parse_masking, published_columns

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "v1.json"
ERROR = {"$ref": "#/components/schemas/Error"}
STATUS_TEXT = {
    "400": "参数错误 · bad parameter (named in the body)",
    "401": "未认证 · no or invalid token",
    "403": "条件涉及脱敏或不予提供的列 · a condition on a masked or withheld column",
    "404": "无此数据产品 · no such published dataset",
    "410": "游标对应的版本已不可读 · the cursor's version is gone",
    "429": "超出频率或配额 · rate limit or quota reached (Retry-After)",
    "503": "暂不可用或超时 · unavailable or timed out",
}


def json_type(column: Column) -> dict[str, Any]:
    """The JSON Schema of a column's values as served (nullable; masked values fit it too)."""
    kind = column.type
    if kind in ("int", "bigint"):
        schema: dict[str, Any] = {"type": ["integer", "null"]}
    elif kind == "double":
        schema = {"type": ["number", "null"]}
    elif kind == "boolean":
        schema = {"type": ["boolean", "null"]}
    elif kind.startswith("decimal"):
        schema = {"type": ["string", "null"], "format": "decimal"}
    elif kind == "date":
        schema = {"type": ["string", "null"], "format": "date"}
    elif kind == "timestamp":
        schema = {"type": ["string", "null"], "format": "date-time"}
    else:
        schema = {"type": ["string", "null"]}
    if column.classification == "重要" and parse_masking(column.masking).name in ("hash", "keep_ends"):
        schema = {"type": sorted(set(schema["type"]) | {"string"})}
    return schema


def _parameter_schema(column: Column, operator: str) -> dict[str, Any]:
    if operator == "in":
        return {"type": "string", "description": "comma-separated values (at most 100)"}
    schema = {k: v for k, v in json_type(column).items() if k != "type"}
    base = next(t for t in json_type(column)["type"] if t != "null")
    return {"type": base, **schema}


def dataset_operation(contract: Contract) -> dict[str, Any]:
    """operationId, summary, description, parameters and responses of a dataset's GET."""
    api = contract.api
    assert api is not None
    parameters: list[dict[str, Any]] = []
    for name, operators in api.filters.items():
        column = contract.column(name)
        for operator in operators:
            parameters.append(
                {
                    "name": name if operator == "eq" else f"{name}__{operator}",
                    "in": "query",
                    "required": False,
                    "description": f"{column.name_zh} · {name} {operator}",
                    "schema": _parameter_schema(column, operator),
                }
            )
    parameters += [
        {"name": "sort", "in": "query", "required": False,
         "description": f"排序 · sort by {', '.join(api.sort) or '(none)'}; prefix - for descending; "
                        "the primary key always follows", "schema": {"type": "string"}},
        {"name": "page_size", "in": "query", "required": False, "description": "每页行数 · rows per page",
         "schema": {"type": "integer", "minimum": 1, "maximum": api.max_page_size,
                    "default": api.default_page_size}},
        {"name": "cursor", "in": "query", "required": False,
         "description": "翻页游标 · next_cursor of the previous page (pinned to its table version)",
         "schema": {"type": "string"}},
        {"name": "format", "in": "query", "required": False, "description": "格式 · response format",
         "schema": {"type": "string", "enum": list(api.formats), "default": "json"}},
    ]  # fmt: skip
    properties = {}
    for name in published_columns(contract):
        column = contract.column(name)
        rule = f"; masked by {column.masking} without a grant" if column.classification == "重要" else ""
        properties[name] = {
            **json_type(column),
            "title": column.name_zh,
            "description": f"{column.classification}{rule}. {column.description}".strip(),
        }
    page = {
        "type": "object",
        "properties": {
            "dataset": {"type": "string"},
            "version": {"type": "integer", "description": "Delta 版本 · the table version read (ETag)"},
            "as_of": {
                "type": ["string", "null"],
                "format": "date",
                "description": "数据截止日期 · as-of date",
            },
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "page_size": {"type": "integer"},
            "next_cursor": {"type": ["string", "null"]},
            "masked": {"type": "object", "additionalProperties": {"type": "string"}},
            "withheld": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"type": "object", "properties": properties}},
        },
    }
    content = {"application/json": {"schema": page}}
    if "csv" in api.formats:
        content["text/csv"] = {"schema": {"type": "string", "description": "UTF-8 with BOM"}}
    if "arrow" in api.formats:
        content["application/vnd.apache.arrow.stream"] = {"schema": {"type": "string", "format": "binary"}}
    responses: dict[str, Any] = {
        "200": {"description": f"{contract.name_zh} · {contract.name_en}", "content": content}
    }
    for status, text in STATUS_TEXT.items():
        responses[status] = {"description": text, "content": {"application/json": {"schema": ERROR}}}
    return {
        "operationId": f"v{api.version}_{contract.layer}_{contract.table}",
        "summary": contract.name_zh,
        "description": f"{contract.name_en}.\n\nGrain: {contract.grain}. Owner: {contract.owner}. "
        f"Update: {contract.update_frequency}. Paging ordered by the primary key "
        f"({', '.join(contract.primary_key)}).",
        "parameters": parameters,
        "responses": responses,
    }


def finish_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """Add the bearer scheme and the error schema to FastAPI's document."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer"}
    components.setdefault("schemas", {})["Error"] = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "parameter": {"type": "string"},
                    "column": {"type": "string"},
                },
                "required": ["code", "message"],
            }
        },
    }
    for path, item in document.get("paths", {}).items():
        if path.startswith("/v1/"):
            for method, operation in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    _document_errors(operation.setdefault("responses", {}))
    return document


# What any /v1 operation may answer besides its own documented answers: the service's error body.
GENERIC_ERRORS = {
    "400": "参数错误 · bad request (the field is named in the body)",
    "401": STATUS_TEXT["401"],
    "403": "无权限 · not allowed for this caller (the rule is named in the body)",
    "404": "不存在 · not found",
    "422": "参数错误 · a missing or malformed field (named in the body)",
    "429": STATUS_TEXT["429"],
}


def _document_errors(responses: dict[str, Any]) -> None:
    """Document the error answers an operation can give, where it does not already (the access
    workflow's, briefs' and alerts' operations answer with the same error body as dataset reads)."""
    for status, text in GENERIC_ERRORS.items():
        current = responses.get(status)
        validation = (current or {}).get("content", {}).get("application/json", {}).get("schema", {})
        if current is None or validation.get("$ref", "").endswith("/HTTPValidationError"):
            responses[status] = {"description": text, "content": {"application/json": {"schema": ERROR}}}


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _types(schema: dict[str, Any] | None) -> frozenset[str]:
    if not schema:
        return frozenset()
    kind = schema.get("type")
    return frozenset([kind] if isinstance(kind, str) else kind or [])


def _fields(schema: dict[str, Any] | None, prefix: str, out: dict[str, frozenset[str]]) -> None:
    """Every response field path -> its types (object properties and array items, recursively)."""
    if not schema:
        return
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}"
        out[path] = _types(sub)
        _fields(sub, path, out)
    if "items" in schema:
        _fields(schema["items"], f"{prefix}[]", out)


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in ``new`` breaks a client of ``old`` (empty = compatible); see the module doc."""
    problems: list[str] = []
    for path, old_item in old.get("paths", {}).items():
        new_item = new.get("paths", {}).get(path)
        if new_item is None:
            problems.append(f"{path}: path removed")
            continue
        for method, old_op in old_item.items():
            new_op = new_item.get(method)
            where = f"{method.upper()} {path}"
            if new_op is None:
                problems.append(f"{where}: operation removed")
                continue
            old_params = {(p["name"], p["in"]): p for p in old_op.get("parameters", [])}
            new_params = {(p["name"], p["in"]): p for p in new_op.get("parameters", [])}
            for key, param in old_params.items():
                found = new_params.get(key)
                if found is None:
                    problems.append(f"{where}: parameter {key[0]} removed")
                    continue
                if _types(param.get("schema")) != _types(found.get("schema")):
                    problems.append(f"{where}: parameter {key[0]} changed type")
                dropped = set((param.get("schema") or {}).get("enum", [])) - set(
                    (found.get("schema") or {}).get("enum", [])
                )
                if dropped and (found.get("schema") or {}).get("enum") is not None:
                    problems.append(f"{where}: parameter {key[0]} no longer accepts {sorted(dropped)}")
            for key, param in new_params.items():
                if param.get("required") and not old_params.get(key, {}).get("required"):
                    problems.append(f"{where}: parameter {key[0]} is now required")
            for status, old_response in (old_op.get("responses") or {}).items():
                new_response = (new_op.get("responses") or {}).get(status)
                if new_response is None:
                    problems.append(f"{where}: response {status} removed")
                    continue
                for media, old_media in (old_response.get("content") or {}).items():
                    new_media = (new_response.get("content") or {}).get(media)
                    if new_media is None:
                        problems.append(f"{where}: response {status} {media} removed")
                        continue
                    before: dict[str, frozenset[str]] = {}
                    after: dict[str, frozenset[str]] = {}
                    _fields(old_media.get("schema"), "", before)
                    _fields(new_media.get("schema"), "", after)
                    for field, types in before.items():
                        if field not in after:
                            problems.append(f"{where}: response {status} field {field.lstrip('.')} removed")
                        elif types != after[field]:
                            problems.append(
                                f"{where}: response {status} field {field.lstrip('.')} changed type"
                            )
    return problems
