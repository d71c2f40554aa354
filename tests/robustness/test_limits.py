"""Resource limits and wrong encodings (issue 12 items 5 and 8): a file over a limit, or in an
encoding it does not declare, is rejected on its own in bounded time and memory, naming the file,
the limit, the value seen and the variable that changes it (or the byte offset); a file just
under each limit still parses; parsing stays linear."""

from __future__ import annotations

import codecs
import gc
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from io import BytesIO
from pathlib import Path

import orjson
import pytest

from ibrain.settings import REPO_ROOT, SettingsError
from ingest.limits import MIB, Limits, documented
from ingest.parsers.json_records import parse_json_document, parse_jsonl
from ingest.parsers.tabular import parse_tabular
from ingest.records import SourceFileError
from simulators.sources import csv_bytes, headers
from tests.robustness.limit_builders import (
    bomb_workbook,
    deflated,
    wide_csv,
    workbook_members,
    zip_archive,
)

HEADER = headers("gov_stats_monthly")
FIELDS = {h: f"col{i}" for i, h in enumerate(HEADER)}
ROW = ["91210100MA0QC3L40K", "沈阳测试机床有限公司", "210102", "3421", "2024年3月", "1234.5", "1200", "80.5",
       "120", "30"]  # fmt: skip
REPORT = [["辽宁省规模以上工业企业主要指标月报"], HEADER, ROW]
KEYS = {"device_id": "device_id", "fw": "fw"}

# The child parses one file and prints how it ended and its own peak resident memory: VmHWM of its
# address space, which starts anew at exec (ru_maxrss would carry over the forking pytest's size).
_CHILD = """
import json, sys
from pathlib import Path
from ingest.parsers.tabular import parse_tabular
from ingest.records import SourceFileError
data = Path(sys.argv[1]).read_bytes()
try:
    parse_tabular(data, {"c1": "c1"}, sys.argv[2])
    outcome = {"error": None}
except SourceFileError as exc:
    outcome = {"error": str(exc), "variable": getattr(exc, "variable", None)}
status = Path("/proc/self/status").read_text()
outcome["maxrss_mib"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(outcome))
"""


