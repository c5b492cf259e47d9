"""What one synthetic case looks like, for bench/scale_data.py: weights, rows, the generator.

Deterministic: the same seed and ids give the same rows. Every choice costs a random() and a
bisect, and a case takes a few tens of microseconds, so a million are generated in about a minute
of one core (bench/scale_data.py does it in a process of its own, beside the inserts).
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scale_phrases import ORDINARY, URGENT

from intake import clock
from intake.domain import Category

RARE = "Quetzalcoatlite"
RARE_EVERY = 20_000
YEARS = 5
CASEWORKERS = ("admin", "mai", "sofia", "rahim", "ana", "tuan")

# Where reports come from: a labour group in Asia with migrant workers, some Latin America and
# Europe. Weights in parts per thousand.
LOCALES = {
    "zh_Hans": 150, "en": 130, "vi": 100, "bn": 80, "id": 70, "es": 60, "km": 50, "my": 50,
    "hi": 40, "th": 40, "ne": 35, "ms": 30, "fil": 30, "ur": 25, "ta": 25, "zh_Hant": 20,
    "fr": 20, "sw": 15, "uk": 10, "pl": 10, "cs": 10,
}  # fmt: skip
CHANNELS = {"sms": 38, "web": 37, "voice": 12, "api": 13}
SEVERITIES = {"urgent": 12, "high": 100, "normal": 748, "low": 140}
OPEN = {"new": 30, "triaged": 25, "investigating": 30, "remedy": 15}
CLOSED = {"resolved": 60, "closed_unresolved": 30, "withdrawn": 10}
CATEGORIES = {
    Category.WAGES: 140, Category.WORKING_HOURS: 120, Category.HEALTH_SAFETY: 80, Category.HARASSMENT: 60,
    Category.EMPLOYMENT: 60, Category.RECRUITMENT_FEES: 40, Category.DORMITORY: 40,
    Category.FREEDOM_OF_ASSOCIATION: 30, Category.DISCRIMINATION: 30, Category.FORCED_LABOUR: 30,
    Category.RETALIATION: 20, Category.CHILD_LABOUR: 10, Category.OTHER: 20,
}  # fmt: skip
# Sentences per description, by channel: an SMS story is short, a web form longer.
SENTENCES = {"sms": (1, 3), "web": (2, 6), "voice": (2, 5), "api": (2, 6)}
PLACES = ["Dongguan", "Shenzhen", "Ho Chi Minh City", "Binh Duong", "San Pedro Sula", "Dhaka", "Phnom Penh",
          "Gazipur", "Yangon", "Tangerang", "Penang", "Tiruppur", "Bangkok", "Kathmandu", "Brno", "Lodz"]  # fmt: skip
KINDS = ["Garment", "Textile", "Footwear", "Electronics", "Toys", "Apparel", "Knitting", "Leather"]
SUFFIXES = ["Co. Ltd", "Factory", "Manufacturing", "Industrial", "S.A.", "JSC", "Group"]
COUNTRIES = ["CN", "VN", "BD", "KH", "MM", "ID", "MY", "IN", "TH", "NP", "HN", "CZ", "PL"]
NOTES = [
    "Called the worker back; the account matches two earlier reports.",
    "Asked the brand's compliance team for the audit report.",
    "Shared with the union organiser (consent checked).",
    "Factory management denies it; waiting for payslips.",
    "Worker confirmed the back pay arrived.",
    "No answer from the supplier after two reminders.",
]
REPLIES = [
    "Thank you for your report. We are looking into it.",
    "We talked to the factory. Please tell us if anything changes.",
    "Your case is closed. Write again with the same code if the problem comes back.",
]
ACTIONS = [
    ("Pay the missing overtime for the last three months", "employer"),
    ("Return the workers' passports", "employer"),
    ("Unlock the fire exits and train the floor leaders", "employer"),
    ("Reimburse the recruitment fees", "brand"),
    ("Independent follow-up visit", "labour_group"),
    ("Check the supplier's corrective plan", "public_buyer"),
]


class Pick:
    """A weighted choice that costs one random() and one bisect (rng.choices re-sums each call)."""

    def __init__(self, weights: dict[Any, int]) -> None:
        self.values = list(weights)
        self.cum: list[float] = []
        total = 0.0
        for w in weights.values():
            total += w
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.total)]


@dataclass
class Rows:
    """One chunk's rows, per table, in the column order of ``INSERTS``."""

    cases: list[tuple[Any, ...]] = field(default_factory=list)
    drained_items: list[tuple[Any, ...]] = field(default_factory=list)
    followups: list[tuple[Any, ...]] = field(default_factory=list)
    notes: list[tuple[Any, ...]] = field(default_factory=list)
    replies: list[tuple[Any, ...]] = field(default_factory=list)
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)


