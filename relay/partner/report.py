"""The partner's aggregate report across every node: cases by factory, category and month, small cells suppressed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from intake.stats import CaseRow, crosstab, month, public_export, suppress
from relay.partner.store import PartnerStore
from relay.summary import CaseSummary


def factory_label(s: CaseSummary) -> str:
    f = s.factory
    if f.open_supply_hub_id:
        return f"{f.name} ({f.country}, {f.open_supply_hub_id})" if f.country else f"{f.name} ({f.open_supply_hub_id})"
    return f"{f.name} ({f.country})" if f.country else f.name


def report(store: PartnerStore) -> dict[str, Any]:
    """Cases by factory x category, month x category and factory x month across every node, small
    cells suppressed; and how many groups report each factory.

    Each case counts once (its newest version), under the month it was first reported. A factory is
    the same across nodes when its Open Supply Hub id (else name and country) is the same.
    """
    rows = []
    latest = store.latest()
    for n, (v, _count) in enumerate(latest, 1):
        s = v.summary
        when = datetime.strptime(s.first_reported + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
        rows.append(
            CaseRow(
                id=n,
                created_at=when,
                status=s.status,
                categories=tuple(s.categories),
                factory=factory_label(s),
                registered=True,
                channel="relay",
                status_since=when,
            )
        )
    export = public_export(rows)
    # Which factories keep coming back, month by month: the pattern a public buyer acts on.
    factory_by_month = crosstab((r.factory, month(r.created_at)) for r in rows)
    export["factory_by_month"] = suppress(*factory_by_month).as_json()
    # How many labour groups report each factory (groups, not workers: nothing to suppress).
    groups: dict[str, set[str]] = {}
    for v, _n in latest:
        groups.setdefault(factory_label(v.summary), set()).add(v.node)
    export["groups_per_factory"] = {f: len(g) for f, g in sorted(groups.items())}
    export["cases"] = len(rows) if len(rows) >= 5 or not rows else "<5"
    export["nodes"] = len({v.node for v, _ in latest})
    return export