def parse_in_child(path: Path) -> tuple[dict, float]:
    """Parse ``path`` in a fresh interpreter with the default limits: (outcome, wall seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBRAIN_MAX_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), path.name],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def rejected(call, *args, **kwargs) -> str:
    with pytest.raises(SourceFileError) as info:
        call(*args, **kwargs)
    return str(info.value)


# --- configuration ---------------------------------------------------------------------------------


def test_limits_from_the_environment() -> None:
    assert Limits.from_env({}) == Limits()
    assert Limits().max_file_bytes == 256 * MIB and Limits().max_columns == 1000
    limits = Limits.from_env(
        {"IBRAIN_MAX_FILE_BYTES": "2M", "IBRAIN_MAX_COLUMNS": " 50 ", "IBRAIN_MAX_JSON_DEPTH": ""}
    )
    assert (limits.max_file_bytes, limits.max_columns, limits.max_json_depth) == (2 * 1024 * 1024, 50, 64)
    assert Limits.from_env({"IBRAIN_MAX_XLSX_EXPANDED_BYTES": "1GiB"}).max_xlsx_expanded_bytes == 1 << 30
    with pytest.raises(SettingsError, match="IBRAIN_MAX_COLUMNS must be a positive whole number"):
        Limits.from_env({"IBRAIN_MAX_COLUMNS": "-3"})
    with pytest.raises(SettingsError, match="IBRAIN_MAX_FIELD_CHARS must be positive"):
        Limits.from_env({"IBRAIN_MAX_FIELD_CHARS": "0"})
    with pytest.raises(SettingsError, match=r"orjson.*stops at 1024"):
        Limits.from_env({"IBRAIN_MAX_JSON_DEPTH": "2000"})


def test_readme_documents_every_limit_and_its_default() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in readme.splitlines()
        if line.startswith("| `IBRAIN_MAX_")
    }
    assert set(rows) == {variable for variable, *_ in documented()}
    assert "`268435456` (256 MiB)" in rows["IBRAIN_MAX_FILE_BYTES"]
    assert "`1000`" in rows["IBRAIN_MAX_COLUMNS"] and "`64`" in rows["IBRAIN_MAX_JSON_DEPTH"]


# --- acceptance: bombs and wide headers in bounded time and memory --------------------------------


@pytest.mark.parametrize("lie", [False, True], ids=["declared-1GiB", "declared-4KiB-lying"])
def test_a_1_gib_expanding_xlsx_is_rejected_within_10_s_and_500_mb(tmp_path: Path, lie: bool) -> None:
    data = bomb_workbook(1 << 30, declared_size=4096 if lie else None)
    assert len(data) < 4 * MIB  # the bomb: ~3 MiB of bytes …
    with zipfile.ZipFile(BytesIO(data)) as archive:
        declared = sum(i.file_size for i in archive.infolist())
    assert declared < 30_000 if lie else declared > 1_000_000_000  # … 1 GiB of XML, said or not
    path = tmp_path / "ind_prices_202403.xlsx"
    path.write_bytes(data)
    outcome, seconds = parse_in_child(path)
    assert outcome["error"], "the bomb was parsed"
    assert seconds < 10 and outcome["maxrss_mib"] < 500, (seconds, outcome)
    assert outcome["error"].startswith("ind_prices_202403.xlsx: ")
    if lie:
        assert "expands beyond the 4,096 bytes its zip directory declares" in outcome["error"]
    else:
        assert outcome["variable"] == "IBRAIN_MAX_XLSX_EXPANDED_BYTES"
        assert f"zip directory (bytes) {declared:,} exceeds the limit of 268,435,456" in outcome["error"]


def test_a_100k_column_header_is_rejected_within_10_s_and_500_mb(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(wide_csv(100_000))
    outcome, seconds = parse_in_child(path)
    assert seconds < 10 and outcome["maxrss_mib"] < 500, (seconds, outcome)
    assert outcome["error"] == (
        "wide.csv: line 1: number of columns 100,000 exceeds the limit of 1,000 "
        "(set IBRAIN_MAX_COLUMNS to change the limit)"
    )


def test_a_100k_column_header_allowed_by_the_limit_parses_in_linear_time() -> None:
    """The duplicate-header check is one pass (it was quadratic: minutes for 100 k columns)."""
    started = time.perf_counter()
    parsed = parse_tabular(
        wide_csv(100_000, rows=2), {"c1": "c1"}, "wide.csv", limits=Limits(max_columns=100_000)
    )
    assert time.perf_counter() - started < 5
    assert [r.values for r in parsed.records] == [{"c1": "1"}, {"c1": "1"}]
    assert len(parsed.unmapped_fields) == 99_999
    message = rejected(parse_tabular, b"a,b,A,b,a\r\n", {"a": "a"}, "d.csv")
    assert message == "d.csv line 1: duplicate header a, b"


def test_a_huge_legal_csv_parses_in_linear_time() -> None:
    def seconds(rows: int) -> float:
        data = csv_bytes([HEADER, *[ROW] * rows], "utf-8")
        gc.collect()
        gc.disable()  # the collector's passes over many live records are not the parser's work
        try:
            started = time.perf_counter()
            parsed = parse_tabular(data, FIELDS, "big.csv")
            elapsed = time.perf_counter() - started
        finally:
            gc.enable()
        assert len(parsed.records) == rows
        return elapsed

    seconds(1000)  # warm-up
    # best of three: a busy machine only ever adds time
    small = min(seconds(20_000) for _ in range(3))
    large = min(seconds(200_000) for _ in range(3))
    assert large < 25 * small, (small, large)  # linear: ~10x; quadratic would be ~100x


# --- each limit: just under parses, just over is rejected -----------------------------------------


def _xlsx_report(sheets: int = 1) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in REPORT:
        workbook.active.append(row)
    for i in range(1, sheets):
        workbook.create_sheet(f"S{i}")
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def _expanded(data: bytes) -> int:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return sum(i.file_size for i in archive.infolist())


def _parts(data: bytes) -> int:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return len(archive.infolist())


CSV = csv_bytes(REPORT, "utf-8")  # three lines: title, header, row
XLSX = _xlsx_report()
XLSX3 = _xlsx_report(sheets=3)


@pytest.mark.parametrize(
    ("name", "limit", "data", "what"),
    [
        ("max_file_bytes", len(CSV), CSV, f"file size (bytes) {len(CSV):,}"),
        ("max_columns", 10, CSV, "line 2: number of columns 10"),  # the header: 10 columns
        ("max_field_chars", len("91210100MA0QC3L40K"), CSV, "line 3: field length (characters) 18"),
        # the header is the longest line: 10 names of 47 characters, 9 commas, CR LF
        ("max_line_length", 85, CSV, "line 2 length (characters) 85"),
        ("max_xlsx_expanded_bytes", _expanded(XLSX), XLSX, "uncompressed size declared by the zip directory"),
        ("max_xlsx_sheets", 3, XLSX3, "sheets 3"),
        ("max_xlsx_parts", _parts(XLSX), XLSX, f"zip parts {_parts(XLSX)}"),
        ("max_columns", 10, XLSX, "row 2: number of columns 10"),
        ("max_field_chars", 18, XLSX, "row 3: field length (characters) 18"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("max_") else "",
)
def test_tabular_limit_just_under_parses_just_over_is_rejected(
    name: str, limit: int, data: bytes, what: str
) -> None:
    at_limit = parse_tabular(data, FIELDS, "f", limits=Limits(**{name: limit}))
    assert [r.values["col1"] for r in at_limit.records] == ["沈阳测试机床有限公司"]
    message = rejected(parse_tabular, data, FIELDS, "f", limits=Limits(**{name: limit - 1}))
    variable = "IBRAIN_" + name.upper()
    assert message.startswith(f"f: {what}"), message
    assert message.endswith(f"exceeds the limit of {limit - 1:,} (set {variable} to change the limit)")


def test_a_field_over_the_limit_is_a_limit_error_even_past_the_csv_modules_own_limit() -> None:
    data = csv_bytes([HEADER, [*ROW[:9], "x" * 100_000]], "utf-8")
    assert rejected(parse_tabular, data, FIELDS, "f.csv") == (
        "f.csv: line 2: field length (characters) 100,000 exceeds the limit of 32,767 "
        "(set IBRAIN_MAX_FIELD_CHARS to change the limit)"
    )
    # A quoted field spanning 150,000 short lines: past the csv module's limit (131,072 unless
    # raised), which is reported as our limit, not as a csv.Error.
    quoted = ",".join(HEADER).encode() + b'\r\n"' + b"y\n" * 150_000 + b'"\r\n'
    message = rejected(parse_tabular, quoted, FIELDS, "q.csv")
    assert re.fullmatch(
        r"q\.csv: line \d+: field length \(characters\) over [\d,]+ exceeds the limit of 32,767 "
        r"\(set IBRAIN_MAX_FIELD_CHARS to change the limit\)",
        message,
    ), message
    # A limit above the csv module's: the module's is raised to match, and the field is read.
    parsed = parse_tabular(quoted, FIELDS, "q.csv", limits=Limits(max_field_chars=300_000))
    assert len(parsed.rejects) == 1 and len(parsed.rejects[0].raw[0]) == 300_000


def test_jsonl_line_length_and_depth_limits() -> None:
    line = orjson.dumps({"device_id": "d1", "fw": {"a": [1]}})  # depth 3
    data = line + b"\n" + orjson.dumps({"device_id": "d2"})
    parsed = parse_jsonl(data, KEYS, "t.jsonl", limits=Limits(max_json_depth=3, max_line_length=len(line)))
    assert [r.values["fw"] for r in parsed.records] == ['{"a":[1]}', None]
    assert rejected(parse_jsonl, data, KEYS, "t.jsonl", limits=Limits(max_json_depth=2)) == (
        "t.jsonl: line 1: JSON nesting depth 3 exceeds the limit of 2 "
        "(set IBRAIN_MAX_JSON_DEPTH to change the limit)"
    )
    assert rejected(parse_jsonl, data, KEYS, "t.jsonl", limits=Limits(max_line_length=len(line) - 1)) == (
        f"t.jsonl: line 1 length (bytes) {len(line)} exceeds the limit of {len(line) - 1} "
        "(set IBRAIN_MAX_LINE_LENGTH to change the limit)"
    )
    deep = b'{"device_id": "d", "fw": ' + b"[" * 5000 + b"]" * 5000 + b"}"  # beyond orjson's own 1024
    started = time.perf_counter()
    message = rejected(parse_jsonl, deep, KEYS, "t.jsonl")
    assert time.perf_counter() - started < 1
    assert message == (
        "t.jsonl: line 1: JSON nesting depth over 1,024 exceeds the limit of 64 "
        "(set IBRAIN_MAX_JSON_DEPTH to change the limit)"
    )


def test_json_document_depth_and_size_limits() -> None:
    page = orjson.dumps({"data": [{"uscc": "x", "extra": {"a": {"b": 1}}}]})  # depth 5
    assert (
        len(parse_json_document(page, {"uscc": "uscc"}, "data", "p.json", Limits(max_json_depth=5)).records)
        == 1
    )
    assert "JSON nesting depth 5 exceeds the limit of 4" in rejected(
        parse_json_document, page, {"uscc": "uscc"}, "data", "p.json", Limits(max_json_depth=4)
    )
    assert rejected(
        parse_json_document, page, {}, "data", "p.json", Limits(max_file_bytes=len(page) - 1)
    ).startswith(f"p.json: file size (bytes) {len(page)} exceeds the limit of {len(page) - 1}")


def test_an_xlsx_with_a_forged_dimension_or_row_number_is_bounded() -> None:
    """A sheet claiming A1:XFD1048576 is not padded to 16,384 columns, and a row numbered beyond
    Excel's last row is refused after at most 1,048,576 rows, not after a billion."""
    members = workbook_members(REPORT)
    sheet = next(m for m in members if m.name.endswith("sheet1.xml"))
    text = zlib_inflate(sheet.payload)
    forged = text.replace(b'<dimension ref="A1:J3" />', b'<dimension ref="A1:XFD1048576" />')
    assert forged != text
    parsed = parse_tabular(_replace(members, sheet.name, forged), FIELDS, "f.xlsx")
    assert (parsed.rows_read, len(parsed.records)) == (3, 1)
    far = text.replace(b'<row r="3"', b'<row r="999999999"')
    started = time.perf_counter()
    message = rejected(parse_tabular, _replace(members, sheet.name, far), FIELDS, "f.xlsx")
    assert time.perf_counter() - started < 10
    assert message == "f.xlsx: row numbers beyond Excel's 1,048,576 rows"


