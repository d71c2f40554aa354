"""Parsers on hand-made edge cases and on the simulator's output for every source."""

from pathlib import Path

import orjson
import pytest

from ingest.records import SourceFileError
from ingest.sources import get_source, sources
from simulators import FILE_SOURCES, simulate
from simulators.defects import Defects
from simulators.sources import csv_bytes, headers, xlsx_bytes

STATS = get_source("gov_stats_monthly")
HEADER = headers("gov_stats_monthly")
ROW = ["91210100MA0QC3L40K", "沈阳测试机床有限公司", "210102", "3421", "2024年3月", "1,234.50",
       "1200", "80.5", "120", "30"]  # fmt: skip
REPORT = [
    ["辽宁省规模以上工业企业主要指标月报"],
    ["填报单位：沈阳市统计局 报告期：2024年3月"],
    HEADER,
    ROW,
    [*ROW[:5], "", "", "", "", ""],
    [],
    ["合计", "", "", "", "", "1234.5", "", "", "", ""],
    ["注：快报数据"],
]


def values(parsed) -> list[dict]:
    return [r.values for r in parsed.records]


def test_identify_from_file_name() -> None:
    assert STATS.identify("gov_stats_monthly_210100_202403.csv") == ("210100", "2024-03")
    assert STATS.identify("210200-2024-11.xlsx") == ("210200", "2024-11")
    assert STATS.identify("report.csv") == (None, None)
    assert STATS.identify("210100_202413.csv") == (None, None)
    assert get_source("ent_telemetry").identify("ent_telemetry_20250131_07.jsonl") == ("h07", "2025-01-31")
    assert get_source("gov_subsidy").identify("gov_subsidy_202402.csv") == ("210000", "2024-02")
    assert get_source("ent_telemetry").identify("ent_telemetry_20250231_07.jsonl") == (None, None)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_titles_totals_notes_are_skipped_and_counts_reconcile(encoding: str) -> None:
    parsed = STATS.parse(csv_bytes(REPORT, encoding), "f.csv")
    assert (parsed.rows_read, len(parsed.records), parsed.skipped, parsed.rejects) == (8, 2, 6, [])
    record = parsed.records[0]
    assert record.row_number == 4
    assert record.values["gross_output"] == "1,234.50"  # kept as received
    assert record.values["report_period"] == "2024年3月"
    assert record.unmapped is None


def test_gbk_csv_and_xlsx_of_the_same_report_give_identical_values() -> None:
    from_csv = STATS.parse(csv_bytes(REPORT, "gbk"), "f.csv")
    from_xlsx = STATS.parse(xlsx_bytes(REPORT), "f.xlsx")
    assert values(from_csv) == values(from_xlsx)
    assert (from_csv.rows_read, from_csv.skipped) == (from_xlsx.rows_read, from_xlsx.skipped)
    assert [r.row_number for r in from_csv.records] == [r.row_number for r in from_xlsx.records]


def test_numeric_xlsx_cells_read_as_a_person_reads_them() -> None:
    import datetime as dt
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(HEADER)
    wb.active.append([ROW[0], ROW[1], 210102, 3421, dt.date(2024, 3, 1), 1234.5, 1200.0, 80.5, 120, None])
    out = io.BytesIO()
    wb.save(out)
    [record] = STATS.parse(out.getvalue(), "f.xlsx").records
    assert record.values["region_code"] == "210102" and record.values["revenue"] == "1200"
    assert record.values["gross_output"] == "1234.5" and record.values["report_period"] == "2024-03-01"
    assert record.values["energy_consumption"] == ""


def test_wrong_field_count_is_rejected_with_line_number() -> None:
    parsed = STATS.parse(csv_bytes([HEADER, ROW, ROW[:9]], "utf-8"), "landing/f.csv")
    assert len(parsed.records) == 1
    [reject] = parsed.rejects
    assert (reject.row_number, reject.rule_id) == (3, "column_count")
    assert reject.reason == "landing/f.csv line 3: expected 10 fields, got 9"
    assert reject.raw == ROW[:9]


def test_header_variants_in_bracket_width_are_accepted() -> None:
    header = [h.replace("(", "（").replace(")", "）") for h in HEADER]
    parsed = STATS.parse(csv_bytes([header, ROW], "utf-8"), "f.csv")
    assert parsed.records[0].values["energy_consumption"] == "30"


def test_missing_header_fails_the_file() -> None:
    with pytest.raises(SourceFileError, match=r"f\.csv: no header line with all of"):
        STATS.parse(csv_bytes([HEADER[:-1], ROW[:-1]], "utf-8"), "f.csv")


def test_a_new_column_is_kept_as_schema_drift_not_dropped() -> None:
    parsed = STATS.parse(csv_bytes([[*HEADER, "备注"], [*ROW, "x"], [*ROW, ""]], "utf-8"), "f.csv")
    assert [r.unmapped for r in parsed.records] == [{"备注": "x"}, None]
    assert parsed.unmapped_fields == {"备注"}
    assert parsed.records[0].values["uscc"] == ROW[0]


