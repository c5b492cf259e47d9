"""Secret: never shown, never pickled, compared in constant time."""

from __future__ import annotations

import copy
import pickle

import pytest

from crypto import Secret


@pytest.mark.parametrize("value", ["hunter2-passphrase", b"\x01master-key-bytes"])
def test_repr_and_str_hide_the_value(value: str | bytes) -> None:
    s = Secret(value)
    assert repr(s) == "Secret('****')"
    assert str(s) == "Secret('****')"
    assert f"{s}" == "Secret('****')"
    assert "hunter2" not in repr([s, {"k": s}])
    assert "master-key" not in repr([s, {"k": s}])
    assert s.reveal() == value


@pytest.mark.parametrize("value", ["passphrase", b"key"])
def test_not_picklable(value: str | bytes) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="pickled"):
            pickle.dumps(Secret(value), protocol=protocol)
    with pytest.raises(TypeError):
        copy.copy(Secret(value))


def test_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(Secret(b"k"))
    with pytest.raises(TypeError):
        {Secret("a")}


def test_equality() -> None:
    assert Secret(b"abc") == Secret(b"abc")
    assert Secret(b"abc") != Secret(b"abd")
    assert Secret("abc") == Secret("abc")
    assert Secret("abc") != Secret(b"abc")
    assert Secret("abc") != "abc"


def test_no_attribute_leak() -> None:
    s = Secret("value")
    assert not hasattr(s, "__dict__")
    with pytest.raises(AttributeError):
        s.extra = 1  # type: ignore[attr-defined]
