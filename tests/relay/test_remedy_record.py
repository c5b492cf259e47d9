"""The partner's remedy record (issue 15 item 6): per factory and rolled up by parent company, brand
and public buyer, small cells suppressed; the partner's supply-chain register; the public complaints
table (consented and approved rows only). Synthetic summaries sealed to a real partner home and opened
through the real inbox and partner store (tests/relay/remedy_fixture.py)."""

from __future__ import annotations

from datetime import date

import pytest

from intake.domain import RemedyState
from intake.errors import Forbidden, InvalidInput
from intake.stats import HIDDEN
from relay.partner import public, supply
from relay.partner.remedy import count_case, record
from relay.partner.store import PartnerStore
from relay.summary import CaseFacts, build
from tests.relay.conftest import Partner
from tests.relay.remedy_fixture import ALPHA, BETA, SyntheticNode, at, deliver, load_fixture, summary

TODAY = date(2031, 6, 15)
M = ("reported", "in_remedy", "remedied", "confirmed_by_workers", "disputed", "retaliation_reports", "overdue_steps",
     "median_days_to_remedy")  # fmt: skip

# Worked out by hand from the fixture, with the register's two rows (below) in place.
# Raw figures (reported, in remedy, remedied, confirmed, disputed, retaliation, overdue steps; days):
#   Alpha 12, 2, 8, 6, 2, 3, 2; days 10 20 30 40 50 60 70 80 -> median 45
#   Beta   7, 0, 5, 5, 0, 0, 0; days 5 15 25 35 100           -> median 25
#   Gamma  3, 1, 0, 0, 0, 0, 6 (its "remedy" summary predates remedy_state: read from the status)
# Roll-ups: Apex (parent) = Alpha + Beta; BrandX = Alpha + Beta; BrandY = Beta + Gamma;
#   City of Lyon = Beta (the register replaces Alpha's buyers); Region of Stockholm = Alpha + Gamma
#   (the register); total = all three. Medians: Apex, BrandX, total over 13 days -> 35.
# Primary: every count 1..4 is "<5". Secondary, a roll-up first: reported: Gamma 3 is hidden, so the
# total (22 = 12 + 7 + ?), BrandY (10 = 7 + ?) and Stockholm (15 = 12 + ?) are hidden as "*".
# overdue_steps: Alpha 2 is hidden, so the total (8) and Stockholm (8 = 2 + 6) are hidden as "*";
# Apex and BrandX are 2 ("<5") already.
EXPECTED = {
    "Alpha Electronics": (12, "<5", 8, 6, "<5", "<5", "<5", 45.0),
    "Beta Assembly": (7, 0, 5, 5, 0, 0, 0, 25.0),
    "Gamma Components": ("<5", "<5", 0, 0, 0, 0, 6, None),
    "Apex Holdings": (19, "<5", 13, 11, "<5", "<5", "<5", 35.0),
    "BrandX": (19, "<5", 13, 11, "<5", "<5", "<5", 35.0),
    "BrandY": ("*", "<5", 5, 5, 0, 0, 6, 25.0),
    "City of Lyon": (7, 0, 5, 5, 0, 0, 0, 25.0),
    "Region of Stockholm": ("*", "<5", 8, 6, "<5", "<5", "*", 45.0),
    "total": ("*", "<5", 13, 11, "<5", "<5", "*", 35.0),
}


def open_store(partner: Partner) -> PartnerStore:
    return partner.home.open_db(partner.keys)


def register(store: PartnerStore) -> None:
    # Alpha by its Open Supply Hub id (name and country then do not matter), Gamma by name and country
    # written differently from the summaries: both are the factories the summaries name.
    supply.add(store, ("ALPHA (any name)", "", "cn2031aaaa1"), buyers=["Region of Stockholm"], user="analyst")
    supply.add(store, ("  gamma   COMPONENTS ", "vn", ""), buyers=["Region of Stockholm"], user="analyst")


@pytest.fixture
def loaded(partner: Partner):  # type: ignore[no-untyped-def]
    got = load_fixture(partner)
    store = open_store(partner)
    register(store)
    yield store, got
    store.close()


def figures(doc: dict) -> dict[str, tuple]:  # type: ignore[type-arg]
    lines = [*doc["factories"], *doc["parent_companies"], *doc["brands"], *doc["public_buyers"], doc["total"]]
    return {line["name"]: tuple(line[m] for m in M) for line in lines}


def test_the_record_matches_the_hand_computed_fixture(loaded) -> None:  # type: ignore[no-untyped-def]
    store, _ = loaded
    doc = record(store, TODAY).as_json()
    assert figures(doc) == EXPECTED
    assert [g["factories"] for g in doc["brands"]] == [2, 2]
    assert doc["threshold"] == 5 and doc["as_of"] == "2031-06-15" and doc["total"]["factories"] == 3
    [alpha, beta, gamma] = doc["factories"]
    assert (alpha["parent_company"], alpha["brands"], alpha["public_buyers"]) == (
        "Apex Holdings", ["BrandX"], ["Region of Stockholm"])  # fmt: skip
    assert (gamma["parent_company"], gamma["brands"], gamma["public_buyers"]) == (
        "",
        ["BrandY"],
        ["Region of Stockholm"],
    )
    assert beta["public_buyers"] == ["City of Lyon"]


