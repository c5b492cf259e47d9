"""Names: the case's own known names, names a worker introduced (my name is, 我叫, a title before
them) and names nobody introduced (:mod:`relay.namefind`), wherever they recur."""

from __future__ import annotations

import re
from collections.abc import Iterable

from relay import namefind
from relay.names import _introductions, _names
from relay.redact.core import _P_NAME, _Cand
from relay.text import _HAN, _Mapped

_HAN_START = re.compile(f"[{_HAN}]")


def _name_cands(text: str, norm: _Mapped, names: Iterable[str], unlisted_names: bool) -> list[_Cand]:
    """Every name in ``text`` (``norm``: its NFKC form), as spans of ``text``."""
    introduced = _introductions(norm.text)
    # Names found with no cue are removed where found; only Chinese ones are looked for again
    # elsewhere ("王小明 ... 小明"): folding a Latin one would find "lần" wherever "Lan" was.
    unlisted = namefind.find(norm.text) if unlisted_names else []
    introduced += [(a, b) for a, b in unlisted if _HAN_START.match(norm.text, a)]

    cands: list[_Cand] = []
    introduced_names: list[str] = []
    for a, b in introduced:
        start, end = norm.span(a, b)
        cands.append((start, end, _P_NAME, "name"))
        introduced_names.append(text[start:end])
    cands.extend((a, b, _P_NAME, "name") for a, b in _names(text, [*names, *introduced_names]))
    cands.extend((*norm.span(a, b), _P_NAME, "name") for a, b in unlisted)
    return cands
