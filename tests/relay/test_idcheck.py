"""Check digits of the identity numbers redaction looks for, against published sample numbers."""

from __future__ import annotations

import pytest

from relay import idcheck


def test_luhn() -> None:
    assert idcheck.luhn("4111111111111111") and idcheck.luhn("79927398713")
    assert not idcheck.luhn("4111111111111112") and not idcheck.luhn("79927398710")


def test_chinese_resident_id() -> None:
    assert idcheck.cn18("11010519491231002X") is True  # the standard's own sample
    assert idcheck.cn18("110105194912310021") is False  # right shape and date, wrong check digit
    assert idcheck.cn18("110105194913310021") is None  # month 13: not an ID at all
    assert idcheck.cn18("1101051949123100") is None


def test_hong_kong_and_taiwan() -> None:
    assert idcheck.hkid("A", "123456", "3") and not idcheck.hkid("A", "123456", "4")
    assert idcheck.taiwan_id("A", "123456789") and not idcheck.taiwan_id("A", "123456788")


@pytest.mark.parametrize(("yyyy", "mm", "dd", "ok"), [(2024, 2, 29, True), (2023, 2, 29, False), (2000, 2, 29, True),
                                                       (1900, 2, 29, False), (2026, 4, 31, False), (2026, 13, 1, False)])  # fmt: skip
def test_dates_inside_ids(yyyy: int, mm: int, dd: int, ok: bool) -> None:
    assert idcheck.valid_date(yyyy, mm, dd) is ok
