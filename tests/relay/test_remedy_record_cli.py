"""The remedy record as a partner runs it (subprocesses): `intake partner supply-chain ...`,
`intake partner report --remedy`, `intake partner report --buyer NAME --format csv|html` and
`intake partner complaints ...`; bad input gets one clear line and exit 1, and lists nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from intake.cli.partner_render import PUBLIC_HEADER, RECORD_HEADER
from tests.conftest import PASSPHRASE
from tests.intake.cli.test_cli import Result, intake, one_line_error, write_pass
from tests.relay.conftest import Partner
from tests.relay.remedy_fixture import SyntheticNode, at, deliver, load_fixture, summary
from tests.relay.test_remedy_record import EXPECTED

HOSTILE = '<script>alert(1)</script> & "Co" <img src=https://evil.example/x.png onerror=alert(2)>'
HOSTILE_BUYER = "Ministry <b>of</b> 'Works' & Co"


class Page(HTMLParser):
    """Every tag, attribute, style text and piece of text of an HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        (self.styles if self._in and self._in[-1] == "style" else self.text).append(data)


def check_self_contained(html: str) -> Page:
    page = Page(html)
    names = {t for t, _ in page.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "base", "form", "audio", "video"}, names
    for tag, attrs in page.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            v = (value or "").lower()
            assert "http:" not in v and "https:" not in v and "javascript:" not in v and "//" not in v, (tag, name, v)
    style = "".join(page.styles)
    assert "url(" not in style and "@import" not in style and "@media print" in style and "@page" in style
    assert "<script" not in html.lower()
    return page


def rows_of(csv_text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_text)))


def test_remedy_record_buyer_pack_and_public_table_from_the_command_line(tmp_path: Path, partner: Partner) -> None:
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    env = {"INTAKE_PARTNER_HOME": str(partner.home.home), "INTAKE_LANG": "en", "COLUMNS": "400"}

    def run(*args: str | Path) -> Result:
        return intake("partner", *args, "--passphrase-file", pw, env=env)

    # An empty store: no buyer to show (nothing listed), an empty record (the header only).
    nobody = run("report", "--buyer", "City of Lyon", "--format", "csv")
    assert "No public buyer City of Lyon" in one_line_error(nobody) and nobody.out == ""
    empty = run("report", "--remedy", "--format", "csv")
    assert empty.code == 0 and rows_of(empty.out)[:-1] == [list(RECORD_HEADER)], empty.both

    got = load_fixture(partner)
    added = run("supply-chain", "add", "--factory", "Alpha", "--osh-id", "CN2031AAAA1",
                "--buyer", "Region of Stockholm")  # fmt: skip
    assert added.code == 0 and "1 relation added." in added.out, added.both
    assert run("supply-chain", "add", "--factory", " gamma components", "--country", "vn",
               "--buyer", "Region of Stockholm").code == 0  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text("name,country,buyers\nAlpha Electronics,China,City of Lyon\n", "utf-8")
    refused = run("supply-chain", "import", bad)
    assert refused.code == 1 and "row 2: country China is not a two-letter code" in refused.err
    assert "Nothing was imported" in refused.err and "Traceback" not in refused.both
    listed = {f["factory"]: f for f in json.loads(run("supply-chain", "list", "--json").out)}
    assert listed["Alpha Electronics"]["public_buyers"] == ["Region of Stockholm"]
    assert listed["Alpha Electronics"]["source"] == {"parent": "groups", "brand": "groups", "buyer": "partner"}

    # The whole record as CSV: the hand-computed figures (overdue steps counted today: all long past due).
    whole = run("report", "--remedy", "--format", "csv")
    assert whole.code == 0, whole.both
    [header, *lines] = rows_of(whole.out)
    assert header == list(RECORD_HEADER)
    seen = {r[1]: tuple(r[8:]) for r in lines}
    expected = {name: tuple("" if v is None else str(v) for v in values) for name, values in EXPECTED.items()}
    assert seen == expected
    assert [r[0] for r in lines] == ["factory"] * 3 + ["parent_company"] + ["brand"] * 2 + ["public_buyer"] * 2 + [
        "total"
    ]

    text = run("report", "--remedy")
    assert text.code == 0 and "Apex Holdings" in text.out and "All factories" in text.out, text.both
    assert "Median days to remedy" in text.out and "Region of Stockholm" in text.out

    # One buyer's pack: its factories, then its own line; the same figures as the record.
    pack = run("report", "--buyer", "  region of STOCKHOLM", "--format", "csv")
    assert pack.code == 0, pack.both
    [header, *lines] = rows_of(pack.out)
    assert header == list(RECORD_HEADER)
    assert [(r[0], r[1]) for r in lines] == [
        ("factory", "Alpha Electronics"), ("factory", "Gamma Components"), ("public_buyer", "Region of Stockholm")]  # fmt: skip
    assert all(tuple(r[8:]) == expected[r[1]] for r in lines)

    out = tmp_path / "pack.html"
    html_run = run("report", "--buyer", "Region of Stockholm", "--format", "html", "--out", out)
    assert html_run.code == 0 and f"Written to {out}." in html_run.out, html_run.both
    html = out.read_text("utf-8")
    page = check_self_contained(html)
    text = " ".join(page.text)
    assert (
        "Evidence pack for Region of Stockholm" in text and "Alpha Electronics" in text and "Gamma Components" in text
    )
    assert "Beta Assembly" not in text, "a factory outside the buyer's supply chain"
    assert html.count("<svg") == 2 and "<rect" in html and "Median days to remedy" in text

    # Bad input: one line, exit 1, nothing listed.
    for args, says in (
        (("report", "--buyer", "City of Lyons", "--format", "html"), "No public buyer City of Lyons"),
        (("report", "--buyer", "City of Lyon", "--format", "pdf"), "Unknown format pdf"),
        (("report", "--remedy", "--buyer", "City of Lyon"), "not both"),
        (("report", "--format", "html"), "--remedy"),
        (("report", "--buyer", "  "), "Name the public buyer"),
    ):
        result = run(*args)
        assert says in one_line_error(result), (args, result.err)
        assert result.out == "", (args, result.out)

    # The public table: consent 2 and approved only.
    pending = json.loads(run("complaints", "pending", "--json").out)
    assert len(pending) == 3 and got.consent_one not in {r["case_ref"] for r in pending}
    row = next(r for r in pending if r["case_ref"] == got.public_ok)
    assert "No case" in one_line_error(run("complaints", "approve", got.consent_one, "--hash", row["hash"]))
    assert "changed since" in one_line_error(run("complaints", "approve", got.public_ok, "--hash", "0" * 12))
    approved = run("complaints", "approve", got.public_ok, "--hash", row["hash"])
    assert approved.code == 0 and "approved" in approved.out, approved.both
    table = rows_of(run("complaints", "table", "--format", "csv").out)
    assert table == [list(PUBLIC_HEADER), ["Alpha Electronics", "CN", "2031-01", "wages", "resolved_confirmed",
                                           "back_pay (worker)"]]  # fmt: skip
    page = check_self_contained(run("complaints", "table", "--format", "html").out)
    words = " ".join(page.text)
    assert "Alpha Electronics" in words and "resolved, confirmed by the worker" in words
    assert "Back pay (verified by the worker)" in words and "Beta Assembly" not in words
    revoked = run("complaints", "revoke", got.public_ok)
    assert revoked.code == 0 and "withdrawn" in revoked.out, revoked.both
    assert "Nothing in the register" in one_line_error(run("supply-chain", "remove", "--factory", "Nowhere Ltd"))


