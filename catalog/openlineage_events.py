"""Lineage as OpenLineage run events, built with the OpenLineage Python client and validated
against the stored OpenLineage spec.

One ``COMPLETE`` RunEvent per table that has upstream tables: job ``ibrain`` / ``layer.table``,
inputs = the upstream tables, output = the table with the facets ``schema``, ``documentation``,
``ownership`` (from its contract) and, for dbt models, ``columnLineage`` (from
:attr:`catalog.lineage.Lineage.columns`). Datasets live in the lake's namespace (its root as a URI,
``file:///…/var/lake`` or ``s3://bucket/prefix``) and are named ``layer/table``.

The events, datasets and facets are the client's classes (``openlineage.client.event_v2`` and
``facet_v2``), which set each ``schemaURL``/``_schemaURL``; :class:`~openlineage.client.serde.Serde`
turns them into JSON. The JSON schemas are the OpenLineage spec files of those versions, kept
unmodified in ``catalog/openlineage/`` (see its README for provenance). Every ``$ref`` resolves to
those local files by their ``$id``; nothing is fetched from the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    column_lineage_dataset,
    documentation_dataset,
    documentation_job,
    ownership_dataset,
    schema_dataset,
)
from openlineage.client.serde import Serde
from openlineage.client.uuid import generate_static_uuid
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from catalog.contracts import Contract
from catalog.lineage import ColumnRef, Lineage

SPEC_DIR = Path(__file__).resolve().parent / "openlineage"
CORE_SCHEMA = SPEC_DIR / "OpenLineage.json"
FACETS_DIR = SPEC_DIR / "facets"
JOB_NAMESPACE = "ibrain"
EVENT_TYPE = RunState.COMPLETE
_DRAFT = "https://json-schema.org/draft/2020-12/schema"  # what every stored spec file declares

# Facet key in the event → the stored facet schema that defines it (file stem = its $defs name).
DATASET_FACETS = {
    "schema": "SchemaDatasetFacet",
    "documentation": "DocumentationDatasetFacet",
    "ownership": "OwnershipDatasetFacet",
    "columnLineage": "ColumnLineageDatasetFacet",
}
JOB_FACETS = {"documentation": "DocumentationJobFacet"}

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


@cache
def facet_schema_id(facet: str) -> str:
    """``$id`` of a stored facet schema file, e.g. ``SchemaDatasetFacet``."""
    return _schema_id(FACETS_DIR / f"{facet}.json")


def _retrieve(uri: str) -> Resource:
    """Only the stored files resolve (they are in the registry already); never the network."""
    raise NoSuchResource(ref=uri)


@cache
def registry() -> Registry:
    """Every stored spec file under its ``$id``; any other URI is an error, not a download."""
    return Registry(retrieve=_retrieve).with_resources(
        (uri, Resource.from_contents(doc, default_specification=DRAFT202012))
        for uri, doc in _documents().items()
    )


# The event schema: the core RunEvent with an eventType, plus each known facet checked against its
# own facet file (the core alone only requires a facet's ``_producer``/``_schemaURL``).
_EVENT_SCHEMA_ID = "urn:ibrain:openlineage:run-event"


def _run_event_schema_url() -> str:
    return f"{core_schema_id()}#/$defs/RunEvent"


@cache
def _validator() -> Draft202012Validator:
    dataset = {
        "properties": {"facets": {"allOf": [{"$ref": facet_schema_id(f)} for f in DATASET_FACETS.values()]}}
    }
    schema = {
        "$schema": _DRAFT,
        "$id": _EVENT_SCHEMA_ID,
        "allOf": [
            {"$ref": _run_event_schema_url()},
            {
                "required": ["eventType"],
                "properties": {
                    "inputs": {"items": dataset},
                    "outputs": {"items": dataset},
                    "job": {
                        "properties": {
                            "facets": {"allOf": [{"$ref": facet_schema_id(f)} for f in JOB_FACETS.values()]}
                        }
                    },
                },
            },
        ],
    }
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry(), format_checker=_format_checker())


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
def event_dict(event: RunEvent | Mapping[str, Any]) -> dict[str, Any]:
    """The event as the JSON object it is written as (the client's serializer: no null fields)."""
    return Serde.to_dict(event if isinstance(event, RunEvent) else dict(event))


def _job_label(event: Mapping[str, Any]) -> str:
    job = event.get("job")
    if isinstance(job, Mapping) and job.get("name"):
        return f"{job.get('namespace', '?')}/{job['name']}"
    return "<no job>"


def validate_event(event: RunEvent | Mapping[str, Any]) -> None:
    """Raise :class:`OpenLineageError` unless ``event`` validates against the stored spec."""
    data = event_dict(event)
    seen: set[tuple[str, str]] = set()
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: (e.json_path, e.message)):
        key = (error.json_path, error.message)
        if key not in seen:
            seen.add(key)
            problems.append(f"  at {error.json_path}: {error.message}")
    if problems:
        raise OpenLineageError(
            f"OpenLineage event for job {_job_label(data)} does not validate against "
            f"{_run_event_schema_url()}:\n" + "\n".join(problems)
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


def _utc(event_time: datetime) -> datetime:
    if event_time.tzinfo is None or event_time.utcoffset() is None:
        raise OpenLineageError(f"event_time {event_time!r} has no time zone")
    return event_time.astimezone(UTC)


def run_id(job_name: str, event_time: datetime) -> str:
    """Deterministic run id (the client's UUIDv7 from the instant and the job): the same job and
    event time give the same UUID."""
    return str(generate_static_uuid(_utc(event_time), f"{JOB_NAMESPACE}/{job_name}".encode()))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _column_lineage(
    contract: Contract | None,
    column_sources: Mapping[str, Iterable[ColumnRef]],
    namespace: str,
    producer: str,
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """Contract order first, then any other column; columns without a source column are left out."""
    order = [c.name for c in contract.columns] if contract is not None else []
    columns = [c for c in order if c in column_sources]
    columns += sorted(set(column_sources) - set(columns))
    fields = {}
    for column in columns:
        refs = sorted(column_sources[column])
        if refs:
            fields[column] = column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace=namespace, name=_dataset_name(ref.table), field=ref.column
                    )
                    for ref in refs
                ]
            )
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, producer=producer)


