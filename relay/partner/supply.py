"""The partner's supply-chain register: which parent company, brands and public buyers a factory has.

A summary carries what the sending group's factories register says (``FactoryRecord.parent_company``,
``brands``, ``public_buyers``), often nothing: a small labour group rarely knows who buys from a
factory, and two groups may say different things. The partner keeps its own register in partner.db
(``intake partner supply-chain ...``): where it names a relation of a factory (its parent, or its
brands, or its buyers), that wins over what the summaries say about the same relation; where it names
none, the summaries' union counts.

A factory is one factory across groups and the register when its Open Supply Hub id is the same, or,
without one, its name (case, width and spacing ignored) and country are (:func:`factory_key`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from intake import clock
from intake.errors import InvalidInput
from intake.store.factories import parse_csv
from relay.partner.store import PartnerStore

RELATIONS = ("parent", "brand", "buyer")
MAX_NAME = 300
_OSH_ID = re.compile(r"^[A-Z0-9]{4,32}$")
_COUNTRY = re.compile(r"^([A-Z]{2})?$")


def norm(text: str) -> str:
    """A name as compared: NFKC, case-folded, runs of spaces as one (``ACME  Ltd`` is ``acme ltd``)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def factory_key(name: str, country: str = "", osh_id: str = "") -> str:
    """One factory's identity: its Open Supply Hub id, else its normalised name and its country."""
    if osh_id.strip():
        return "osh:" + osh_id.strip().upper()
    return "name:" + norm(name) + "|" + country.strip().upper()


@dataclass(frozen=True)
class Entry:
    """One relation in the partner's register."""

    factory_key: str
    factory_name: str
    country: str
    osh_id: str
    relation: str  # parent | brand | buyer
    name: str
    added_at: str
    user: str


@dataclass
class Chain:
    """A factory's relations as the record uses them, and where each came from."""

    parent: str = ""
    brands: list[str] = field(default_factory=list)
    buyers: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)  # relation -> "partner" | "groups"


