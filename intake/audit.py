"""The audit log: who viewed or changed which case, when, in a keyed hash chain inside cases.db.

Each entry ``(id, at, user, action, case_id, detail, prev_hash)`` is encoded canonically (JSON,
sorted keys, ``ensure_ascii=False``, no spaces, ``prev_hash`` as hex) and its ``hash`` is
HMAC-SHA256 over that encoding, under a key derived from the node's master secret
(``keys.key("intake/v1/audit")``, see :func:`audit_key`). ``prev_hash`` is the previous entry's
hash (32 zero bytes for entry 1), and ids run 1, 2, 3, ... without gaps. So:

- editing any field of an entry breaks that entry's hash (``hash does not match its content``);
- deleting an entry leaves a gap in the ids, and renumbering to hide it breaks the links;
- swapping or reordering entries breaks the links and the hashes (the id is hashed);
- someone who holds only the cases-store key (a copied ``cases.db`` plus its key) cannot forge or
  rewrite entries, not even the whole chain from the start: that needs the MAC key, which only an
  unlocked master gives. A plain SHA-256 "repair" is detected like any other edit.

**What a chain cannot show:** a *cut-off tail*. Deleting the newest entries leaves a shorter
chain that verifies. Note the newest entry's number and hash (``intake audit verify`` prints them)
somewhere else, e.g. with each backup, to detect that later. Anyone holding the master (any desk
user's passphrase) can also rewrite the log; the chain protects against the store key alone, and
makes accidental or partial edits visible, not against a caseworker gone rogue with the passphrase.

**No personal data in entries.** ``detail`` holds field names, status codes, ids and counts
only, never complaint text, phone numbers, names or receipt codes: the log is kept forever and
outlives crypto-shredded contacts. :func:`record` enforces a conservative shape (short
identifier-like strings, small integers) to catch mistakes; it is a guard, not a guarantee.

The functions work on a SQLCipher connection to cases.db; :class:`AuditLog` is the convenience
wrapper around a :class:`~intake.store.cases.CasesStore` (its connection and lock).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from intake import clock
from intake.store.db import Connection

if TYPE_CHECKING:
    from crypto import NodeKeys
    from intake.store.cases import CasesStore

AUDIT_LABEL = "intake/v1/audit"
HASH_BYTES = 32
GENESIS = bytes(HASH_BYTES)

# What may go into an entry. Identifier-like tokens only: no spaces, nothing outside ASCII, so free
# text (in any language) cannot slip in; digit runs that could be a phone number or a receipt code
# are refused too.
_TOKEN = re.compile(r"^[A-Za-z0-9_.:+-]{0,64}$")
_KEY = re.compile(r"^[a-z_][a-z0-9_]{0,31}$")
_ACTION = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_NUMBERISH = re.compile(r"^[0-9+\-. :]*$")
MAX_DIGITS = 8  # an ISO date has 8; a phone number or receipt code has more
MAX_INT = 10**9
MAX_LIST = 64


class UnsafeDetail(ValueError):
    """An audit entry was asked to hold something that looks like free text or personal data."""


class AuditOutsideTransaction(RuntimeError):
    """:func:`record` needs the caller's write transaction (``BEGIN IMMEDIATE``)."""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    user: str
    action: str
    case_id: int | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`verify`.

    ``entries``: rows in the log. ``first_bad``: number of the first entry that is missing or does
    not verify (None when ``ok``). ``problem``: ``"missing"`` (a gap in the numbers),
    ``"link"`` (its previous hash is not the hash of the entry before it), ``"content"`` (its hash
    does not match its content) or None. ``previous``: number of the entry before it in the log.
    ``head``: hash of the newest entry (zeros for an empty log), to note down elsewhere.
    """

    ok: bool
    entries: int
    first_bad: int | None
    reason: str
    problem: str | None = None
    previous: int | None = None
    head: bytes = GENESIS


def audit_key(keys: NodeKeys) -> bytes:
    """The MAC key of the chain, derived from the node master."""
    return keys.key(AUDIT_LABEL)


# -- the chain -------------------------------------------------------------------------------------------
def canonical(
    *, id: int, at: str, user: str, action: str, case_id: int | None, detail: Mapping[str, Any], prev_hash: bytes
) -> bytes:
    """The bytes an entry's hash covers."""
    doc = {
        "id": id,
        "at": at,
        "user": user,
        "action": action,
        "case_id": case_id,
        "detail": detail,
        "prev_hash": prev_hash.hex(),
    }
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(key: bytes, **fields: Any) -> bytes:
    """HMAC-SHA256 of an entry's canonical encoding under the audit key."""
    if len(key) != HASH_BYTES:
        raise ValueError("the audit key is 32 bytes")
    return hmac.new(key, canonical(**fields), hashlib.sha256).digest()


