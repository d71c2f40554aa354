"""Pieces of silver that need no engine: reference validity, name canonical form, ids."""

import datetime as dt

from ingest.reference import region_rows
from transforms.silver.resolution import enterprise_id_py
from transforms.silver.text import canonical_name_py


def valid_on(code: str, day: dt.date) -> dict | None:
    for row in region_rows():
        start = dt.date.fromisoformat(row["valid_from"])
        end = dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else dt.date.max
        if row["code"] == code and start <= day < end:
            return row
    return None


def test_region_codes_are_valid_by_date() -> None:
    assert valid_on("211121", dt.date(2015, 12, 31))["name"] == "大洼县"
    assert valid_on("211121", dt.date(2016, 1, 1)) is None
    assert valid_on("211104", dt.date(2016, 1, 1))["name"] == "大洼区"
    assert valid_on("211104", dt.date(2015, 6, 1)) is None
    old = next(r for r in region_rows() if r["code"] == "211121")
    assert old["successor_code"] == "211104" and old["city_code"] == "211100"
    # a rename keeps its code: two names, one at a time
    assert valid_on("210112", dt.date(2013, 1, 1))["name"] == "东陵区"
    assert valid_on("210112", dt.date(2024, 1, 1))["name"] == "浑南区"
    assert valid_on("210112", dt.date(2024, 1, 1))["successor_code"] is None
    codes = [(r["code"], r["valid_from"]) for r in region_rows()]
    assert len(codes) == len(set(codes)) == 115 + 7


def test_canonical_company_names() -> None:
    assert canonical_name_py("沈阳 华晟（机床）有限责任公司") == "沈阳华晟机床有限公司"
    assert canonical_name_py("沈阳华晟机床有限公司") == canonical_name_py(" 沈阳华晟(机床)有限公司 ")
    assert canonical_name_py("ＡＢＣ·科技有限公司") == "ABC科技有限公司"
    assert canonical_name_py("股份有限公司") == "股份有限公司"  # only 有限责任公司 is folded
    assert canonical_name_py("") is None and canonical_name_py(None) is None


def test_enterprise_ids_are_e_and_16_hex_of_the_codes_sha256() -> None:
    # worked out with coreutils: printf %s 91210100MA0QC3L40K | sha256sum → 768060e12f900327…
    assert enterprise_id_py("91210100MA0QC3L40K") == "E768060e12f900327"
    assert enterprise_id_py("91210102MA0ABCDE10") == "Eb1bfabb2739d549b"


def test_the_enterprise_master_counts_how_far_it_is_from_one_current_version() -> None:
    from transforms.silver.enterprise import MasterReport

    extra = MasterReport(enterprises=40, versions=55, current=43, version_before=3, version_after=4)
    assert (extra.current_version_errors, extra.one_current_version) == (3, False)
    missing = MasterReport(enterprises=40, versions=55, current=38, version_before=None, version_after=0)
    assert (missing.current_version_errors, missing.one_current_version) == (2, False)
    exact = MasterReport(enterprises=40, versions=55, current=40, version_before=4, version_after=4)
    assert (exact.current_version_errors, exact.one_current_version) == (0, True)
    assert exact.as_metadata()["changed"] is False
