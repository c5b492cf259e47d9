"""The partner's remedy record: per factory, and rolled up by parent company, brand and public buyer.

For every case (its newest summary; a case is counted once, under its factory):

- ``reported``: the case; ``in_remedy``, ``remedied`` (resolved, confirmed or not), ``confirmed_by_workers``
  (the worker said yes) and ``disputed`` (the worker said no or partly) from its remedy state (a
  summary made before issue 15 has none: it is read from the status, never confirmed or disputed);
- ``retaliation_reports``: cases with the category ``retaliation`` (a worker punished for speaking up,
  among them the cases a retaliation check-in opened);
- ``overdue_steps``: steps of the plan past their due date and not done, counted on the partner's day;
- ``median_days_to_remedy``: over the remedied cases, days from the first day of the month the case
  was first reported (a summary says no more: the day could single the worker out) to the day its
  remedy was done: the latest done date of its outcomes and steps, else the day the first summary
  saying "resolved" was made. Counting from the month's first day, it is at most that many days.

Small cells are suppressed with the public export's threshold and rule (intake.stats): a count from
1 to 4 shows as ``<5``; then, while some published sum (a roll-up and its factories, the total and
every factory, the roll-ups of one kind against the total and the factories) has exactly one hidden
count, one more count in it is hidden as ``*``: a roll-up first, so a factory's own figures stay,
wherever possible, what any other public table shows for it. A median shows only over 5 or more
cases (else ``<5``). A roll-up and the pack of a buyer are cut from the same suppressed record, so no
two outputs disagree.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from intake import clock
from intake.domain import RemedyState, remedy_state
from intake.stats import SECONDARY, SUPPRESSED, THRESHOLD, Shown
from relay.partner.store import PartnerStore, Version
from relay.partner.supply import Chain, Entry, chains, entries, factory_key, norm
from relay.summary import CaseSummary, overdue_steps

MEASURES = (
    "reported", "in_remedy", "remedied", "confirmed_by_workers", "disputed", "retaliation_reports", "overdue_steps",
)  # fmt: skip
LEVELS = ("factory", "parent", "brand", "buyer")
RESOLVED = (RemedyState.RESOLVED_UNCONFIRMED, RemedyState.RESOLVED_CONFIRMED)
NOTE = (
    "Counts from 1 to 4 are shown as <5; counts shown as * are 5 or more, hidden so that no total reveals "
    "a count under 5. A median is shown over 5 or more remedied cases only. Days to remedy are counted from "
    "the first day of the month a case was first reported."
)


@dataclass(frozen=True)
class CaseCount:
    """What one case adds to its factory's line."""

    factory: str  # factory_key
    counts: dict[str, int]
    days_to_remedy: int | None


def state_of(s: CaseSummary) -> RemedyState | None:
    return s.remedy_state or remedy_state(s.status, None)


def remedied_on(versions: Sequence[Version]) -> date | None:
    """The day a resolved case's remedy was done (see the module's docstring); None when not resolved."""
    newest = versions[-1].summary
    if state_of(newest) not in RESOLVED:
        return None
    done = [o.done_on for o in newest.outcomes if o.done_on] + [
        a.done_on for a in newest.remedy if a.done and a.done_on
    ]
    if done:
        return max(done)
    since = versions[-1].created_at
    for v in reversed(versions):  # back to the first summary of the newest run saying "resolved"
        if state_of(v.summary) not in RESOLVED:
            break
        since = v.created_at
    return since.date()


def count_case(versions: Sequence[Version], today: date) -> CaseCount:
    s = versions[-1].summary
    state = state_of(s)
    f = s.factory
    days = None
    if (end := remedied_on(versions)) is not None:
        start = date(int(s.first_reported[:4]), int(s.first_reported[5:7]), 1)
        days = max(0, (end - start).days)
    counts = {
        "reported": 1,
        "in_remedy": int(state == RemedyState.IN_REMEDY),
        "remedied": int(state in RESOLVED),
        "confirmed_by_workers": int(state == RemedyState.RESOLVED_CONFIRMED),
        "disputed": int(state == RemedyState.DISPUTED),
        "retaliation_reports": int("retaliation" in s.categories),
        "overdue_steps": len(overdue_steps(s.remedy, today)),
    }
    return CaseCount(factory_key(f.name, f.country, f.open_supply_hub_id), counts, days)


@dataclass
class Line:
    """One row of the record: a factory, a roll-up (parent, brand, buyer) or the total. Only ``shown``
    and ``median`` ever leave: ``_counts`` and ``_days`` are the raw figures suppression works on."""

    level: str  # factory | parent | brand | buyer | total
    key: str
    name: str
    country: str = ""
    osh_id: str = ""
    chain: Chain = field(default_factory=Chain)
    factories: list[str] = field(default_factory=list)  # a roll-up's factory keys
    shown: dict[str, Shown] = field(default_factory=dict)
    median: float | str | None = None
    _counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0), repr=False)
    _days: list[int] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name}
        if self.level == "factory":
            doc |= {
                "country": self.country, "open_supply_hub_id": self.osh_id, "parent_company": self.chain.parent,
                "brands": list(self.chain.brands), "public_buyers": list(self.chain.buyers),
            }  # fmt: skip
        else:
            doc["factories"] = len(self.factories)
        return doc | {m: self.shown[m] for m in MEASURES} | {"median_days_to_remedy": self.median}