def _output_facets(
    contract: Contract | None,
    column_sources: Mapping[str, Iterable[ColumnRef]] | None,
    namespace: str,
    producer: str,
) -> dict[str, DatasetFacet]:
    facets: dict[str, DatasetFacet] = {}
    if contract is not None:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(name=c.name, type=c.type, description=c.name_zh)
                for c in contract.columns
            ],
            producer=producer,
        )
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=f"{contract.name_zh} ({contract.name_en}): {_one_line(contract.description)}",
            producer=producer,
        )
        facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(
            owners=[ownership_dataset.Owner(name=contract.owner)], producer=producer
        )
    if column_sources:
        facets["columnLineage"] = _column_lineage(contract, column_sources, namespace, producer)
    return facets


def run_events(
    lineage: Lineage,
    catalog: Mapping[str, Contract],
    lake_root: str,
    producer: str,
    event_time: datetime,
) -> list[RunEvent]:
    """One COMPLETE RunEvent per table with upstream tables, in table order (not yet validated)."""
    namespace = lake_namespace(lake_root)
    when = _utc(event_time)
    events = []
    for table in sorted(lineage.tables):
        upstream = sorted(lineage.tables[table])
        if not upstream:
            continue
        contract = catalog.get(table)
        job_facets = {}
        if contract is not None:
            job_facets["documentation"] = documentation_job.DocumentationJobFacet(
                description=f"Builds {table} ({contract.name_en}) from {', '.join(upstream)}; "
                f"produced by {contract.produced_by or 'unknown'}.",
                producer=producer,
            )
        output = OutputDataset(
            namespace=namespace,
            name=_dataset_name(table),
            facets=_output_facets(contract, lineage.columns.get(table), namespace, producer),
        )
        events.append(
            RunEvent(
                eventType=EVENT_TYPE,
                eventTime=when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                run=Run(runId=run_id(table, when)),
                job=Job(namespace=JOB_NAMESPACE, name=table, facets=job_facets),
                inputs=[InputDataset(namespace=namespace, name=_dataset_name(up)) for up in upstream],
                outputs=[output],
                producer=producer,
            )
        )
    return events


def event_json(event: RunEvent | Mapping[str, Any]) -> str:
    """Deterministic text of an event (the client's serializer): sorted keys, two-space indent,
    UTF-8, final newline."""
    return Serde.to_json(event_dict(event), ensure_ascii=False, indent=2) + "\n"


def write_events(events: Iterable[RunEvent], out_dir: Path) -> list[Path]:
    """Validate every event, then write ``<layer>.<table>.json`` per event; nothing is written on error."""
    names: dict[str, RunEvent] = {}
    for event in events:
        validate_event(event)
        name = event.job.name
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
