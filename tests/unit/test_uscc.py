import random

import pytest

from ibrain import uscc


def test_known_valid_code() -> None:
    assert uscc.is_valid("91210100MA0QC3L40K")
    assert uscc.invalid_reason("91210100MA0QC3L40K") is None


def test_every_single_character_change_is_detected() -> None:
    code = "91210100MA0QC3L40K"
    for position in range(18):
        for ch in uscc.ALPHABET:
            if ch == code[position]:
                continue
            changed = code[:position] + ch + code[position + 1 :]
            assert not uscc.is_valid(changed), changed


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "empty"),
        ("91210100MA0QC3L40", "length 17, expected 18"),
        ("91210100MA0QC3L4OK", "characters outside GB 32100 alphabet: O"),
        ("91210100MA0QC3L40J", "check digit J, expected K"),
    ],
)
def test_invalid_reasons(code: str, reason: str) -> None:
    assert not uscc.is_valid(code)
    assert uscc.invalid_reason(code) == reason


def test_check_char_generates_valid_codes() -> None:
    rng = random.Random(7)
    for _ in range(200):
        body = "91" + "210102" + "".join(rng.choice(uscc.ALPHABET) for _ in range(9))
        assert uscc.is_valid(body + uscc.check_char(body))


def test_authority_plausibility_accepts_other_provinces_only_by_prefix() -> None:
    assert uscc.authority_plausible("91110108MA01ABCD1X")  # Beijing: plausible, not Liaoning
    assert not uscc.authority_plausible("91990100MA0QC3L40K")
