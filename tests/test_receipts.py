"""Receipt codes: what a worker types is accepted, anything else is not; stored only as a keyed hash."""

from __future__ import annotations

import re

import nacl.utils
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.domain import ReceiptCode
from intake.receipts import DIGITS, ReceiptHasher, format_receipt, new_receipt, parse_receipt

FAST = settings(max_examples=50, deadline=None)
CODE = ReceiptCode("1234567890123456")
codes = st.text(alphabet="0123456789", min_size=16, max_size=16).map(ReceiptCode)


def test_new_receipt_is_sixteen_digits() -> None:
    made = [new_receipt() for _ in range(2000)]
    assert DIGITS == 16
    assert all(re.fullmatch(r"[0-9]{16}", c) for c in made)
    assert len(set(made)) == len(made)
    # every position uses every digit: not a counter, not a narrow range
    for position in (0, 7, 15):
        assert {c[position] for c in made} == set("0123456789")


def test_format_is_four_groups_of_four() -> None:
    assert format_receipt(CODE) == "1234-5678-9012-3456"
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{4}", format_receipt(new_receipt()))


@FAST
@given(codes)
def test_format_then_parse_round_trip(code: ReceiptCode) -> None:
    assert parse_receipt(format_receipt(code)) == code
    assert parse_receipt(code) == code


@pytest.mark.parametrize(
    "typed",
    [
        "1234567890123456",
        "1234-5678-9012-3456",
        "1234 5678 9012 3456",
        "  1234 5678 9012 3456  ",
        "1234-5678 9012_3456",
        "1234.5678.9012.3456",
        "１２３４５６７８９０１２３４５６",  # full-width digits from a Chinese keyboard
        "１２３４－５６７８－９０１２－３４５６",  # full-width hyphen-minus
        "１２３４　５６７８　９０１２　３４５６",  # ideographic space
        "1234\u00a05678\u00a09012\u00a03456",  # no-break space
        "1234\u20135678\u20149012\u22123456",  # en dash, em dash, minus sign
        "1234ー5678ー9012ー3456",  # katakana long vowel mark, typed as a dash on a phone
    ],
)
def test_parse_accepts_what_workers_type(typed: str) -> None:
    assert parse_receipt(typed) == CODE


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "    ",
        "123456789012345",  # 15 digits
        "12345678901234567",  # 17 digits
        "1234-5678-9012-345",
        "1234-5678-9012-34567",
        "1234-5678-9012-345a",
        "abcd-efgh-ijkl-mnop",
        "O234567890123456",  # letter O for zero
        "1234/5678/9012/3456",
        "1234+5678+9012+3456",
        "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦",  # Arabic-Indic digits are not normalised to ASCII
        "1234 5678 9012 3456" + " " * 50,  # too long to be a typed code
        "-" * 60 + "1234567890123456",
        "1" * 10_000,
    ],
)
def test_parse_rejects(typed: str) -> None:
    assert parse_receipt(typed) is None


@pytest.mark.parametrize("value", [None, 1234567890123456, b"1234567890123456", ["1234567890123456"]])
def test_parse_rejects_non_text(value: object) -> None:
    assert parse_receipt(value) is None  # type: ignore[arg-type]


@FAST
@given(st.text(max_size=80))
def test_parse_returns_sixteen_ascii_digits_or_none(text: str) -> None:
    parsed = parse_receipt(text)
    assert parsed is None or re.fullmatch(r"[0-9]{16}", parsed)


@FAST
@given(st.text(alphabet="0123456789", min_size=0, max_size=30).filter(lambda t: len(t) != 16))
def test_parse_needs_exactly_sixteen_digits(digits: str) -> None:
    assert parse_receipt(digits) is None


def test_hasher_deterministic_per_key() -> None:
    key = nacl.utils.random(32)
    a, b = ReceiptHasher(key), ReceiptHasher(bytes(key))
    assert a.hash(CODE) == a.hash(CODE) == b.hash(CODE)
    assert len(a.hash(CODE)) == 32


def test_hasher_differs_across_keys_and_codes() -> None:
    h1, h2 = ReceiptHasher(nacl.utils.random(32)), ReceiptHasher(nacl.utils.random(32))
    assert h1.hash(CODE) != h2.hash(CODE)
    assert h1.hash(CODE) != h1.hash(ReceiptCode("1234567890123457"))
    hashes = {h1.hash(new_receipt()) for _ in range(20)}
    assert len(hashes) == 20


def test_hash_does_not_contain_the_code() -> None:
    digest = ReceiptHasher(nacl.utils.random(32)).hash(CODE)
    assert CODE.encode() not in digest
    assert CODE not in digest.hex()


def test_hasher_refuses_a_short_key() -> None:
    with pytest.raises(ValueError, match="too short"):
        ReceiptHasher(b"k" * 15)
