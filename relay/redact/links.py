"""E-mail addresses, links and ``@handles``."""

from __future__ import annotations

import re

from relay.redact.core import _P_CUE, _P_EMAIL, _P_URL, _Cand

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9][A-Za-z0-9\-]{0,62}(?:\.[A-Za-z0-9][A-Za-z0-9\-]{0,62})+"
    r"|(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+\s*[\[({]\s*(?i:at|@)\s*[\])}]\s*[A-Za-z0-9\-]+"
    r"(?:\s*(?:[\[({]\s*(?i:dot)\s*[\])}]|\.)\s*[A-Za-z0-9\-]+)+"
)
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_TLD = (
    "com|net|org|info|biz|io|app|dev|xyz|top|site|online|vip|club|shop|link|live|news|blog|cn|hk|tw|mo|vn|th|"
    "ph|np|bd|mm|kh|pk|mx|cz|pl|ua|fr|ke|tz|cd|uk|ru|jp|kr|sg|au|nz|br|ar|cl|pe|gov|edu|ly|gl|cc|tk|ws|eu|asia|tv"
)
_TLD_WORDLIKE = "in|me|to|id|my|co|us|be|it|at|no|so|do|am|la|de|es|ca|is|ai|ac|ng|lk|ae|se|sk|ro|nl|ch|pt|tr"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_URL = re.compile(
    rf"(?i:(?:https?|ftp)://|www\.){_URL_CHARS}+"
    rf"|(?<![A-Za-z0-9@.\-_/])(?:{_LABEL}\.)+(?:(?i:{_TLD})(?![A-Za-z0-9\-])"
    rf"|(?i:com|co|org|net|gov|edu|ac)\.(?i:{_TLD_WORDLIKE})(?![A-Za-z0-9\-])|(?i:{_TLD_WORDLIKE})(?=/))"
    rf"(?:[/?#]{_URL_CHARS}*)?"
)


def _trim_url(s: str) -> int:
    """How much of a matched link to keep: no trailing punctuation, no unbalanced closing bracket."""
    end = len(s)
    while end and s[end - 1] in ".,;:!?'\")]}":
        if s[end - 1] == ")" and s[:end].count("(") >= s[:end].count(")"):
            break
        end -= 1
    return end


_HANDLE = re.compile(r"(?<![A-Za-z0-9._%+\-@/])@[A-Za-z0-9_](?:[A-Za-z0-9_]|\.(?=[A-Za-z0-9_])){2,30}")


def _links(norm: str) -> list[_Cand]:
    """E-mail addresses, links and ``@handles``."""
    found: list[_Cand] = [(m.start(), m.end(), _P_EMAIL, "email") for m in _EMAIL.finditer(norm)]
    for m in _URL.finditer(norm):
        end = m.start() + _trim_url(m.group())
        if end - m.start() > 4:
            found.append((m.start(), end, _P_URL, "url"))
    found.extend((m.start(), m.end(), _P_CUE, "chat") for m in _HANDLE.finditer(norm))
    return found
