"""OpenLineage export: events built with the OpenLineage client from a hand-made Lineage validate
against the stored spec; malformed events are rejected with the failing path."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import attr
import pytest
from openlineage.client.event_v2 import RunEvent
from referencing.exceptions import Unresolvable

from catalog import openlineage_events as ol
from catalog.contracts import load_catalog
from catalog.lineage import ColumnRef, Lineage

GOLD = "gold.fct_enterprise_month"  # dbt model
SILVER = "silver.enterprise_month_stats"  # pyspark table
BRONZE = "bronze.gov_stats_monthly"
PRODUCER = "https://github.com/industry-brain/industry-brain"
WHEN = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
LAKE = "s3://ibrain-lake/prod"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def lineage() -> Lineage:
    return Lineage(
        tables={GOLD: {SILVER}, SILVER: {BRONZE}, BRONZE: set()},
        columns={
            GOLD: {
                "gross_output": {ColumnRef(SILVER, "gross_output")},
                "enterprise_id": {ColumnRef(SILVER, "uscc"), ColumnRef(SILVER, "enterprise_name")},
                "chain_code": set(),  # a literal: no source column
            }
        },
    )


@pytest.fixture(scope="module")
def client_events(lineage, catalog) -> dict[str, RunEvent]:
    return {e.job.name: e for e in ol.run_events(lineage, catalog, LAKE, PRODUCER, WHEN)}


@pytest.fixture(scope="module")
def events(client_events) -> dict[str, dict]:
    """The events as written (the client's serializer), to read and to break."""
    return {name: ol.event_dict(e) for name, e in client_events.items()}


def _rejected(event: dict) -> str:
    with pytest.raises(ol.OpenLineageError) as info:
        ol.validate_event(event)
    return str(info.value)


def test_one_complete_event_per_table_with_upstream(client_events, events):
    assert sorted(events) == [GOLD, SILVER]  # bronze has no upstream table
    for name, event in events.items():
        ol.validate_event(client_events[name])
        ol.validate_event(event)
        assert event["eventType"] == "COMPLETE"
        assert event["eventTime"] == "2024-05-01T08:30:00.000Z"
        assert event["job"] == {**event["job"], "namespace": "ibrain", "name": name}
        assert event["schemaURL"] == "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
        assert event["run"]["facets"] == {}
    gold = events[GOLD]
    assert gold["inputs"] == [
        {"namespace": LAKE, "name": "silver/enterprise_month_stats", "facets": {}, "inputFacets": {}}
    ]
    assert [(o["namespace"], o["name"]) for o in gold["outputs"]] == [(LAKE, "gold/fct_enterprise_month")]


def test_run_id_is_a_deterministic_uuid(lineage, catalog, events):
    again = ol.run_events(lineage, catalog, LAKE, PRODUCER, WHEN.astimezone(timezone(timedelta(hours=8))))
    assert [e.run.runId for e in again] == [
        events[GOLD]["run"]["runId"],
        events[SILVER]["run"]["runId"],
    ]
    later = ol.run_events(lineage, catalog, LAKE, PRODUCER, WHEN + timedelta(seconds=1))
    assert later[0].run.runId != events[GOLD]["run"]["runId"]
    assert events[GOLD]["run"]["runId"] != events[SILVER]["run"]["runId"]
    # UUIDv7: the first 48 bits are the event time in milliseconds
    assert int(events[GOLD]["run"]["runId"].replace("-", "")[:12], 16) == int(WHEN.timestamp() * 1000)
    with pytest.raises(ol.OpenLineageError, match="time zone"):
        ol.run_events(lineage, catalog, LAKE, PRODUCER, datetime(2024, 5, 1))


def test_output_facets_come_from_the_contract(events, catalog):
    contract = catalog[GOLD]
    facets = events[GOLD]["outputs"][0]["facets"]
    assert facets["schema"]["fields"][:2] == [
        {"name": "enterprise_id", "type": "string", "description": "企业标识", "fields": []},
        {"name": "uscc", "type": "string", "description": "统一社会信用代码", "fields": []},
    ]
    assert [f["name"] for f in facets["schema"]["fields"]] == contract.column_names
    assert contract.name_zh in facets["documentation"]["description"]
    assert facets["ownership"]["owners"] == [{"name": contract.owner}]
    for key, facet in facets.items():
        assert facet["_producer"] == PRODUCER
        name = ol.DATASET_FACETS[key]
        assert re.fullmatch(
            rf"https://openlineage\.io/spec/.+/{name}\.json#/\$defs/{name}", facet["_schemaURL"]
        )


def test_column_lineage_names_the_silver_sources(events):
    lineage = events[GOLD]["outputs"][0]["facets"]["columnLineage"]["fields"]
    source = {"namespace": LAKE, "name": "silver/enterprise_month_stats", "transformations": []}
    assert lineage["gross_output"] == {"inputFields": [{**source, "field": "gross_output"}]}
    assert lineage["enterprise_id"]["inputFields"] == [
        {**source, "field": "enterprise_name"},
        {**source, "field": "uscc"},
    ]
    assert list(lineage) == ["enterprise_id", "gross_output"]  # contract order; no-source columns left out
    # the pyspark table has no column lineage, only its contract facets
    assert set(events[SILVER]["outputs"][0]["facets"]) == {"schema", "documentation", "ownership"}


def test_local_lake_root_becomes_a_file_uri(lineage, catalog, tmp_path):
    (event, _) = ol.run_events(lineage, catalog, str(tmp_path / "lake"), PRODUCER, WHEN)
    assert event.inputs[0].namespace == (tmp_path / "lake").as_uri()
    ol.validate_event(event)
    assert ol.lake_namespace("s3://bucket/prefix/") == "s3://bucket/prefix"


def test_missing_event_time_is_rejected(events):
    bad = copy.deepcopy(events[GOLD])
    del bad["eventTime"]
    message = _rejected(bad)
    assert "ibrain/gold.fct_enterprise_month" in message
    assert "at $: 'eventTime' is a required property" in message


def test_facet_without_producer_is_rejected(events):
    bad = copy.deepcopy(events[GOLD])
    del bad["outputs"][0]["facets"]["schema"]["_producer"]
    assert "at $.outputs[0].facets.schema: '_producer' is a required property" in _rejected(bad)


def test_bad_event_type_is_rejected(events):
    bad = copy.deepcopy(events[SILVER])
    bad["eventType"] = "DONE"
    message = _rejected(bad)
    assert "ibrain/silver.enterprise_month_stats" in message
    assert "at $.eventType: 'DONE' is not one of" in message


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("eventTime",), "yesterday", "at $.eventTime: 'yesterday' is not a 'date-time'"),
        (("run", "runId"), "run-1", "at $.run.runId: 'run-1' is not a 'uuid'"),
        (("producer",), "not a uri", "at $.producer: 'not a uri' is not a 'uri'"),
    ],
)
def test_formats_are_checked(events, path, value, expected):
    bad = copy.deepcopy(events[GOLD])
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert expected in _rejected(bad)


