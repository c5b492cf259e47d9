"""What the OpenAPI document says beyond the models: patterns, headers, and their reasons.

A client (or a fuzzer such as schemathesis) reads these to build requests the API accepts: a
description that is not blank, a receipt code as a worker may type it, an ``Idempotency-Key``, and
when to try again after a 429.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from intake.receipts import parse_receipt

NOT_BLANK = r"\S"  # JSON-schema patterns are unanchored: at least one character that is not a space
RECEIPT_OUT = r"^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}$"
IDEMPOTENCY_KEY_MIN, IDEMPOTENCY_KEY_MAX = 16, 255
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]+$"  # visible ASCII, no spaces

# Categories a character that NFKC turns into a digit or a separator belongs to (digits of every
# script, circled and superscript digits, spaces, dashes, dots, direction marks, the long vowel
# mark a Japanese keyboard gives for a dash). Only these are tried against the parser below.
_CANDIDATES = frozenset({"Nd", "No", "Nl", "Zs", "Pd", "Pc", "Po", "Cf", "Lm"})


def _ranges(codepoints: list[int]) -> str:
    spans: list[list[int]] = []
    for cp in codepoints:
        if spans and spans[-1][1] == cp - 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in spans)


@functools.cache
def typed_receipt_pattern() -> str:
    """A pattern for a receipt code as a worker may type it: 16 digits of any script, with
    separators anywhere. Derived from :func:`intake.receipts.parse_receipt` itself (each character
    tried as a digit and as a separator), so the document cannot drift from what is accepted.

    Only the Basic Multilingual Plane, written as ``\\uXXXX`` escapes: that reads the same in
    Python's ``re`` and in ECMA-262 (which JSON Schema names) with or without its ``u`` flag. The
    pattern says which strings can be codes; whether one is a code this node could have handed out
    (its check digit) is for the server to say.
    """
    zeros = "0" * 8
    digits, separators = [], []
    for cp in range(0x10000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or unicodedata.category(ch) not in _CANDIDATES:
            continue
        if parse_receipt(zeros + ch + zeros) is not None:
            separators.append(cp)
        elif parse_receipt(ch + "0" * 15) is not None:
            digits.append(cp)
    sep, digit = f"[{_ranges(separators)}]", f"[{_ranges(digits)}]"
    return f"^{sep}*(?:{digit}{sep}*){{16}}$"


def idempotency_key_parameter(what: str) -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": (
            f"Send the same {what} again with the same key (a timeout, a retry) and it takes effect once: "
            "the answer is the first one, with the same status. The same key with a different body gets "
            "422 `idempotency_key_reused` and nothing is stored. Use a new random key (a UUID) per request: "
            "keys are remembered for 24 hours, and only as a keyed hash."
        ),
        "schema": {
            "type": "string",
            "minLength": IDEMPOTENCY_KEY_MIN,
            "maxLength": IDEMPOTENCY_KEY_MAX,
            "pattern": IDEMPOTENCY_KEY_PATTERN,
        },
    }


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until a request from this client will be accepted again.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 60},
    }
}


FILES_NOTE = (
    "Files go under `attachments` (up to the node's `max_files`, default 5, of `max_file_bytes`, default "
    "10 MB each): photos are re-encoded without their metadata (EXIF, GPS), PDFs and office documents kept "
    "as sent; anything else is refused (415 a type not taken, 413 over a cap, 422 damaged or empty) and "
    "nothing is stored. File names are never kept."
)


def multipart_schema(json_schema: dict[str, Any]) -> dict[str, Any]:
    """The ``multipart/form-data`` twin of a JSON body schema: the same fields as form fields (every
    value a string: consent as "0", "1" or "2", contact_ok as "true" or "false", a list as the field
    repeated) plus the files under ``attachments``."""
    properties: dict[str, Any] = {}
    for name, schema in json_schema.get("properties", {}).items():
        if name == "consent":
            properties[name] = {"type": "string", "enum": ["0", "1", "2"], "description": schema.get("description", "")}
        elif name == "contact_ok":
            properties[name] = {"type": "string", "enum": ["true", "false"]}
        elif schema.get("type") == "array":
            properties[name] = {k: v for k, v in schema.items() if k != "default"}
        else:
            kept = ("type", "minLength", "maxLength", "pattern", "description", "examples", "enum")
            properties[name] = {k: v for k, v in schema.items() if k in kept} or {"type": "string"}
            if "anyOf" in schema:  # "str | None": a form field is sent or left out
                properties[name]["type"] = "string"
    properties["attachments"] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "description": FILES_NOTE,
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(json_schema.get("required", [])),
        "additionalProperties": False,
    }


MULTIPART_ENCODING = {"attachments": {"contentType": "image/*, application/pdf, application/octet-stream"}}
