"""A wrapper that keeps secrets out of reprs, tracebacks and logs (after Starlette's ``Secret``)."""

from __future__ import annotations

import hmac
from typing import Any, Generic, TypeVar

T = TypeVar("T", str, bytes)


class Secret(Generic[T]):
    """Holds a secret value; ``repr`` and ``str`` show ``Secret('****')``.

    Use :meth:`reveal` at the one place the value is really needed.
    """

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value: T = value

    def reveal(self) -> T:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        a, b = self._value, other._value
        if isinstance(a, str) and isinstance(b, str):
            return hmac.compare_digest(a.encode(), b.encode())
        if isinstance(a, bytes) and isinstance(b, bytes):
            return hmac.compare_digest(a, b)
        return False

    def __hash__(self) -> int:
        raise TypeError("Secret is not hashable")

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("Secret must not be pickled")