@dataclass
class Record:
    as_of: date
    factories: list[Line]
    groups: dict[str, list[Line]]  # level (parent, brand, buyer) -> roll-ups by name
    total: Line

    def buyer(self, name: str) -> tuple[Line, list[Line]] | None:
        """One public buyer's roll-up and its factories; None when no buyer has that name."""
        line = next((g for g in self.groups["buyer"] if g.key == norm(name)), None)
        if line is None:
            return None
        members = set(line.factories)
        return line, [f for f in self.factories if f.key in members]

    def as_json(self) -> dict[str, Any]:
        return {
            "threshold": THRESHOLD,
            "note": NOTE,
            "as_of": self.as_of.isoformat(),
            "measures": [*MEASURES, "median_days_to_remedy"],
            "factories": [f.as_json() for f in self.factories],
            "parent_companies": [g.as_json() for g in self.groups["parent"]],
            "brands": [g.as_json() for g in self.groups["brand"]],
            "public_buyers": [g.as_json() for g in self.groups["buyer"]],
            "total": self.total.as_json(),
        }


def record(store: PartnerStore, today: date | None = None) -> Record:
    """The remedy record of everything opened so far, suppressed, as of ``today`` (the partner's day)."""
    return build_record(store.by_case(), entries(store), today or clock.now().date())


def build_record(cases: Iterable[Sequence[Version]], register: list[Entry], today: date) -> Record:
    lines: dict[str, Line] = {}
    claims: dict[str, list[tuple[str, list[str], list[str]]]] = {}
    newest: dict[str, Version] = {}
    for versions in cases:
        c = count_case(versions, today)
        v = versions[-1]
        fr = v.summary.factory
        line = lines.setdefault(c.factory, Line("factory", c.factory, fr.name, fr.country, fr.open_supply_hub_id))
        if c.factory not in newest or (v.created_at, v.node) > (newest[c.factory].created_at, newest[c.factory].node):
            newest[c.factory] = v  # the name and country as the newest summary gives them
            line.name, line.country, line.osh_id = fr.name, fr.country, fr.open_supply_hub_id
        for m in MEASURES:
            line._counts[m] += c.counts[m]
        if c.days_to_remedy is not None:
            line._days.append(c.days_to_remedy)
        claims.setdefault(c.factory, []).append((fr.parent_company, list(fr.brands), list(fr.public_buyers)))
    for e in register:  # a factory the partner registered and no group reported: a line of zeros
        lines.setdefault(e.factory_key, Line("factory", e.factory_key, e.factory_name, e.country, e.osh_id))
    for key, chain in chains(claims, register).items():
        lines[key].chain = chain
    factories = sorted(lines.values(), key=lambda ln: (norm(ln.name), ln.key))
    groups: dict[str, list[Line]] = {}
    for level in ("parent", "brand", "buyer"):
        by_name: dict[str, Line] = {}
        for f in factories:
            named = {"parent": [f.chain.parent] if f.chain.parent else [], "brand": f.chain.brands,
                     "buyer": f.chain.buyers}[level]  # fmt: skip
            for name in named:
                g = by_name.setdefault(norm(name), Line(level, norm(name), name))
                if f.key not in g.factories:
                    g.factories.append(f.key)
                    for m in MEASURES:
                        g._counts[m] += f._counts[m]
                    g._days += f._days
        groups[level] = sorted(by_name.values(), key=lambda g: (g.key, g.name))
    total = Line("total", "", "total", factories=[f.key for f in factories])
    for f in factories:
        for m in MEASURES:
            total._counts[m] += f._counts[m]
        total._days += f._days
    _suppress(factories, groups, total)
    return Record(today, factories, groups, total)


def _suppress(factories: list[Line], groups: dict[str, list[Line]], total: Line) -> None:
    """Fill each line's ``shown`` and ``median`` (see the module's docstring for the rule)."""
    every = [*factories, *(g for level in groups.values() for g in level), total]
    at = {id(line): i for i, line in enumerate(every)}
    of = {f.key: at[id(f)] for f in factories}
    # Every sum the record publishes, as the entries it ties together (one unknown among them is known).
    sums = [[*of.values(), at[id(total)]]]
    for level in groups.values():
        if not level:
            continue
        times = Counter(key for g in level for key in g.factories)  # in how many roll-ups of this kind
        sums += [[of[key] for key in g.factories] + [at[id(g)]] for g in level]
        sums.append([at[id(g)] for g in level] + [of[f.key] for f in factories if times[f.key] >= 1])
        sums.append([at[id(total)]] + [at[id(g)] for g in level] + [of[f.key] for f in factories if times[f.key] != 1])
    for m in MEASURES:
        values = [line._counts[m] for line in every]
        hidden = [0 < v < THRESHOLD for v in values]
        changed = True
        while changed:
            changed = False
            for entries_ in sums:
                if sum(hidden[i] for i in entries_) != 1:
                    continue
                shown = [i for i in entries_ if not hidden[i] and values[i] > 0]
                pool = [i for i in shown if every[i].level != "factory"] or shown
                if pool:
                    hidden[min(pool, key=lambda i: (values[i], i))] = True
                    changed = True
        for i, line in enumerate(every):
            line.shown[m] = values[i] if not hidden[i] else SUPPRESSED if values[i] < THRESHOLD else SECONDARY
    for line in every:
        line.median = _median(line._days)


def _median(days: Sequence[int]) -> float | str | None:
    if not days:
        return None
    if len(days) < THRESHOLD:
        return SUPPRESSED
    return round(float(statistics.median(days)), 1)