class BadCountries(InvalidInput):
    """Rows of a CSV whose country is not a two-letter code: nothing was imported."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        super().__init__("country codes", fields={"country": "invalid"})
        self.rows = rows


def _clean(text: str, what: str) -> str:
    value = " ".join(text.split())
    if not value or len(value) > MAX_NAME or any(unicodedata.category(c) == "Cc" for c in value):
        raise InvalidInput(f"{what}: from 1 to {MAX_NAME} characters, no control characters", fields={what: "invalid"})
    return value


def check_factory(name: str, country: str = "", osh_id: str = "") -> tuple[str, str, str]:
    """A factory as given on the command line, checked: (name, COUNTRY, OSH ID)."""
    country, osh_id = country.strip().upper(), osh_id.strip().upper()
    if not _COUNTRY.match(country):
        raise InvalidInput("country: a two-letter ISO 3166 code", fields={"country": "invalid"})
    if osh_id and not _OSH_ID.match(osh_id):
        raise InvalidInput("osh_id: an Open Supply Hub id (4 to 32 letters and digits)", fields={"osh_id": "invalid"})
    return _clean(name, "factory"), country, osh_id


def add(
    store: PartnerStore,
    factory: tuple[str, str, str],
    *,
    parent: str = "",
    brands: Sequence[str] = (),
    buyers: Sequence[str] = (),
    user: str,
) -> int:
    """Add relations of a factory (a new parent replaces the old: a factory has one); returns how many
    are new. ``factory`` is (name, country, Open Supply Hub id) as :func:`check_factory` returns it."""
    name, country, osh_id = check_factory(*factory)
    wanted = [("parent", _clean(parent, "parent"))] if parent.strip() else []
    wanted += [("brand", _clean(b, "brand")) for b in brands if b.strip()]
    wanted += [("buyer", _clean(b, "buyer")) for b in buyers if b.strip()]
    if not wanted:
        raise InvalidInput("name a parent company, a brand or a buyer", fields={"relation": "missing"})
    key, now = factory_key(name, country, osh_id), clock.now_s().isoformat()
    added = 0
    with store.transaction() as conn:
        for relation, value in wanted:
            if relation == "parent":
                conn.execute(
                    "DELETE FROM supply_chain WHERE factory_key = ? AND relation = 'parent' AND name != ?", (key, value)
                )
            cur = conn.execute(
                "INSERT OR IGNORE INTO supply_chain (factory_key, relation, name, factory_name, country, osh_id, "
                "added_at, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, relation, value, name, country, osh_id, now, user),
            )
            added += cur.rowcount
    return added


def remove(store: PartnerStore, factory: tuple[str, str, str], *, relation: str = "", name: str = "") -> int:
    """Remove a factory's relations: all of them, those of one ``relation``, or one named one. Returns
    how many went (0: nothing matched)."""
    if relation and relation not in RELATIONS:
        raise InvalidInput(f"relation: one of {', '.join(RELATIONS)}", fields={"relation": "invalid"})
    key = factory_key(*check_factory(*factory))
    with store.transaction() as conn:
        rows = conn.execute("SELECT relation, name FROM supply_chain WHERE factory_key = ?", (key,)).fetchall()
        gone = [
            (r, n) for r, n in rows if (not relation or r == relation) and (not name.strip() or norm(n) == norm(name))
        ]
        for r, n in gone:
            conn.execute("DELETE FROM supply_chain WHERE factory_key = ? AND relation = ? AND name = ?", (key, r, n))
    return len(gone)


def entries(store: PartnerStore) -> list[Entry]:
    """The whole register, by factory, relation and name."""
    with store.reading() as conn:
        rows = conn.execute(
            "SELECT factory_key, factory_name, country, osh_id, relation, name, added_at, user FROM supply_chain "
            "ORDER BY factory_name, factory_key, relation, name"
        ).fetchall()
    return [Entry(*(str(c) for c in r)) for r in rows]


def import_csv(store: PartnerStore, data: bytes, *, user: str) -> tuple[int, int]:
    """Import a CSV in Open Supply Hub's shape (name, country, os_id, parent_company, brands, buyers;
    brands and buyers separated by |): all rows or none. For each row, each relation whose column the
    file has replaces what the register held for that factory (an empty cell clears it). Returns
    (factories, relations now held for them). Raises ``CsvRejected`` or :class:`BadCountries`."""
    rows = parse_csv(data)
    bad = [(r.row, str(r.values.get("country", ""))) for r in rows if not _COUNTRY.match(r.values.get("country", ""))]
    if bad:
        raise BadCountries(bad)
    now, factories, held = clock.now_s().isoformat(), set(), 0
    with store.transaction() as conn:
        for r in rows:
            v = r.values
            name, country, osh_id = " ".join(v["name"].split()), v.get("country", ""), v["osh_id"] or ""
            key = factory_key(name, country, osh_id)
            factories.add(key)
            columns = {"parent": "parent_company", "brand": "brands", "buyer": "buyers"}
            for relation, column in columns.items():
                if column not in v:
                    continue
                conn.execute("DELETE FROM supply_chain WHERE factory_key = ? AND relation = ?", (key, relation))
                values = [v[column]] if relation == "parent" else v[column]
                for value in (" ".join(x.split())[:MAX_NAME] for x in values):
                    if value:
                        conn.execute(
                            "INSERT OR IGNORE INTO supply_chain (factory_key, relation, name, factory_name, country, "
                            "osh_id, added_at, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (key, relation, value, name, country, osh_id, now, user),
                        )
        for key in factories:
            held += int(conn.execute("SELECT COUNT(*) FROM supply_chain WHERE factory_key = ?", (key,)).fetchone()[0])
    return len(factories), held


def chains(
    reported: Mapping[str, Iterable[tuple[str, Sequence[str], Sequence[str]]]], register: list[Entry]
) -> dict[str, Chain]:
    """Each factory's relations: ``reported`` maps a factory key to what summaries said of it (parent,
    brands, buyers per summary); the ``register`` wins per relation where it names one."""
    out: dict[str, Chain] = {}
    for key, claims in reported.items():
        chain = out.setdefault(key, Chain())
        parents: Counter[str] = Counter()
        for parent, brands, buyers in claims:
            if parent.strip():
                parents[" ".join(parent.split())] += 1
            chain.brands += [b for b in brands if b.strip() and norm(b) not in {norm(x) for x in chain.brands}]
            chain.buyers += [b for b in buyers if b.strip() and norm(b) not in {norm(x) for x in chain.buyers}]
        # Two groups naming different parents: the one named most often (then the first by name).
        chain.parent = min(parents, key=lambda p: (-parents[p], p)) if parents else ""
        for relation, value in (("parent", chain.parent), ("brand", chain.brands), ("buyer", chain.buyers)):
            if value:
                chain.source[relation] = "groups"
    own: dict[str, dict[str, list[str]]] = {}
    for e in register:
        own.setdefault(e.factory_key, {}).setdefault(e.relation, []).append(e.name)
    for key, relations in own.items():
        chain = out.setdefault(key, Chain())
        if "parent" in relations:
            chain.parent = relations["parent"][0]
        if "brand" in relations:
            chain.brands = list(relations["brand"])
        if "buyer" in relations:
            chain.buyers = list(relations["buyer"])
        for relation in relations:
            chain.source[relation] = "partner"
    return out