def test_facet_bodies_are_checked_against_their_facet_schemas(events):
    """The core spec only requires _producer/_schemaURL; the facet files check the rest."""
    bad = copy.deepcopy(events[GOLD])
    facets = bad["outputs"][0]["facets"]
    del facets["columnLineage"]["fields"]["gross_output"]["inputFields"][0]["field"]
    del facets["documentation"]["description"]
    facets["schema"]["fields"] = "enterprise_id"
    del bad["job"]["facets"]["documentation"]["description"]
    message = _rejected(bad)
    assert (
        "at $.outputs[0].facets.columnLineage.fields.gross_output.inputFields[0]: "
        "'field' is a required property" in message
    )
    assert "at $.outputs[0].facets.documentation: 'description' is a required property" in message
    assert "at $.outputs[0].facets.schema.fields: 'enterprise_id' is not of type 'array'" in message
    assert "at $.job.facets.documentation: 'description' is a required property" in message


def test_refs_resolve_only_to_stored_files():
    resolver = ol.registry().resolver()
    assert "allOf" in resolver.lookup(f"{ol.core_schema_id()}#/$defs/RunEvent").contents
    with pytest.raises(Unresolvable):  # a spec version not stored is not downloaded
        resolver.lookup("https://openlineage.io/spec/2-0-3/OpenLineage.json")


def _schema_urls(node, path="$"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("schemaURL", "_schemaURL"):
                yield path, value
            else:
                yield from _schema_urls(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _schema_urls(value, f"{path}[{i}]")


def test_the_stored_schemas_are_the_versions_the_client_writes(events):
    """Every schemaURL the client puts in an event names a stored file and a definition in it."""
    resolver = ol.registry().resolver()
    urls = dict(_schema_urls(events[GOLD]))
    assert set(urls) == {
        "$",
        "$.job.facets.documentation",
        *(f"$.outputs[0].facets.{key}" for key in ol.DATASET_FACETS),
    }
    for path, url in urls.items():
        document, _, pointer = url.partition("#")
        assert document in ol._documents(), (path, url)
        name = pointer.rsplit("/", 1)[-1]
        assert pointer == f"/$defs/{name}" and resolver.lookup(url).contents, (path, url)
    for key, facet in ol.DATASET_FACETS.items():
        assert urls[f"$.outputs[0].facets.{key}"] == f"{ol.facet_schema_id(facet)}#/$defs/{facet}"


def test_write_events_validates_then_writes_deterministic_files(client_events, events, tmp_path):
    ordered = [client_events[GOLD], client_events[SILVER]]
    paths = ol.write_events(ordered, tmp_path / "out")
    assert [p.name for p in paths] == ["gold.fct_enterprise_month.json", "silver.enterprise_month_stats.json"]
    first = [p.read_bytes() for p in paths]
    assert json.loads(first[0]) == events[GOLD]
    assert first[0].endswith(b"}\n") and "企业标识".encode() in first[0]
    ol.write_events(ordered, tmp_path / "out")
    assert [p.read_bytes() for p in paths] == first

    bad = attr.evolve(client_events[SILVER], producer="not a uri")
    with pytest.raises(ol.OpenLineageError, match=r"silver\.enterprise_month_stats"):
        ol.write_events([client_events[GOLD], bad], tmp_path / "none")
    assert not (tmp_path / "none").exists()  # nothing written when any event is invalid


def test_stored_schemas_are_unmodified():
    """Every vendored file matches the git blob id and the SHA-256 its README records (byte for byte)."""
    readme = (ol.SPEC_DIR / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| `([^`]+\.json)` \| `([^`]+)` \| `([0-9a-f]{40})` \| `([^`]+)` \| `([0-9a-f]{40})` \| "
        r"`([0-9a-f]{64})` \|",
        readme,
        re.M,
    )
    stored = sorted(p.relative_to(ol.SPEC_DIR).as_posix() for p in ol.SPEC_DIR.rglob("*.json"))
    assert sorted(r[0] for r in rows) == stored
    for local, _upstream, _commit, schema_id, blob, sha256 in rows:
        data = (ol.SPEC_DIR / local).read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob, local
        assert hashlib.sha256(data).hexdigest() == sha256, local
        assert json.loads(data)["$id"] == schema_id