def test_a_hostile_factory_name_is_escaped_in_the_pack(tmp_path: Path, partner: Partner) -> None:
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    env = {"INTAKE_PARTNER_HOME": str(partner.home.home), "INTAKE_LANG": "en"}
    from relay.summary import FactoryRecord

    hostile = FactoryRecord(name=HOSTILE, country="CN", public_buyers=[HOSTILE_BUYER])
    node = SyntheticNode("north")
    for _ in range(6):
        deliver(partner, node, summary(hostile, "resolved", days=20, full=True), at(date(2031, 6, 1)))
    html = intake("partner", "report", "--buyer", HOSTILE_BUYER, "--format", "html", "--passphrase-file", pw, env=env)
    assert html.code == 0, html.both
    page = check_self_contained(html.out)
    assert HOSTILE in page.text and f"Evidence pack for {HOSTILE_BUYER}" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;" in html.out
    csv_run = intake("partner", "report", "--buyer", HOSTILE_BUYER, "--format", "csv", "--passphrase-file", pw, env=env)
    assert rows_of(csv_run.out)[1][1] == HOSTILE


def test_csv_cells_never_run_as_formulas() -> None:
    from intake.cli.partner_render import cell, pack_csv
    from relay.partner.remedy import MEASURES, Line

    assert [cell(v) for v in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "Alpha", 12, None)] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "Alpha", "12", ""]  # fmt: skip
    line = Line("factory", "k", "=cmd|' /C calc'!A0", shown=dict.fromkeys(MEASURES, 0))
    buyer = Line("buyer", "b", "@Buyer", factories=["k"], shown=dict.fromkeys(MEASURES, 0))
    [_, factory, own] = rows_of(pack_csv(buyer, [line]))
    assert factory[1] == "'=cmd|' /C calc'!A0" and own[1] == "'@Buyer"