def test_an_xlsx_with_an_xml_entity_declaration_is_rejected() -> None:
    members = workbook_members(REPORT)
    sheet = next(m for m in members if m.name.endswith("sheet1.xml"))
    text = zlib_inflate(sheet.payload)
    laughs = text.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]><worksheet', 1)
    assert rejected(parse_tabular, _replace(members, sheet.name, laughs), FIELDS, "f.xlsx") == (
        "f.xlsx: not a readable XLSX workbook "
        "(part xl/worksheets/sheet1.xml holds an XML document type declaration)"
    )


def zlib_inflate(payload: bytes) -> bytes:
    import zlib

    return zlib.decompress(payload, -zlib.MAX_WBITS)


def _replace(members: list, name: str, text: bytes) -> bytes:
    return zip_archive([deflated(name, text) if m.name == name else m for m in members])


# --- wrong encodings ------------------------------------------------------------------------------


def test_gbk_is_decoded_correctly_under_the_default_encodings() -> None:
    parsed = parse_tabular(csv_bytes(REPORT, "gbk"), FIELDS, "g.csv")
    assert parsed.records[0].values["col1"] == "沈阳测试机床有限公司"
    assert parse_tabular(csv_bytes(REPORT, "utf-8-sig"), FIELDS, "u.csv").records == parsed.records


