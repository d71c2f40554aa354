"""Lineage as OpenLineage run events (JSON), validated against the stored OpenLineage spec.

One ``COMPLETE`` RunEvent per table that has upstream tables: job ``ibrain`` / ``layer.table``,
inputs = the upstream tables, output = the table with the facets ``schema``, ``documentation``,
``ownership`` (from its contract) and, for dbt models, ``columnLineage`` (from
:attr:`catalog.lineage.Lineage.columns`). Datasets live in the lake's namespace (its root as a URI,
``file:///…/var/lake`` or ``s3://bucket/prefix``) and are named ``layer/table``.

The JSON schemas are the OpenLineage spec files kept unmodified in ``catalog/openlineage/`` (see
its README for provenance). Every ``$ref`` resolves to those local files by their ``$id``; nothing
is fetched from the network.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from catalog.contracts import Contract
from catalog.lineage import Lineage

SPEC_DIR = Path(__file__).resolve().parent / "openlineage"
CORE_SCHEMA = SPEC_DIR / "OpenLineage.json"
FACETS_DIR = SPEC_DIR / "facets"
JOB_NAMESPACE = "ibrain"
EVENT_TYPE = "COMPLETE"
_DRAFT = "https://json-schema.org/draft/2020-12/schema"  # what every stored spec file declares

# Facet key in the event → the stored facet schema that defines it (file stem = its $defs name).
DATASET_FACETS = {
    "schema": "SchemaDatasetFacet",
    "documentation": "DocumentationDatasetFacet",
    "ownership": "OwnershipDatasetFacet",
    "columnLineage": "ColumnLineageDatasetFacet",
}
JOB_FACETS = {"documentation": "DocumentationJobFacet"}

# Some stored facet files reference the core as ".../OpenLineage.json/$defs/X" (the '#' is
# missing upstream); such a URI is read as the JSON pointer it means: ".../OpenLineage.json#/$defs/X".
_POINTER_WITHOUT_HASH = re.compile(
    r"^(?P<doc>https://openlineage\.io/spec/[^#]+/OpenLineage\.json)/(?P<ptr>\$defs/\w+)$"
)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class OpenLineageError(ValueError):
    """An event does not validate; the message names the job and each failing path."""


# -- stored spec --------------------------------------------------------------------------------
@cache
def _documents() -> dict[str, dict[str, Any]]:
    """``$id`` → schema, for every stored spec file."""
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted(SPEC_DIR.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        uri = doc.get("$id")
        if not uri:
            raise OpenLineageError(f"{path}: stored schema has no $id")
        if doc.get("$schema") != _DRAFT:
            raise OpenLineageError(f"{path}: declares {doc.get('$schema')}, expected {_DRAFT}")
        if uri in docs:
            raise OpenLineageError(f"{path}: $id {uri} is stored twice")
        docs[uri] = doc
    return docs


def _schema_id(path: Path) -> str:
    return json.loads(path.read_text(encoding="utf-8"))["$id"]


@cache
def core_schema_id() -> str:
    return _schema_id(CORE_SCHEMA)


def run_event_schema_url() -> str:
    """The event's ``schemaURL``: the stored core spec's RunEvent."""
    return f"{core_schema_id()}#/$defs/RunEvent"


@cache
def facet_schema_id(facet: str) -> str:
    """``$id`` of a stored facet schema file, e.g. ``SchemaDatasetFacet``."""
    return _schema_id(FACETS_DIR / f"{facet}.json")


def facet_schema_url(facet: str) -> str:
    """A facet's ``_schemaURL``: its schema file's ``$id`` plus the pointer to its definition."""
    return f"{facet_schema_id(facet)}#/$defs/{facet}"


def _retrieve(uri: str) -> Resource:
    """Only the stored files resolve (they are in the registry already); never the network."""
    match = _POINTER_WITHOUT_HASH.match(uri)
    if match and match["doc"] in _documents():
        alias = {"$schema": _DRAFT, "$ref": f"{match['doc']}#/{match['ptr']}"}
        return Resource.from_contents(alias, default_specification=DRAFT202012)
    raise NoSuchResource(ref=uri)


# The event schema: the core RunEvent, plus each known facet checked against its own facet file
# (the core alone only requires a facet's ``_producer``/``_schemaURL``).
_EVENT_SCHEMA_ID = "urn:ibrain:openlineage:run-event"


@cache
def _validator() -> Draft202012Validator:
    docs = _documents()
    registry: Registry = Registry(retrieve=_retrieve).with_resources(
        (uri, Resource.from_contents(doc, default_specification=DRAFT202012)) for uri, doc in docs.items()
    )
    dataset = {
        "properties": {"facets": {"allOf": [{"$ref": facet_schema_id(f)} for f in DATASET_FACETS.values()]}}
    }
    schema = {
        "$schema": _DRAFT,
        "$id": _EVENT_SCHEMA_ID,
        "allOf": [
            {"$ref": core_schema_id()},
            {
                "properties": {
                    "inputs": {"items": dataset},
                    "outputs": {"items": dataset},
                    "job": {
                        "properties": {
                            "facets": {"allOf": [{"$ref": facet_schema_id(f)} for f in JOB_FACETS.values()]}
                        }
                    },
                }
            },
        ],
    }
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry, format_checker=_format_checker())


def _format_checker() -> FormatChecker:
    """uuid from jsonschema; date-time (RFC 3339) and uri here, so no optional packages are needed."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _RFC3339.match(value):
            return False
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    @checker.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(_URI_SCHEME.match(parts.scheme)) and not any(c.isspace() for c in value)

    return checker