def test_unreadable_files() -> None:
    with pytest.raises(SourceFileError, match="not UTF-8 or GBK"):
        STATS.parse(b"\xff\xfe\xff\x00\x81\x30", "f.csv")
    with pytest.raises(SourceFileError, match=r"f\.xlsx: not a readable XLSX workbook"):
        STATS.parse(xlsx_bytes(REPORT)[:500], "f.xlsx")
    with pytest.raises(SourceFileError, match=r"o\.json: not valid JSON"):
        get_source("ent_orders").parse(b'{"records": [{"id": 1}', "o.json")
    with pytest.raises(SourceFileError, match="expected a list of records at key 'records'"):
        get_source("ent_orders").parse(b'{"rows": []}', "o.json")


def test_jsonl_lines_records_rejects_and_drift() -> None:
    telemetry = get_source("ent_telemetry")
    lines = [
        orjson.dumps(
            {
                "device_id": "CNC-1",
                "uscc": "x",
                "ts": "2025-01-31T07:00:00+08:00",
                "status": "run",
                "spindle_load": 55.5,
                "joint_load": None,
                "power_kw": 10,
                "part_count": 3,
                "fw": "1.2",
            }
        ),
        b'{"device_id": "CNC-1", "ts": "2025-01',
        b"",
        b"[1, 2]",
    ]
    parsed = telemetry.parse(b"\n".join(lines), "t.jsonl")
    assert (parsed.rows_read, len(parsed.records), len(parsed.rejects), parsed.skipped) == (4, 1, 2, 1)
    record = parsed.records[0]
    assert record.values["spindle_load"] == "55.5" and record.values["joint_load"] is None
    assert record.values["power_kw"] == "10" and record.values["reading_ts"] == "2025-01-31T07:00:00+08:00"
    assert record.unmapped == {"fw": "1.2"} and parsed.unmapped_fields == {"fw"}
    assert [r.row_number for r in parsed.rejects] == [2, 4]
    assert parsed.rejects[0].reason.startswith("t.jsonl line 2: not valid JSON")


def test_every_source_parses_its_simulated_files(tmp_path: Path) -> None:
    """Each parser on simulator output: counts reconcile and every manifest row defect that the
    parser must catch (a field lost in a CSV line, a broken JSON line) is caught, and no more."""
    clean_files = Defects(corrupt_file=0)
    simulation = simulate(tmp_path, 0.03, 7, "2024-12:2025-01", clean_files, telemetry_days=1)
    manifest = simulation.manifest["defects"]["entries"]
    for source_name in FILE_SOURCES:
        source = sources()[source_name]
        paths = simulation.files[source_name]
        assert paths, source_name
        rejected = 0
        for path in paths:
            parsed = source.parse(path.read_bytes(), path.name)
            assert parsed.rows_read == len(parsed.records) + len(parsed.rejects) + parsed.skipped
            assert parsed.records, path.name
            assert all(set(r.values) == set(source.data_columns) for r in parsed.records)
            rejected += len(parsed.rejects)
        expected = sum(
            e.get("count", 1)
            for e in manifest
            if e["source"] == source_name and e["kind"] in ("missing_field", "json_syntax", "not_an_object")
        )
        assert rejected == expected, source_name


def test_registry_pages_parse_as_json_documents() -> None:
    page = orjson.dumps(
        {
            "data": [
                {
                    "uscc": "91210100MA0QC3L40K",
                    "name": "甲",
                    "status": "存续",
                    "updated_at": "2025-01-01T09:00:00+08:00",
                    "registered_capital": 100.5,
                }
            ],
            "page": 1,
            "total_pages": 1,
        }
    )
    [record] = get_source("gov_registry").parse(page, "p.json").records
    assert record.values["enterprise_name"] == "甲" and record.values["registered_capital"] == "100.5"
    assert record.values["reg_status"] == "存续" and record.values["address"] is None


@pytest.mark.parametrize("name", [n for n, s in sources().items() if s.spec.format == "tabular"])
def test_each_tabular_source_maps_its_headers(name: str) -> None:
    """A hand-made file per tabular source: title, header in a shuffled order, a row, totals, note."""
    source = sources()[name]
    header = list(reversed(headers(name)))
    row = [f"v{i}" for i in range(len(header))]
    data = csv_bytes([["标题"], header, row, ["合计"], ["注：说明"]], "gbk")
    parsed = source.parse(data, f"{name}.csv")
    [record] = parsed.records
    assert (parsed.rows_read, parsed.skipped, record.row_number) == (5, 4, 3)
    assert record.values == {source.fields[h]: v for h, v in zip(header, row, strict=True)}