def test_a_gbk_file_where_utf8_is_declared_is_rejected_naming_the_offset() -> None:
    data = b"title,x\r\n" + csv_bytes(REPORT, "gbk")  # the first GBK byte is at offset 9
    assert rejected(parse_tabular, data, FIELDS, "g.csv", ("utf-8-sig",)) == (
        "g.csv: not UTF-8 text: invalid UTF-8 at byte offset 9"
    )


def test_a_utf8_file_where_only_gbk_is_declared_is_rejected_naming_the_offset() -> None:
    data = b"title,x\r\n" + csv_bytes(REPORT, "utf-8")
    assert rejected(parse_tabular, data, FIELDS, "u.csv", ("gb18030",)) == (
        "u.csv: not GBK/GB18030 text: it is UTF-8 text (first non-ASCII byte at byte offset 9), "
        "and UTF-8 is not among the source's declared encodings"
    )


def test_a_damaged_utf8_file_is_not_read_as_gbk_mojibake() -> None:
    text = "\r\n".join(["名称,代码", *[f"沈阳{i},辽宁" for i in range(10)]])
    data = bytearray(text.encode("utf-8"))
    offset = data.index("沈阳".encode())  # "名称,代码\r\n" is 6 + 1 + 6 + 2 bytes
    assert offset == 15
    data[offset + 1] = 0xC0  # the second byte of 沈 damaged: no longer UTF-8 …
    assert bytes(data).decode("gb18030").startswith("鍚嶇О")  # … but GB18030 reads it all, as mojibake
    message = rejected(parse_tabular, bytes(data), {"名称": "name"}, "d.csv")
    assert message == (
        "d.csv: not UTF-8 or GBK/GB18030 text: invalid UTF-8 at byte offset 15 in a file whose other "
        "non-ASCII text is UTF-8 (43 valid characters, 3 invalid sequences): a damaged UTF-8 file, not GBK"
    )
    bom = codecs.BOM_UTF8 + csv_bytes(REPORT, "gbk")  # a UTF-8 mark is believed: no GBK fallback
    assert rejected(parse_tabular, bom, FIELDS, "b.csv") == (
        "b.csv: not UTF-8 or GBK/GB18030 text: invalid UTF-8 at byte offset 3 (after a UTF-8 byte-order mark)"
    )