def test_every_published_sum_hides_none_or_at_least_two(loaded) -> None:  # type: ignore[no-untyped-def]
    """No single published sum gives a hidden count back (the suppression's promise, checked from outside)."""
    store, _ = loaded
    rec = record(store, TODAY)
    by_key = {f.key: f for f in rec.factories}
    sums = [[*rec.factories, rec.total]]
    for level in rec.groups.values():
        sums += [[*(by_key[k] for k in g.factories), g] for g in level]
    for m in M[:-1]:
        for lines in sums:
            assert sum(line.shown[m] in HIDDEN for line in lines) != 1, (m, [ln.name for ln in lines])


def test_small_cells_are_suppressed_and_a_roll_up_goes_before_a_factory(partner: Partner) -> None:
    node = SyntheticNode("north")
    for _ in range(3):
        deliver(partner, node, summary(ALPHA, "resolved", days=30), at(date(2031, 6, 1)))
    for _ in range(9):
        deliver(partner, node, summary(BETA, "new"), at(date(2031, 6, 1)))
    store = open_store(partner)
    try:
        doc = record(store, TODAY).as_json()
    finally:
        store.close()
    got = figures(doc)
    assert got["Alpha Electronics"] == ("<5", 0, "<5", 0, 0, 0, 0, "<5")  # 3 cases, a median over 3: hidden
    # Beta's 9 stays: Apex (12 = 3 + 9) and the total (12) are hidden instead of it.
    assert got["Beta Assembly"][0] == 9 and got["Apex Holdings"][0] == "*" and got["total"][0] == "*"
    assert got["BrandX"][0] == "*" and got["City of Lyon"][0] == "*"
    assert "3" not in str(doc["total"]) and "12" not in str(doc)


def test_days_to_remedy_come_from_outcomes_steps_or_the_first_resolved_summary(loaded) -> None:  # type: ignore[no-untyped-def]
    store, _ = loaded
    days = sorted(d for c in (count_case(v, TODAY) for v in store.by_case()) if (d := c.days_to_remedy) is not None)
    # Alpha's 80 comes from a done step; Beta's 100 from its second summary (resolved on 11 April), not
    # from the third (confirmed on 1 May, day 120).
    assert days == [5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 100]


def test_the_register_wins_per_relation_and_can_be_taken_back(loaded) -> None:  # type: ignore[no-untyped-def]
    store, _ = loaded
    rec = record(store, TODAY)
    alpha = rec.factories[0]
    assert alpha.chain.source == {"parent": "groups", "brand": "groups", "buyer": "partner"}
    assert rec.buyer("City of Lyon")[1] == [rec.factories[1]]  # type: ignore[index]
    # The parent replaces the groups' one; removing the buyers brings the groups' back.
    supply.add(store, ("Alpha Electronics", "CN", "CN2031AAAA1"), parent="Apex Group plc", user="analyst")
    assert supply.remove(store, ("x", "", "CN2031AAAA1"), relation="buyer") == 1
    rec = record(store, TODAY)
    alpha = rec.factories[0]
    assert (alpha.chain.parent, alpha.chain.buyers) == ("Apex Group plc", ["City of Lyon"])
    assert [g.name for g in rec.groups["parent"]] == ["Apex Group plc", "Apex Holdings"]
    assert supply.remove(store, ("Nowhere Ltd", "", "")) == 0
    with pytest.raises(InvalidInput):
        supply.add(store, ("Alpha", "China", ""), brands=["B"], user="analyst")  # not a two-letter code
    with pytest.raises(InvalidInput):
        supply.add(store, ("Alpha", "CN", ""), user="analyst")  # no relation named
    with pytest.raises(InvalidInput):
        supply.add(store, ("Alpha\x07", "CN", ""), brands=["B"], user="analyst")
    with pytest.raises(InvalidInput):
        supply.remove(store, ("Alpha", "CN", ""), relation="owner")


def test_a_factory_only_the_register_knows_is_listed_with_zeros(partner: Partner) -> None:
    store = open_store(partner)
    try:
        supply.add(store, ("Delta Plastics", "MX", ""), parent="Delta Group", buyers=["City of Lyon"], user="analyst")
        rec = record(store, TODAY)
    finally:
        store.close()
    [delta] = rec.factories
    assert delta.name == "Delta Plastics" and all(delta.shown[m] == 0 for m in M[:-1]) and delta.median is None
    buyer, factories = rec.buyer("city of lyon")  # type: ignore[misc]
    assert buyer.name == "City of Lyon" and factories == [delta]


