"""The data service's rules without a server: masking, the publishing check, parameters, CSV,
cursors and the OpenAPI compatibility check (issue 14). Expected values are worked out by hand."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import hashes

from catalog.contracts import load_catalog, parse_contract
from catalog.publishing import MaskingRuleError, api_problems, catalog_api_problems, parse_masking
from serving import cursor as cursors
from serving.api.app import openapi_document
from serving.api.openapi import COMMITTED, breaking_changes, canonical
from serving.formats import neutralise, to_csv
from serving.masking import keep_ends, keyed_hash, mask_array, mask_value, round_10k
from serving.query import ParamError, parse_request

SECRET = bytes(range(32))


# -- masking ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12345.67"), Decimal("10000")),
        (Decimal("15000.00"), Decimal("20000")),  # half away from zero
        (Decimal("-15000.00"), Decimal("-20000")),
        (Decimal("4999.99"), Decimal("0")),
        (Decimal("5000.00"), Decimal("10000")),
        (25000, 30000),
        (-4999, 0),
        (123456.0, 120000.0),
    ],
)
def test_round_10k_rounds_to_10000_of_the_unit(value, expected) -> None:
    assert round_10k(value) == expected
    assert type(round_10k(value)) is type(expected)


def test_round_10k_in_a_wan_yuan_column_steps_by_100_million_yuan() -> None:
    """gross_output 12,345.67 万元 = 123,456,700 元: rounded to 10,000 万元 (1 亿元), not to 10,000 元
    (which would be 12,346 万元 — the value almost in clear)."""
    contract = load_catalog()["gold.fct_enterprise_month"]
    column = contract.column("gross_output")
    assert (column.unit, column.masking) == ("万元", "round_10k")
    masked = mask_array(column, pa.array([Decimal("12345.67")], pa.decimal128(18, 2)), None, SECRET)
    assert masked.to_pylist() == [Decimal("10000.00")]


@pytest.mark.parametrize(
    ("value", "first", "last", "expected"),
    [("13912345678", 3, 4, "139****5678"), ("张三丰", 1, 0, "张**"), ("张三", 1, 1, "**"), ("", 1, 0, "")],
)
def test_keep_ends(value, first, last, expected) -> None:
    assert keep_ends(value, first, last) == expected


def _hmac_by_definition(key: bytes, message: bytes) -> str:
    """RFC 2104 HMAC over SM3 (64-byte blocks), written out from the definition."""
    block = key.ljust(64, b"\0")

    def sm3(data: bytes) -> bytes:
        digest = hashes.Hash(hashes.SM3())
        digest.update(data)
        return digest.finalize()

    inner = sm3(bytes(b ^ 0x36 for b in block) + message)
    return sm3(bytes(b ^ 0x5C for b in block) + inner).hex()


def test_hash_is_hmac_sm3_under_the_masking_key_never_a_plain_hash() -> None:
    value = "91210100MA0000001X"
    digest = hashes.Hash(hashes.SM3())
    digest.update(value.encode())
    assert keyed_hash(SECRET, value) == _hmac_by_definition(SECRET, value.encode())
    assert keyed_hash(SECRET, value) != digest.finalize().hex()
    assert keyed_hash(bytes(32), value) != keyed_hash(SECRET, value)
    assert keyed_hash(SECRET, dt.date(2024, 1, 1)) == _hmac_by_definition(SECRET, b"2024-01-01")
    assert keyed_hash(SECRET, Decimal("12.50")) == _hmac_by_definition(SECRET, b"12.5")


def test_suppress_and_none_give_null_and_null_stays_null() -> None:
    for rule in ("suppress", "none", "hash", "round_10k", "keep_ends:1:1"):
        assert mask_value(parse_masking(rule), None, SECRET) is None
    assert mask_value(parse_masking("suppress"), "x", SECRET) is None
    assert mask_value(parse_masking("none"), "x", SECRET) is None


def test_mask_array_masks_only_rows_out_of_scope() -> None:
    contract = parse_contract(contract_data())
    column = contract.column("contact")
    masked = mask_array(column, pa.array(["13912345678", "13800000002"]), [True, False], SECRET)
    assert masked.to_pylist() == ["13912345678", "138****0002"]


def test_unknown_masking_rules_are_refused() -> None:
    for text in ("mask", "keep_ends:1", "keep_ends:a:b", "round_1k", "hash:md5"):
        with pytest.raises(MaskingRuleError):
            parse_masking(text)


# -- the publishing check ---------------------------------------------------------------------------
def contract_data(**changes) -> dict:
    data = {
        "table": "t",
        "layer": "theme",
        "name_zh": "测试",
        "name_en": "Test",
        "description": "test",
        "owner": "team:x",
        "grain": "one row per id",
        "primary_key": ["id"],
        "update_frequency": "monthly",
        "columns": [
            {"name": "id", "type": "string", "name_zh": "标识", "classification": "一般"},
            {
                "name": "contact",
                "type": "string",
                "name_zh": "电话",
                "classification": "重要",
                "masking": "keep_ends:3:4",
            },
            {
                "name": "amount",
                "type": "decimal(18,2)",
                "name_zh": "金额(万元)",
                "classification": "重要",
                "masking": "round_10k",
                "unit": "万元",
            },
            {"name": "core", "type": "string", "name_zh": "核心", "classification": "核心"},
        ],
        "api": {"filters": {"id": ["eq"]}, "sort": ["id"]},
    }
    data.update(changes)
    return data


def test_the_repository_catalog_passes_the_publishing_check() -> None:
    catalog = load_catalog()
    assert catalog_api_problems(catalog) == []
    published = {name for name, c in catalog.items() if c.api}
    assert {n for n in catalog if n.split(".")[0] in ("theme", "topic", "indicator")} <= published
    assert {"quality.dq_scorecard", "quality.dq_issue"} <= published
    assert not {n for n in published if n.split(".")[0] in ("silver", "bronze", "quarantine", "audit")}
    assert catalog["quality.dq_issue"].api.exclude == ("sample_rows",)


def test_publishing_check_refusals() -> None:
    assert api_problems(parse_contract(contract_data())) == []
    for layer in ("silver", "bronze", "quarantine", "audit"):
        problems = api_problems(parse_contract(contract_data(layer=layer)))
        assert problems == [
            f"{layer}.t: the {layer} layer is never published (only gold, theme, topic, indicator, quality)"
        ]
    no_rule = contract_data()
    del no_rule["columns"][1]["masking"]
    assert api_problems(parse_contract(no_rule)) == [
        "theme.t.contact: a published 重要 column must state its masking rule "
        "(none = withheld without a grant)"
    ]
    unknown = contract_data()
    unknown["columns"][1]["masking"] = "blur"
    assert any("unknown masking rule 'blur'" in p for p in api_problems(parse_contract(unknown)))
    no_unit = contract_data()
    del no_unit["columns"][2]["unit"]
    assert api_problems(parse_contract(no_unit)) == [
        "theme.t.amount: round_10k rounds to 10,000 of the column's unit: declare `unit`"
    ]
    core_filter = contract_data(api={"filters": {"core": ["eq"]}})
    assert api_problems(parse_contract(core_filter)) == [
        "theme.t: api filter names 'core', which is 核心 or excluded"
    ]
    important_key = contract_data(primary_key=["contact"])
    assert api_problems(parse_contract(important_key)) == [
        "theme.t: api primary key (paging order) column 'contact' must be 一般"
    ]


# -- parameters -------------------------------------------------------------------------------------
def test_parameters_are_typed_and_named_in_errors() -> None:
    data = contract_data(api={"filters": {"id": ["eq", "in"], "amount": ["gte"]}, "sort": ["id"],
                              "page_size": {"default": 10, "max": 50}})  # fmt: skip
    contract = parse_contract(data)
    request = parse_request(contract, [("id__in", "A,B"), ("amount__gte", "12.5"), ("sort", "-id")])
    assert [f.sql() for f in request.filters] == ["\"id\" IN ('A', 'B')", '"amount" >= 12.5']
    assert request.sort == (("id", True),) and request.page_size == 10
    for items, parameter in [
        ([("id", "x' OR '1'='1")], "id"),
        ([("amount__gte", "1e9")], "amount__gte"),
        ([("amount__gte", "1; DROP")], "amount__gte"),
        ([("page_size", "51")], "page_size"),
        ([("page_size", "0")], "page_size"),
        ([("format", "xml")], "format"),
        ([("sort", "amount")], "sort"),
        ([("core", "x")], "core"),
        ([("id__gt", "x")], "id__gt"),
        ([("id", "a"), ("id", "b")], "id"),
        ([("id", "a--b")], "id"),
    ]:
        with pytest.raises(ParamError) as caught:
            parse_request(contract, items)
        assert caught.value.parameter == parameter


# -- CSV and cursors --------------------------------------------------------------------------------
def test_csv_has_a_bom_and_neutralises_formulas_in_text() -> None:
    table = pa.table({"t": ["=1+1", "+x", "-y", "@z", "\tq", "\rr", "ok"], "n": [-1, 2, 3, 4, 5, 6, 7]})
    text = to_csv(table)
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text[3:].decode().split("\r\n")
    assert lines[:4] == ["t,n", "'=1+1,-1", "'+x,2", "'-y,3"]
    assert lines[4] == "'@z,4" and lines[7] == "ok,7"
    assert neutralise("\tq") == "'\tq" and neutralise("\rr") == "'\rr"


def test_cursor_round_trip_and_tampering() -> None:
    key = cursors.cursor_key(SECRET)
    text = cursors.encode(key, cursors.Cursor("theme.t", 3, 200, "abc"))
    assert cursors.decode(key, text, "theme.t", "abc") == cursors.Cursor("theme.t", 3, 200, "abc")
    forged_payload = cursors._b64(json.dumps(["theme.t", 1, 200, "abc"], separators=(",", ":")).encode())
    for bad in (forged_payload + "." + text.split(".")[1], "x", "a.b.c", text + "x"):
        with pytest.raises(cursors.CursorError):
            cursors.decode(key, bad, "theme.t", "abc")
    with pytest.raises(cursors.CursorError):
        cursors.decode(key, text, "theme.other", "abc")
    with pytest.raises(cursors.CursorError):
        cursors.decode(cursors.cursor_key(bytes(32)), text, "theme.t", "abc")


# -- OpenAPI ----------------------------------------------------------------------------------------
def test_committed_openapi_matches_the_code_without_breaking_changes() -> None:
    generated = openapi_document(load_catalog())
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert breaking_changes(committed, generated) == [], (
        "breaking change: publish it under a new version (/v2)"
    )
    assert canonical(generated) == COMMITTED.read_text(encoding="utf-8"), (
        "regenerate: ibrain serve --print-openapi > serving/openapi/v1.json"
    )
    text = COMMITTED.read_text(encoding="utf-8")
    assert "sample_rows" not in text
    assert "/v1/silver/" not in text and "/v1/audit/" not in text and "/v1/quarantine/" not in text


def test_breaking_changes_definition() -> None:
    old = json.loads(COMMITTED.read_text(encoding="utf-8"))
    path = "/v1/theme/economic_operation_month"
    assert breaking_changes(old, old) == []

    def changed(edit) -> list[str]:
        new = copy.deepcopy(old)
        edit(new)
        return breaking_changes(old, new)

    def op(doc: dict) -> dict:
        return doc["paths"][path]["get"]

    def rows(doc: dict) -> dict:
        return op(doc)["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["rows"]

    assert changed(lambda d: d["paths"].pop(path)) == [f"{path}: path removed"]
    assert changed(lambda d: op(d)["parameters"].pop(0)) == [f"GET {path}: parameter city_code removed"]
    assert changed(lambda d: op(d)["parameters"][0]["schema"].update(type="integer")) == [
        f"GET {path}: parameter city_code changed type"
    ]
    assert changed(lambda d: rows(d)["items"]["properties"].pop("city_name")) == [
        f"GET {path}: response 200 field rows[].city_name removed"
    ]
    assert changed(lambda d: rows(d)["items"]["properties"]["enterprise_count"].update(type=["string"])) == [
        f"GET {path}: response 200 field rows[].enterprise_count changed type"
    ]
    # additions are compatible: a new optional parameter, a new field, a new path
    assert (
        changed(
            lambda d: op(d)["parameters"].append({"name": "x", "in": "query", "schema": {"type": "string"}})
        )
        == []
    )
    assert (
        changed(lambda d: rows(d)["items"]["properties"].update(new_field={"type": ["string", "null"]})) == []
    )
    assert changed(lambda d: d["paths"].update({"/v1/theme/new": {}})) == []