def test_utf16_with_a_byte_order_mark_is_rejected_unless_declared() -> None:
    data = csv_bytes(REPORT, "utf-16")
    assert rejected(parse_tabular, data, FIELDS, "w.csv") == (
        "w.csv: not UTF-8 or GBK/GB18030 text: it starts with a UTF-16 LE byte-order mark (FF FE) at byte "
        "offset 0, and UTF-16 is not among the source's declared encodings"
    )
    parsed = parse_tabular(data, FIELDS, "w.csv", ("utf-16",))
    assert parsed.records[0].values["col1"] == "沈阳测试机床有限公司"
    no_mark = csv_bytes(REPORT, "utf-16-le")
    assert rejected(parse_tabular, no_mark, FIELDS, "n.csv") == (
        # the title's 17 characters are 34 bytes without NUL, then "\r" is 0D 00
        "n.csv: not UTF-8 or GBK/GB18030 text: NUL byte at byte offset 35 "
        "(binary data, or UTF-16 without a byte-order mark)"
    )


def test_binary_garbage_is_rejected_naming_the_offset() -> None:
    assert rejected(parse_tabular, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", FIELDS, "p.csv") == (
        "p.csv: not UTF-8 or GBK/GB18030 text: NUL byte at byte offset 8 "
        "(binary data, or UTF-16 without a byte-order mark)"
    )
    assert rejected(parse_tabular, b"ab\xff\xfe\xfd", FIELDS, "r.csv") == (
        "r.csv: not UTF-8 or GBK/GB18030 text: invalid UTF-8 at byte offset 2; "
        "invalid GBK/GB18030 at byte offset 2"
    )
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    assert rejected(parse_tabular, ole2, FIELDS, "old.xls") == (
        "old.xls: a legacy Excel .xls (OLE2) file, not XLSX or CSV text; ask for XLSX or CSV"
    )