def test_the_register_imports_a_csv_all_or_nothing(partner: Partner) -> None:
    from intake.errors import CsvRejected

    store = open_store(partner)
    try:
        good = (
            b"os_id,name,country,parent_company,brands,buyers\n"
            b"CN2031AAAA1,Alpha Electronics,CN,Apex Holdings,BrandX|BrandZ,Region of Stockholm|City of Lyon\n"
            b",Gamma Components,VN,,,Region of Stockholm\n"
        )
        assert supply.import_csv(store, good, user="analyst") == (2, 6)
        again = b"name,country,buyers\nGamma Components,VN,\n"  # an empty cell clears Gamma's buyers
        assert supply.import_csv(store, again, user="analyst") == (1, 0)
        with pytest.raises(supply.BadCountries) as bad:
            supply.import_csv(store, b"name,country,brands\nAlpha,China,B\n", user="analyst")
        assert bad.value.rows == [(2, "China")]
        with pytest.raises(CsvRejected):
            supply.import_csv(store, b"country,brands\nCN,B\n", user="analyst")  # no name column
        held = {(e.factory_name, e.relation, e.name) for e in supply.entries(store)}
    finally:
        store.close()
    assert held == {
        ("Alpha Electronics", "parent", "Apex Holdings"), ("Alpha Electronics", "brand", "BrandX"),
        ("Alpha Electronics", "brand", "BrandZ"), ("Alpha Electronics", "buyer", "Region of Stockholm"),
        ("Alpha Electronics", "buyer", "City of Lyon"),
    }  # fmt: skip


def test_an_empty_store_gives_an_empty_record(partner: Partner) -> None:
    store = open_store(partner)
    try:
        rec = record(store, TODAY)
        assert rec.factories == [] and rec.buyer("City of Lyon") is None
        assert rec.as_json()["total"]["reported"] == 0 and public.table(store) == [] and public.pending(store) == []
    finally:
        store.close()


# -- the public complaints table ---------------------------------------------------------------------------
def test_the_public_table_shows_only_consented_and_approved_rows(partner: Partner) -> None:
    got = load_fixture(partner)
    store = open_store(partner)
    try:
        waiting = public.pending(store)
        # Three cases of the fixture have full_sharing (consent 2); consent 1 never becomes a row.
        assert {r.case_ref for r in waiting} >= {got.public_ok, got.public_other} and len(waiting) == 3
        assert public.find(store, got.consent_one) == [] and public.table(store) == []
        [row] = public.find(store, got.public_ok)
        assert row.content == {
            "factory": "Alpha Electronics", "country": "CN", "month": "2031-01", "categories": ["wages"],
            "status": "resolved_confirmed", "outcome": [["back_pay", "worker"]],
        }  # fmt: skip
        with pytest.raises(Forbidden):
            public.approve(store, row, user="intern", role="viewer")
        public.approve(store, row, user="analyst", role="coordinator")
        assert public.table(store) == [row] and len(public.pending(store)) == 2
    finally:
        store.close()

    # The group sends an update: the worker now disputes it. The row changed: out of the table until
    # approved again.
    changed = summary(ALPHA, "resolved", None, days=10, full=True, case_ref=got.public_ok)
    changed = changed.model_copy(update={"remedy_state": RemedyState.DISPUTED})
    deliver(partner, got.nodes["north"], changed, at(date(2031, 6, 10)))
    store = open_store(partner)
    try:
        assert public.table(store) == []
        [again] = public.find(store, got.public_ok)
        assert again.status == "disputed" and again.row_hash != row.row_hash and again in public.pending(store)
        public.approve(store, again, user="analyst", role="coordinator")
        assert public.table(store) == [again]
        assert public.revoke(store, got.public_ok, role="coordinator") == 1 and public.table(store) == []
        assert public.revoke(store, got.public_ok, role="coordinator") == 0
    finally:
        store.close()

    # Consent withdrawn (a summary without full sharing) or the case withdrawn: no row, approval or not.
    for update in ({"full_sharing": False}, {"status": "withdrawn"}):
        update_ = summary(BETA, "resolved", None, days=5, full=True, case_ref=got.public_other).model_copy(
            update=update
        )
        deliver(partner, got.nodes["south"], update_, at(date(2031, 6, 10)))
        store = open_store(partner)
        try:
            assert public.find(store, got.public_other) == []
        finally:
            store.close()


def test_a_summary_says_full_sharing_only_for_consent_two() -> None:
    def facts(consent: int) -> CaseFacts:
        return CaseFacts(case_id=7, locale="en", created_month="2031-01", status="new", severity="normal",
                         categories=("wages",), workers_affected=3, factory_text="Alpha", factory=None,
                         words="Unpaid overtime.", actions=(), consent=consent)  # fmt: skip

    one, two = (build(facts(c), node_id="n", today=TODAY).summary for c in (1, 2))
    assert (one.full_sharing, two.full_sharing) == (False, True)
    # Left out of the bytes when False: summaries of consent-1 cases keep their hash (no re-approval).
    assert "full_sharing" not in one.wire() and two.wire()["full_sharing"] is True
    assert one.content_hash() != two.content_hash()