# -- validation ---------------------------------------------------------------------------------
def _job_label(event: Any) -> str:
    job = event.get("job") if isinstance(event, Mapping) else None
    if isinstance(job, Mapping) and job.get("name"):
        return f"{job.get('namespace', '?')}/{job['name']}"
    return "<no job>"


def validate_event(event: Mapping[str, Any]) -> None:
    """Raise :class:`OpenLineageError` unless ``event`` validates against the stored spec."""
    seen: set[tuple[str, str]] = set()
    problems = []
    for error in sorted(_validator().iter_errors(event), key=lambda e: (e.json_path, e.message)):
        key = (error.json_path, error.message)
        if key not in seen:
            seen.add(key)
            problems.append(f"  at {error.json_path}: {error.message}")
    if problems:
        raise OpenLineageError(
            f"OpenLineage event for job {_job_label(event)} does not validate against "
            f"{run_event_schema_url()}:\n" + "\n".join(problems)
        )


# -- events -------------------------------------------------------------------------------------
def lake_namespace(lake_root: str) -> str:
    """The datasets' namespace: the lake root as a URI (``s3://…`` kept, a local folder as ``file://``)."""
    if "://" in lake_root:
        return lake_root.rstrip("/")
    return Path(lake_root).expanduser().absolute().as_uri()


def _dataset_name(table: str) -> str:
    if not _TABLE_NAME.match(table):
        raise OpenLineageError(f"table {table!r} is not named layer.table")
    return table.replace(".", "/", 1)


def _event_time(event_time: datetime) -> str:
    if event_time.tzinfo is None or event_time.utcoffset() is None:
        raise OpenLineageError(f"event_time {event_time!r} has no time zone")
    return event_time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_id(job_name: str, event_time: str) -> str:
    """Deterministic run id: the same job and event time give the same UUID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ibrain:openlineage:{JOB_NAMESPACE}/{job_name}@{event_time}"))


def _facet(facet: str, producer: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": producer, "_schemaURL": facet_schema_url(facet), **fields}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _output_facets(
    contract: Contract | None,
    column_sources: Mapping[str, Iterable[Any]] | None,
    namespace: str,
    producer: str,
) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if contract is not None:
        facets["schema"] = _facet(
            "SchemaDatasetFacet",
            producer,
            fields=[{"name": c.name, "type": c.type, "description": c.name_zh} for c in contract.columns],
        )
        facets["documentation"] = _facet(
            "DocumentationDatasetFacet",
            producer,
            description=f"{contract.name_zh} ({contract.name_en}): {_one_line(contract.description)}",
        )
        facets["ownership"] = _facet("OwnershipDatasetFacet", producer, owners=[{"name": contract.owner}])
    if column_sources:
        order = [c.name for c in contract.columns] if contract is not None else []
        columns = [c for c in order if c in column_sources]
        columns += sorted(set(column_sources) - set(columns))
        fields = {}
        for column in columns:
            refs = sorted(column_sources[column])
            if refs:
                fields[column] = {
                    "inputFields": [
                        {"namespace": namespace, "name": _dataset_name(ref.table), "field": ref.column}
                        for ref in refs
                    ]
                }
        facets["columnLineage"] = _facet("ColumnLineageDatasetFacet", producer, fields=fields)
    return facets


def run_events(
    lineage: Lineage,
    catalog: Mapping[str, Contract],
    lake_root: str,
    producer: str,
    event_time: datetime,
) -> list[dict[str, Any]]:
    """One COMPLETE RunEvent per table with upstream tables, in table order (not yet validated)."""
    namespace = lake_namespace(lake_root)
    when = _event_time(event_time)
    events = []
    for table in sorted(lineage.tables):
        upstream = sorted(lineage.tables[table])
        if not upstream:
            continue
        contract = catalog.get(table)
        job: dict[str, Any] = {"namespace": JOB_NAMESPACE, "name": table}
        if contract is not None:
            built_by = contract.produced_by or "unknown"
            job["facets"] = {
                "documentation": _facet(
                    "DocumentationJobFacet",
                    producer,
                    description=f"Builds {table} ({contract.name_en}) from {', '.join(upstream)}; "
                    f"produced by {built_by}.",
                )
            }
        output = {
            "namespace": namespace,
            "name": _dataset_name(table),
            "facets": _output_facets(contract, lineage.columns.get(table), namespace, producer),
        }
        events.append(
            {
                "eventType": EVENT_TYPE,
                "eventTime": when,
                "run": {"runId": run_id(table, when)},
                "job": job,
                "inputs": [{"namespace": namespace, "name": _dataset_name(up)} for up in upstream],
                "outputs": [output],
                "producer": producer,
                "schemaURL": run_event_schema_url(),
            }
        )
    return events


def event_json(event: Mapping[str, Any]) -> str:
    """Deterministic text of an event: sorted keys, two-space indent, UTF-8, final newline."""
    return json.dumps(event, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_events(events: Iterable[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    """Validate every event, then write ``<layer>.<table>.json`` per event; nothing is written on error."""
    events = list(events)
    names: dict[str, Mapping[str, Any]] = {}
    for event in events:
        validate_event(event)
        name = event["job"]["name"]
        if not _TABLE_NAME.match(name):
            raise OpenLineageError(f"job name {name!r} is not layer.table; cannot name its file")
        if name in names:
            raise OpenLineageError(f"two events for job {JOB_NAMESPACE}/{name}")
        names[name] = event
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, event in names.items():
        path = out_dir / f"{name}.json"
        path.write_text(event_json(event), encoding="utf-8")
        paths.append(path)
    return paths