def _detail_text(detail: Mapping[str, Any]) -> str:
    return json.dumps(dict(detail), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def check_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse detail values that could carry text a worker wrote or identify them."""
    if not isinstance(detail, Mapping):
        raise UnsafeDetail("detail must be a mapping")
    checked: dict[str, Any] = {}
    for key, value in detail.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise UnsafeDetail(f"detail key {key!r} is not a short lower-case identifier")
        if isinstance(value, list | tuple):
            if len(value) > MAX_LIST:
                raise UnsafeDetail(f"detail {key}: more than {MAX_LIST} items")
            checked[key] = [_check_scalar(key, v) for v in value]
        else:
            checked[key] = _check_scalar(key, value)
    return checked


def _check_scalar(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= MAX_INT:
            raise UnsafeDetail(f"detail {key}: numbers this large are not ids or counts")
        return value
    if isinstance(value, str):
        if not _TOKEN.match(value):
            raise UnsafeDetail(f"detail {key}: only short identifier-like values (no spaces, ASCII)")
        if _NUMBERISH.match(value) and sum(c.isdigit() for c in value) > MAX_DIGITS:
            raise UnsafeDetail(f"detail {key}: looks like a phone number or receipt code")
        return value
    raise UnsafeDetail(f"detail {key}: {type(value).__name__} values are not allowed")


def _check_token(what: str, value: str, pattern: re.Pattern[str]) -> None:
    if not isinstance(value, str) or not value or not pattern.match(value):
        raise UnsafeDetail(f"{what} {value!r} is not a short identifier")


def now() -> str:
    return clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record(
    conn: Connection,
    key: bytes,
    *,
    user: str,
    action: str,
    case_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one entry inside the caller's write transaction; return its number.

    Call it in the same transaction as the change it records (``BEGIN IMMEDIATE`` ... ``COMMIT``),
    so that the change and its entry are committed together or not at all, and so that no other
    writer can append between reading the newest entry and writing this one.
    ``action`` is a dotted code (``case.view``, ``case.status``, ...); ``detail`` holds field
    names, status codes and ids only (see :func:`check_detail`).
    """
    if not conn.in_transaction:
        raise AuditOutsideTransaction("audit.record needs the caller's write transaction (BEGIN IMMEDIATE)")
    _check_token("user", user, _TOKEN)
    _check_token("action", action, _ACTION)
    if case_id is not None and (isinstance(case_id, bool) or not isinstance(case_id, int)):
        raise UnsafeDetail("case_id must be an integer")
    clean = check_detail(detail or {})
    when = (at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")) if at else now()
    row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    number, prev = (1, GENESIS) if row is None else (int(row[0]) + 1, bytes(row[1]))
    digest = entry_hash(
        key, id=number, at=when, user=user, action=action, case_id=case_id, detail=clean, prev_hash=prev
    )
    conn.execute(
        "INSERT INTO audit (id, at, user, action, case_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (number, when, user, action, case_id, _detail_text(clean), prev, digest),
    )
    return number


def verify(conn: Connection, key: bytes) -> VerifyResult:
    """Check the whole chain, oldest first, and report the first entry that is missing or altered.

    Streams the rows, so it works on logs of any length. A cut-off tail is not detected (see the
    module docstring).
    """
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # one snapshot for the count and the rows, whoever else writes
    try:
        return _verify(conn, key)
    finally:
        if own:
            conn.execute("COMMIT")


def _verify(conn: Connection, key: bytes) -> VerifyResult:
    total = int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])
    rows = conn.execute("SELECT id, at, user, action, case_id, detail, prev_hash, hash FROM audit ORDER BY id")
    prev_id, prev_hash = 0, GENESIS
    try:
        for row in rows:
            bad = _problem(key, row, prev_id, prev_hash)
            if bad is not None:
                number, problem, reason = bad
                return VerifyResult(False, total, number, reason, problem, prev_id or None, prev_hash)
            prev_id, prev_hash = row[0], bytes(row[7])
    finally:
        rows.close()
    return VerifyResult(True, total, None, f"intact: {total} entries", None, None, prev_hash)