def test_json_encodings() -> None:
    good = "\n".join(orjson.dumps({"device_id": f"设备{i}"}).decode() for i in range(20)).encode()
    # a UTF-8 byte-order mark is skipped (orjson alone refuses it)
    parsed = parse_jsonl(codecs.BOM_UTF8 + good, KEYS, "t.jsonl")
    assert (len(parsed.records), parsed.records[0].values["device_id"]) == (20, "设备0")
    # a GBK file: rejected whole, naming the first bad byte
    gbk = "\n".join(json.dumps({"device_id": f"设备{i}"}, ensure_ascii=False) for i in range(20)).encode(
        "gbk"
    )
    assert rejected(parse_jsonl, gbk, KEYS, "g.jsonl") == (
        "g.jsonl: not UTF-8 JSON: invalid UTF-8 at byte offset 15 (it reads as GBK/GB18030 text)"
    )
    # a UTF-8 file with one damaged byte: that line rejected with its offset, the others kept
    damaged = bytearray(good)
    third = good.index(b"\n", good.index(b"\n") + 1) + 1
    # 设 (E8 AE BE) follows the 14 bytes of {"device_id":" — its last byte damaged, the invalid
    # sequence starts at its first byte
    damaged[third + 16] = 0xFF
    parsed = parse_jsonl(bytes(damaged), KEYS, "d.jsonl")
    assert (len(parsed.records), [r.row_number for r in parsed.rejects]) == (19, [3])
    assert (
        parsed.rejects[0].reason == f"d.jsonl line 3: invalid UTF-8 at byte offset {third + 14} of the file"
    )
    assert rejected(parse_jsonl, good.decode().encode("utf-16"), KEYS, "w.jsonl") == (
        "w.jsonl: not UTF-8 JSON: it starts with a UTF-16 LE byte-order mark (FF FE) at byte offset 0"
    )
    page = codecs.BOM_UTF8 + orjson.dumps({"data": [{"uscc": "甲"}]})
    assert parse_json_document(page, {"uscc": "uscc"}, "data", "p.json").records[0].values == {"uscc": "甲"}
    assert rejected(parse_json_document, b'{"data": [\x00]}', {}, "data", "p.json") == (
        "p.json: not UTF-8 JSON: NUL byte at byte offset 10 (binary data)"
    )


# --- through the real ingest path -----------------------------------------------------------------


@pytest.mark.integration
def test_an_over_limit_file_is_rejected_with_its_reason_and_the_good_file_loads(tmp_lake) -> None:
    from ingest.bronze import load
    from ingest.ledger import Delivery, IngestLedger

    good = csv_bytes(REPORT, "gbk")
    wide = csv_bytes([[*HEADER, *[f"x{i}" for i in range(1000)]], ROW], "utf-8")  # 1,010 columns
    ledger = IngestLedger(tmp_lake)
    ledger.land(
        [
            Delivery("gov_stats_monthly", "gov_stats_monthly_210100_202403.csv", good),
            Delivery("gov_stats_monthly", "gov_stats_monthly_210200_202403.csv", wide),
        ]
    )
    report = load(tmp_lake, "gov_stats_monthly")
    entries = {e["reporting_unit"]: e for e in ledger.entries()}
    assert (entries["210100"]["status"], entries["210200"]["status"]) == ("loaded", "failed")
    reason = report.failed[entries["210200"]["batch_id"]]
    assert reason.endswith(
        "gov_stats_monthly_210200_202403.csv: line 1: number of columns 1,010 exceeds the limit of 1,000 "
        "(set IBRAIN_MAX_COLUMNS to change the limit)"
    )
    assert entries["210200"]["message"] == reason
    rejected_file = entries["210200"]["landing_path"]
    assert "/_rejected/" in rejected_file
    assert tmp_lake.lake.read_bytes(rejected_file + ".reason.txt").decode().strip() == reason
    bronze = tmp_lake.read("bronze", "gov_stats_monthly").collect()
    assert [(r.reporting_unit, r.uscc, r.enterprise_name) for r in bronze] == [
        ("210100", "91210100MA0QC3L40K", "沈阳测试机床有限公司")
    ]


def test_a_zip_directory_too_large_for_the_part_limit_is_refused_before_zipfile_reads_it() -> None:
    members = [*workbook_members(REPORT), deflated("x" * 3000 + ".bin", b"")]
    data = zip_archive(members)  # ten parts; the long name alone makes the directory over 3 KiB
    message = rejected(parse_tabular, data, FIELDS, "f.xlsx", limits=Limits(max_xlsx_parts=2))
    assert message.startswith("f.xlsx: zip directory size (bytes; 1024 allowed per part) ")
    assert message.endswith("exceeds the limit of 2,048 (set IBRAIN_MAX_XLSX_PARTS to change the limit)")
    assert parse_tabular(data, FIELDS, "f.xlsx", limits=Limits(max_xlsx_parts=10)).records
