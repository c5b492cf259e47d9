"""Fingerprints two people can read out over the phone."""

from __future__ import annotations

import re

import nacl.utils
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import fingerprint

SHAPE = re.compile(r"^\d{5}( \d{5}){11}$")
KEY = bytes(range(32))


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.sampled_from(["x25519", "ed25519"]))
def test_twelve_groups_of_five_digits(key: bytes, kind: str) -> None:
    fp = fingerprint(key, kind=kind)
    assert SHAPE.match(fp), fp
    assert fp == fingerprint(key, kind=kind)


def test_differs_by_kind() -> None:
    assert fingerprint(KEY, kind="x25519") != fingerprint(KEY, kind="ed25519")


def test_differs_by_key() -> None:
    other = bytearray(KEY)
    other[-1] ^= 1
    assert fingerprint(KEY, kind="x25519") != fingerprint(bytes(other), kind="x25519")


def test_random_keys_do_not_collide() -> None:
    prints = {fingerprint(nacl.utils.random(32), kind="x25519") for _ in range(200)}
    assert len(prints) == 200


def test_groups_use_the_whole_digit_range() -> None:
    # Leading zeros are kept and every group is not stuck in a narrow range.
    groups = [int(g) for _ in range(100) for g in fingerprint(nacl.utils.random(32), kind="x25519").split()]
    assert min(groups) < 10000
    assert max(groups) > 90000