def _problem(key: bytes, row: Sequence[Any], prev_id: int, prev_hash: bytes) -> tuple[int, str, str] | None:
    """Why ``row`` does not follow entry ``prev_id`` (hash ``prev_hash``), as (number of the first
    bad entry, problem, reason); None when it does."""
    number = row[0]
    if number != prev_id + 1:
        jump = f"jumps from entry {prev_id} to {number}" if prev_id else f"starts at entry {number}"
        return prev_id + 1, "missing", f"entry {prev_id + 1} is missing (the log {jump})"
    stored_prev = row[6]
    if not isinstance(stored_prev, bytes) or not hmac.compare_digest(stored_prev, prev_hash):
        link = f"does not match entry {prev_id}" if prev_id else "is not the start of a chain"
        return number, "link", f"entry {number}: previous hash {link}"
    if not _content_ok(key, row):
        return number, "content", f"entry {number}: hash does not match its content"
    return None


def _content_ok(key: bytes, row: Sequence[Any]) -> bool:
    number, at, user, action, case_id, detail_text, prev, stored = row
    if not (
        isinstance(at, str)
        and isinstance(user, str)
        and isinstance(action, str)
        and (case_id is None or isinstance(case_id, int))
        and isinstance(detail_text, str)
        and isinstance(stored, bytes)
        and len(stored) == HASH_BYTES
    ):
        return False
    try:
        detail = json.loads(detail_text)
    except ValueError:
        return False
    # The stored text must be exactly the canonical form: no edit hides in spacing or key order.
    if not isinstance(detail, dict) or _detail_text(detail) != detail_text:
        return False
    expected = entry_hash(
        key, id=number, at=at, user=user, action=action, case_id=case_id, detail=detail, prev_hash=prev
    )
    return hmac.compare_digest(expected, stored)


def entries(conn: Connection, *, case_id: int | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Entries, newest first; only one case's with ``case_id``. Does not verify (see :func:`verify`)."""
    sql = "SELECT id, at, user, action, case_id, detail FROM audit"
    params: list[Any] = []
    if case_id is not None:
        sql += " WHERE case_id = ?"
        params.append(case_id)
    sql += " ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    out = []
    for number, at, user, action, cid, detail in conn.execute(sql, params).fetchall():
        try:
            parsed = json.loads(detail)
        except ValueError:
            parsed = {}
        out.append(
            AuditEntry(int(number), str(at), str(user), str(action), cid, parsed if isinstance(parsed, dict) else {})
        )
    return out


# -- convenience around a CasesStore ----------------------------------------------------------------
class AuditLog:
    """The audit log of an open :class:`CasesStore`, keyed from the unlocked node.

    ``record`` writes one entry in a transaction of its own (e.g. "case viewed"). To record a
    change together with the change itself, use :meth:`transaction`::

        with log.transaction() as conn:
            conn.execute("UPDATE cases SET status = ? WHERE id = ?", ("triaged", 7))
            log.append(conn, user="desk1", action="case.status", case_id=7, detail={"to": "triaged"})
    """

    def __init__(self, store: CasesStore, keys: NodeKeys | bytes) -> None:
        self._store = store
        self._key = keys if isinstance(keys, bytes) else audit_key(keys)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The store's connection in a write transaction (under its lock), committed on success."""
        with self._store.transaction() as conn:
            yield conn

    def append(
        self,
        conn: Connection,
        *,
        user: str,
        action: str,
        case_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """:func:`record` inside a :meth:`transaction`."""
        return record(conn, self._key, user=user, action=action, case_id=case_id, detail=detail)

    def record(
        self, *, user: str, action: str, case_id: int | None = None, detail: Mapping[str, Any] | None = None
    ) -> int:
        with self.transaction() as conn:
            return record(conn, self._key, user=user, action=action, case_id=case_id, detail=detail)

    def verify(self) -> VerifyResult:
        with self._store._lock:
            return verify(self._store._conn, self._key)

    def entries(self, *, case_id: int | None = None, limit: int | None = None) -> list[AuditEntry]:
        with self._store._lock:
            return entries(self._store._conn, case_id=case_id, limit=limit)
