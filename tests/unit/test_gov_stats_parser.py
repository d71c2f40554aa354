import pytest

from ingest.records import SourceFileError
from ingest.simulator.gov_stats_monthly import HEADER
from ingest.sources import get_source

SOURCE = get_source("gov_stats_monthly")
ROW = [
    "91210100MA0QC3L40K",
    "沈阳测试机床有限公司",
    "210102",
    "3421",
    "2024年3月",
    "1,234.50",
    "1200",
    "80.5",
    "120",
    "30",
]


def csv_bytes(lines: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(",".join(f'"{c}"' if "," in c else c for c in line) for line in lines).encode(encoding)


def test_identify_from_file_name() -> None:
    assert SOURCE.identify("gov_stats_monthly_210100_202403.csv") == ("210100", "2024-03")
    assert SOURCE.identify("210200-2024-11.xlsx") == ("210200", "2024-11")
    assert SOURCE.identify("report.csv") == (None, None)
    assert SOURCE.identify("210100_202413.csv") == (None, None)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_titles_totals_notes_are_skipped_and_counts_reconcile(encoding: str) -> None:
    data = csv_bytes(
        [
            ["辽宁省规模以上工业企业主要指标月报"],
            ["填报单位：沈阳市统计局 报告期：2024年3月"],
            HEADER,
            ROW,
            [*ROW[:5], "", "", "", "", ""],
            [],
            ["合计", "", "", "", "", "1234.5", "", "", "", ""],
            ["注：快报数据"],
        ],
        encoding,
    )
    parsed = SOURCE.parse(data, "f.csv")
    assert parsed.rows_read == 8
    assert len(parsed.records) == 2
    assert parsed.skipped == 6
    assert parsed.rejects == []
    row_number, record = parsed.records[0]
    assert row_number == 4
    assert record["gross_output"] == "1,234.50"  # kept as received
    assert record["report_period"] == "2024年3月"


def test_wrong_field_count_is_rejected_with_line_number() -> None:
    parsed = SOURCE.parse(csv_bytes([HEADER, ROW, ROW[:9]]), "landing/f.csv")
    assert len(parsed.records) == 1
    [reject] = parsed.rejects
    assert reject.row_number == 3
    assert reject.rule_id == "column_count"
    assert reject.reason == "landing/f.csv line 3: expected 10 fields, got 9"
    assert reject.raw == ROW[:9]


def test_header_variants_in_bracket_width_are_accepted() -> None:
    header = [h.replace("(", "（").replace(")", "）") for h in HEADER]
    parsed = SOURCE.parse(csv_bytes([header, ROW]), "f.csv")
    assert parsed.records[0][1]["energy_consumption"] == "30"


def test_missing_header_fails_the_file() -> None:
    with pytest.raises(SourceFileError, match=r"f\.csv: no header line with all of"):
        SOURCE.parse(csv_bytes([HEADER[:-1], ROW[:-1]]), "f.csv")


def test_unexpected_column_fails_the_file_rather_than_dropping_data() -> None:
    with pytest.raises(SourceFileError, match="line 1: unexpected column '备注'"):
        SOURCE.parse(csv_bytes([[*HEADER, "备注"], [*ROW, "x"]]), "f.csv")


def test_undecodable_file() -> None:
    with pytest.raises(SourceFileError, match="not UTF-8 or GBK"):
        SOURCE.parse(b"\xff\xfe\x00\x81\x30\x81", "f.csv")
