"""The partners a node relays to: name, keys, inbox URL and bearer token (``relay_partners`` in cases.db).

A partner's key (``intake-partner1:...``) carries its X25519 key, which envelopes are sealed to, and
its receipt key, which every delivery receipt must verify under. Adding and removing a partner is
in the hash-chained audit log (its name only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crypto import NodeKeys
from crypto.envelope import parse_partner_key
from intake import audit, clock
from intake.errors import InvalidInput
from intake.store.cases import CasesStore

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    box_key: bytes
    receipt_key: bytes
    url: str
    token: str
    added_at: str

    @classmethod
    def from_row(cls, row: Any) -> Partner:
        """A row of ``SELECT id, name, box_key, receipt_key, url, token, added_at FROM relay_partners``."""
        return cls(int(row[0]), row[1], bytes(row[2]), bytes(row[3]), row[4], row[5], row[6])


def check_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    if url.startswith("https://") or url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        return url.rstrip("/")
    raise InvalidInput("a partner's inbox URL must be https:// (http:// only on loopback)", fields={"url": "invalid"})


def record(conn: Any, keys: NodeKeys, action: str, case_id: int | None, detail: dict[str, Any]) -> None:
    """One relay step in the audit log, inside the caller's transaction (hashes and counts, never text)."""
    audit.record(conn, audit.audit_key(keys), user=keys.user, action=action, case_id=case_id, detail=detail)


class Partners:
    """The registry: who may receive this node's summaries."""

    def __init__(self, store: CasesStore, keys: NodeKeys) -> None:
        self.store = store
        self.keys = keys

    def add(self, name: str, key: str, *, url: str = "", token: str = "") -> Partner:
        name = name.strip()
        if not NAME.match(name):
            raise InvalidInput(
                "a partner's name: letters, digits, space . _ - (at most 64)", fields={"name": "invalid"}
            )
        try:
            box, receipts = parse_partner_key(key.strip())
        except ValueError as exc:
            raise InvalidInput(f"partner key: {exc}", fields={"key": "invalid"}) from None
        url = check_url(url)
        if token and not re.fullmatch(r"[A-Za-z0-9_\-.~+/=]{16,200}", token.strip()):
            raise InvalidInput("the partner's token does not look like one", fields={"token": "invalid"})
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM relay_partners WHERE name = ? AND removed_at = ''", (name,)).fetchone():
                raise InvalidInput(f"a partner named {name!r} exists; remove it first", fields={"name": "taken"})
            conn.execute("DELETE FROM relay_partners WHERE name = ? AND removed_at != ''", (name,))
            if conn.execute(
                "SELECT 1 FROM relay_partners WHERE box_key = ? AND removed_at = ''", (bytes(box),)
            ).fetchone():
                raise InvalidInput("this partner key is registered already", fields={"key": "taken"})
            cur = conn.execute(
                "INSERT INTO relay_partners (name, box_key, receipt_key, url, token, added_at, added_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, bytes(box), bytes(receipts), url, token.strip(), clock.now_s().isoformat(), self.keys.user),
            )
            record(conn, self.keys, "relay_partner_add", None, {"partner": name})
        return self.get(int(cur.lastrowid or 0))

    def get(self, partner_id: int) -> Partner:
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT id, name, box_key, receipt_key, url, token, added_at FROM relay_partners WHERE id = ?",
                (partner_id,),
            ).fetchone()
        if row is None:
            raise InvalidInput("no such partner", fields={"partner": "unknown"})
        return Partner.from_row(row)

    def all(self) -> list[Partner]:
        """Every partner not removed, by name."""
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT id, name, box_key, receipt_key, url, token, added_at FROM relay_partners "
                "WHERE removed_at = '' ORDER BY name"
            ).fetchall()
        return [Partner.from_row(r) for r in rows]

    def remove(self, name: str) -> int:
        """Forget a partner; envelopes not yet delivered to it are cancelled. Returns how many."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT id FROM relay_partners WHERE name = ? AND removed_at = ''", (name,)).fetchone()
            if row is None:
                raise InvalidInput(f"no partner named {name!r}", fields={"name": "unknown"})
            now = clock.now_s().isoformat()
            conn.execute("UPDATE relay_partners SET removed_at = ?, token = '' WHERE id = ?", (now, row[0]))
            # The outbox's own rows, cancelled here in the same transaction (relay.outbox builds on this module).
            cur = conn.execute(
                "UPDATE relay_outbox SET cancelled = ? WHERE partner_id = ? AND delivered_at = '' AND cancelled = ''",
                ("partner removed", row[0]),
            )
            record(conn, self.keys, "relay_partner_remove", None, {"partner": name, "cancelled": cur.rowcount})
        return int(cur.rowcount)