INSERTS = {
    "cases": (
        "id, created_at, channel, locale, status, factory, location, categories, description, consent, contact_ok, "
        "receipt_hash, reporter_link, contact_key, contact, severity, assignee, version, updated_at, status_since, "
        "first_response_at, closed_at, factory_id, workers_affected"
    ),
    "drained_items": "item_id, case_id, drained_at",
    "followups": "case_id, received_at, channel, locale, text",
    "notes": "case_id, at, user, text",
    "replies": "case_id, at, user, text, sms",
    "actions": "id, case_id, action, who, due, evidence, done_at, created_at, user",
    "audit": "id, at, user, action, case_id, detail, prev_hash, hash",
}


def sql_of(table: str) -> str:
    columns = INSERTS[table]
    return f"INSERT INTO {table} ({columns}) VALUES ({','.join('?' * (columns.count(',') + 1))})"  # noqa: S608


_DAYS: dict[int, str] = {}


def _iso(t: float) -> str:
    """datetime.fromtimestamp(int(t), UTC).isoformat(), three times faster (a few calls per case)."""
    day, sec = divmod(int(t), 86400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).date().isoformat()
    return f"{date}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}+00:00"


def _audit_at(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def factory_register(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """(name, address, country) of ``count`` distinct synthetic factories."""
    names: set[str] = set()
    out: list[tuple[str, str, str]] = []
    while len(out) < count:
        word = "".join(rng.choice("BCDFGHJKLMNPRSTVWZ") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
        name = f"{word} {rng.choice(KINDS)} {rng.choice(SUFFIXES)}"
        if name not in names:
            names.add(name)
            out.append((name, f"{rng.randint(1, 400)} Industrial Road, {rng.choice(PLACES)}", rng.choice(COUNTRIES)))
    return out


@dataclass(frozen=True)
class Secrets:
    """What the generator needs of the node's keys (picklable, for the generating process)."""

    audit_key: bytes
    reporter_key: bytes
    contact_key: bytes  # intake.drain.seal_contact reads only this attribute of the keys

    @classmethod
    def of(cls, keys: Any) -> Secrets:
        from intake import audit

        return cls(audit.audit_key(keys), keys.reporter_key, keys.contact_key)


class Generator:
    """Deterministic rows for cases ``start_id .. start_id + n - 1`` (same seed, same rows)."""

    def __init__(
        self, n: int, *, seed: int, start_id: int, factories: Sequence[tuple[int, str, str]], secrets: Secrets | None
    ) -> None:
        self.rng = random.Random(seed * 1_000_003 + start_id)
        self.n, self.start_id, self.secrets = n, start_id, secrets
        self.factories = list(factories)  # (id, name, place)
        self.total = start_id - 1 + n  # the five years are spread over ids 1 .. total
        self.end = clock.now_s().timestamp()
        self.span = YEARS * 365 * 86400.0
        self.locale, self.channel, self.severity = Pick(LOCALES), Pick(CHANNELS), Pick(SEVERITIES)
        self.open, self.closed, self.category = Pick(OPEN), Pick(CLOSED), Pick(CATEGORIES)
        self.seps = {loc: "" if loc.startswith("zh") else " " for loc in ORDINARY}
        self.link_key = hashlib.sha256(f"bench reporter links {seed}".encode()).digest()
        self.audit_key = b""
        self.action_id, self.audit_id, self.audit_prev = 0, 0, bytes(32)
        self.category_json: dict[frozenset[Category], str] = {}
        if secrets is not None:
            self.audit_key, self.link_key = secrets.audit_key, secrets.reporter_key

    def resume(self, action_id: int, audit_id: int, audit_hash: bytes) -> None:
        """Go on from the store's newest action and audit entry (when adding to cases already there)."""
        self.action_id, self.audit_id, self.audit_prev = action_id, audit_id, audit_hash

    def text(self, locale: str, lo: int, hi: int, urgent: bool = False) -> str:
        rng, pool = self.rng, ORDINARY[locale]
        parts = [rng.choice(URGENT[locale])] if urgent else []
        parts += [pool[int(rng.random() * len(pool))] for _ in range(rng.randint(lo, hi) - len(parts))]
        return self.seps[locale].join(parts)

    def categories(self, cats: set[Category]) -> str:
        key = frozenset(cats)
        text = self.category_json.get(key)
        if text is None:
            text = self.category_json[key] = json.dumps(sorted(c.value for c in cats))
        return text

    def reporter(self, index: int) -> tuple[str, bytes]:
        """A synthetic phone number (already in the E.164 form the drain normalises to) and its
        reporter link: keyed BLAKE2b as intake.drain.reporter_link makes it, under the node's
        reporter key when keys are given (tests/bench/test_scale_data.py checks they agree)."""
        phone = f"+8613{index:09d}"
        return phone, hashlib.blake2b(phone.encode(), key=self.link_key, digest_size=32).digest()

    def chunks(self, size: int) -> Iterator[Rows]:
        first = self.start_id
        last = self.start_id + self.n - 1
        while first <= last:
            upto = min(last, first + size - 1)
            rows = Rows()
            for case_id in range(first, upto + 1):
                self.case(case_id, rows)
            yield rows
            first = upto + 1

    def case(self, case_id: int, rows: Rows) -> None:
        rng = self.rng
        day = 86400.0
        # ids grow with time, as real ones do: a case a minute or so apart at 1M over five years
        created = self.end - self.span + self.span * (case_id - 1) / self.total + rng.random() * 30
        age = (self.end - created) / day
        channel, locale, severity = self.channel(rng), self.locale(rng), self.severity(rng)
        lo, hi = SENTENCES[channel]
        description = self.text(locale, lo, hi, urgent=severity == "urgent")
        if case_id % RARE_EVERY == RARE_EVERY // 2:
            description = f"{RARE} {description}"
        # most cases close within months; a few stay open for years (the overdue ones)
        still_open = rng.random() < (0.97 if age < 14 else 0.7 if age < 60 else 0.1 if age < 365 else 0.02)
        status = ("new" if age < 2 else self.open(rng)) if still_open else self.closed(rng)
        moved = status != "new"
        since = created + (rng.random() * min(age, 120) * day if moved else 0.0)
        first_response = created + rng.random() * (since - created) if moved else 0.0
        cats = {self.category(rng) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))}
        roll = rng.random()
        factory_id: int | None = None
        factory = location = ""
        if roll < 0.9 and self.factories:
            fid, name, place = self.factories[int(len(self.factories) * rng.random() ** 2)]  # a few get most cases
            location = place
            if roll < 0.7:
                factory_id, factory = fid, name
            else:  # typed freely, never linked
                factory = name.lower() if rng.random() < 0.5 else name.split(" ")[0] + " factory"
        phoned = channel in ("sms", "voice") or rng.random() < 0.2
        phone, link = self.reporter(rng.randrange(max(1, self.total // 2))) if phoned else ("", None)
        contact_ok = int(phoned and rng.random() < 0.45)
        item_id = rng.randbytes(16).hex()
        wrapped = blob = None
        if contact_ok and self.secrets is not None and status not in CLOSED:  # closing shreds the contact
            from intake.drain import seal_contact

            record = seal_contact(self.secrets, item_id.encode(), phone=phone, name="")  # type: ignore[arg-type]
            wrapped, blob = record.wrapped_key, record.blob
        assignee = rng.choice(CASEWORKERS) if moved else ""
        version = 1 + (rng.randint(1, 5) if moved else 0)
        workers = 1 if rng.random() < 0.8 else rng.randint(2, 300)
        rows.cases.append(
            (
                case_id, _iso(created), channel, locale, status, factory, location,
                self.categories(cats), description, rng.choice((0, 1, 1, 2)), contact_ok,
                rng.randbytes(32), link, wrapped, blob, severity, assignee, version, _iso(since), _iso(since),
                _iso(first_response) if moved else "", _iso(since) if status in CLOSED else "", factory_id, workers,
            )
        )  # fmt: skip
        rows.drained_items.append((item_id, case_id, _iso(created + 60).replace("+00:00", "Z")))
        self.extras(case_id, rows, created, since, status, channel, locale)

    def extras(
        self, case_id: int, rows: Rows, created: float, since: float, status: str, channel: str, locale: str
    ) -> None:
        """Follow-ups, notes, replies, corrective actions and audit entries of one case."""
        rng = self.rng
        later = max(since, created + 3600)
        if rng.random() < 0.06:  # the worker wrote again with their receipt code
            for _ in range(rng.randint(1, 2)):
                at = created + rng.random() * (self.end - created)
                rows.followups.append((case_id, _iso(at), channel, locale, self.text(locale, 1, 2)))
                rows.drained_items.append((rng.randbytes(16).hex(), case_id, _iso(at + 60).replace("+00:00", "Z")))
        if status == "new":
            return
        user = rng.choice(CASEWORKERS)
        events: list[tuple[float, str, dict[str, Any]]] = []
        if rng.random() < 0.35:
            for _ in range(rng.randint(1, 3)):
                at = created + rng.random() * (later - created)
                rows.notes.append((case_id, _iso(at), user, rng.choice(NOTES)))
                events.append((at, "note", {}))
        closed = status in CLOSED
        if rng.random() < (0.4 if closed else 0.25):
            sms = int(channel == "sms")
            rows.replies.append((case_id, _iso(later), user, REPLIES[2 if closed else rng.randint(0, 1)], sms))
            events.append((later, "reply", {"sms": bool(sms)}))
        if status in ("remedy", "resolved") and rng.random() < (0.5 if status == "remedy" else 0.08):
            for _ in range(rng.randint(1, 3)):
                action, who = rng.choice(ACTIONS)
                due = datetime.fromtimestamp(since + rng.randint(30, 90) * 86400.0, UTC).date().isoformat()
                done = _iso(since + rng.random() * 60 * 86400.0) if status == "resolved" else ""
                self.action_id += 1
                rows.actions.append((self.action_id, case_id, action, who, due, "", done, _iso(since), user))
                detail = {"action_id": self.action_id, "who": who, "due": due, "evidence": False}
                events.append((since, "action_add", detail))
        detail = {"status": status, "was_status": "new", "fields": ["status"], "from_version": 1}
        events.append((since, "update", detail))
        if self.audit_key:
            self.record(rows, case_id, user, sorted(events, key=lambda e: e[0]))

    def record(self, rows: Rows, case_id: int, user: str, events: list[tuple[float, str, dict[str, Any]]]) -> None:
        """Chain the case's audit entries as intake.audit.record does: the same canonical encoding
        (intake.audit.canonical, spelled out here for speed: one json.dumps per entry instead of
        two; tests/bench/test_scale_data.py verifies the chain with intake.audit.verify)."""
        for at, action, detail in events:
            self.audit_id += 1
            when = _audit_at(at)
            text = json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":")) if detail else "{}"
            doc = (
                f'{{"action":"{action}","at":"{when}","case_id":{case_id},"detail":{text},'
                f'"id":{self.audit_id},"prev_hash":"{self.audit_prev.hex()}","user":"{user}"}}'
            )
            digest = hmac.digest(self.audit_key, doc.encode(), "sha256")
            rows.audit.append((self.audit_id, when, user, action, case_id, text, self.audit_prev, digest))
            self.audit_prev = digest
