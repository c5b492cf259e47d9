"""One fast regular expression out of many languages' urgent patterns (issue 12, item 9).

Python's `re` tries the alternatives of a pattern one by one at every position, and skips one at
once only when it begins with a plain character that is not the one in the text. A plain join of
the 20 languages' ~1,500 alternatives, most of them beginning with a group, made a 500-character
report cost ~9 ms. So the alternatives are unfolded until each begins with a character
("(fire|emergency) exit" gives "fire exit" and "emergency exit") and arranged as a tree of shared
beginnings, which `re` walks one character at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from intake.triage_rules import KINDS, Lang

_SPECIAL = frozenset("\\()[]{}|?*+.^$~")
_QUANTIFIER = frozenset("?*+{")
_NO_CAPTURE = re.compile(r"(?<!\\)\((?!\?)")
_LIMIT = 64  # unfold a pattern into at most this many alternatives, else keep it whole


def _scan(pattern: str) -> list[int]:
    """Depth in parentheses before each character, -1 inside a character class or an escape."""
    depths, depth, i, in_class = [], 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            depths += [-1, -1]
            i += 2
            continue
        if in_class or c == "[":
            in_class = c != "]"
            depths.append(-1)
        else:
            depth += c == "("
            depths.append(depth)
            depth -= c == ")"
        i += 1
    return depths


def _split(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern."""
    depths = _scan(pattern)
    cuts = [i for i, c in enumerate(pattern) if c == "|" and depths[i] == 0]
    return [pattern[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, len(pattern)], strict=True)]


def _unfold(alternative: str) -> list[str]:
    """The alternative as several that begin with a character, where a leading group allows it."""
    if not alternative.startswith("(") or alternative.startswith(("(?=", "(?!", "(?<")):
        return [alternative]
    depths = _scan(alternative)
    end = next(i for i in range(1, len(alternative)) if alternative[i] == ")" and depths[i] == 1)
    inner = alternative[3:end] if alternative.startswith("(?:") else alternative[1:end]
    rest = alternative[end + 1 :]
    if rest[:1] in {"*", "+", "{"}:
        return [alternative]
    heads = _split(inner)
    if rest[:1] == "?":
        rest, heads = rest[1:], [*heads, ""]
    unfolded: list[str] = []
    for head in heads:
        unfolded += _unfold(head + rest)
        if len(unfolded) > _LIMIT:
            return [alternative]
    return unfolded


def _tree(alternatives: list[str]) -> str:
    """The alternatives arranged by their first characters: "ab|ac|d" becomes "a(?:b|c)|d"."""
    branches: dict[str, list[str]] = {}
    whole: list[str] = []
    for alt in alternatives:
        first = alt[:1]
        if first and first not in _SPECIAL and alt[1:2] not in _QUANTIFIER:
            branches.setdefault(first, []).append(alt[1:])
        else:
            whole.append(alt)
    parts = [first + (tails[0] if len(tails) == 1 else f"(?:{_tree(tails)})") for first, tails in branches.items()]
    return "|".join(parts + whole)


def compile_family(
    langs: Iterable[Lang],
    *,
    fold_pattern: Callable[[str], str],
    word_start: str,
    window: str,
    kinds: Iterable[str] = KINDS,
) -> re.Pattern[str]:
    """One regular expression for these languages' patterns of these kinds; "~" becomes the window."""
    wanted, langs = set(kinds), list(langs)

    def alternatives(family: str) -> list[str]:
        patterns = [fold_pattern(p) for lang in langs for k, p in getattr(lang, family).items() if k in wanted]
        # Groups need not capture; a group that captures begins with an opcode `re` cannot skip at once.
        return [u for p in patterns for alt in _split(_NO_CAPTURE.sub("(?:", p)) for u in _unfold(alt)]

    rules, exact = alternatives("rules"), alternatives("exact")
    parts = [f"{word_start}(?:{_tree(rules)})"] if rules else []
    parts += [_tree(exact)] if exact else []
    return re.compile("|".join(parts or ["(?!)"]).replace("~", window))
