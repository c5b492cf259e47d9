"""The partner's remedy record, a public buyer's evidence pack and the public complaints table, as CSV
and as one printable HTML page (``intake partner report --remedy / --buyer``, ``complaints table``).

The HTML is self-contained: one file with its style inline, charts drawn here as inline SVG, no
script, no font, no image, no link to anything outside (a Content-Security-Policy of
``default-src 'none'`` says so to the browser too); every name in it is escaped by Jinja2. A CSV cell
that a spreadsheet would run as a formula (starting with = + - @, a tab or a return) is prefixed
with ``'``: a factory's name can come from a worker's words.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

import i18n
from i18n import D_, d_
from intake.stats import HIDDEN, Shown
from relay.partner.public import PublicRow
from relay.partner.remedy import MEASURES, Line, Record

MEASURE_LABELS: dict[str, str] = {
    "reported": D_("Cases reported"),
    "in_remedy": D_("In remedy"),
    "remedied": D_("Remedied"),
    "confirmed_by_workers": D_("Confirmed by workers"),
    "disputed": D_("Disputed by workers"),
    "retaliation_reports": D_("Retaliation reports"),
    "overdue_steps": D_("Overdue steps"),
    "median_days_to_remedy": D_("Median days to remedy"),
}
LEVEL_LABELS: dict[str, str] = {
    "factory": D_("Factories"),
    "parent": D_("Parent companies"),
    "brand": D_("Brands"),
    "buyer": D_("Public buyers"),
    "total": D_("All factories"),
}
LEVEL_CODES = {
    "factory": "factory",
    "parent": "parent_company",
    "brand": "brand",
    "buyer": "public_buyer",
    "total": "total",
}
CHARTED = ("reported", "remedied", "confirmed_by_workers", "disputed")
HERE = Path(__file__).resolve().parent
env = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)  # fmt: skip


# -- CSV ----------------------------------------------------------------------------------------------
def cell(value: object) -> str:
    """A CSV cell no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([cell(v) for v in row])
    return buf.getvalue()


RECORD_HEADER = (
    "level", "name", "country", "open_supply_hub_id", "parent_company", "brands", "public_buyers", "factories",
    *MEASURES, "median_days_to_remedy",
)  # fmt: skip


def _record_row(line: Line) -> list[object]:
    factory = line.level == "factory"
    return [
        LEVEL_CODES[line.level], line.name, line.country, line.osh_id,
        line.chain.parent if factory else "", " | ".join(line.chain.brands) if factory else "",
        " | ".join(line.chain.buyers) if factory else "", "" if factory else len(line.factories),
        *(line.shown[m] for m in MEASURES), "" if line.median is None else line.median,
    ]  # fmt: skip


def record_csv(record: Record) -> str:
    """The whole record: every factory, then the roll-ups by parent company, brand and buyer, then the total."""
    lines = [*record.factories, *record.groups["parent"], *record.groups["brand"], *record.groups["buyer"]]
    return _csv(RECORD_HEADER, [_record_row(line) for line in [*lines, record.total]])


def pack_csv(buyer: Line, factories: Sequence[Line]) -> str:
    """A buyer's pack: its factories, then its own roll-up."""
    return _csv(RECORD_HEADER, [_record_row(line) for line in [*factories, buyer]])


def _label(table: dict[str, str], key: str) -> str:
    """A translated label by key (a literal inside d_() would be extracted as a msgid of its own)."""
    return d_(table[key])


PUBLIC_HEADER = ("factory", "country", "month", "category", "status", "outcome")


def public_csv(rows: Sequence[PublicRow]) -> str:
    """The public table with codes: categories and outcomes separated by ``; ``, an outcome as
    ``kind (verified_by)``."""
    return _csv(
        PUBLIC_HEADER,
        [
            [r.factory, r.country, r.month, "; ".join(r.categories), r.status,
             "; ".join(f"{kind} ({verified})" for kind, verified in r.outcome)]
            for r in rows
        ],
    )  # fmt: skip


# -- charts (inline SVG, drawn here) -------------------------------------------------------------------
LABEL_W, BAR_W, BAR_H, GAP = 230, 440, 13, 9


def _short(name: str, at: int = 34) -> str:
    return name if len(name) <= at else name[: at - 1] + "…"


def bar_chart(title: str, lines: Sequence[Line], measures: Sequence[str]) -> dict[str, Any]:
    """Grouped horizontal bars: per line, one bar per measure; a hidden count gets its mark, no bar.
    Returns the geometry the template draws (numbers and text only: the template escapes the text)."""

    def value(line: Line, m: str) -> Shown | float | None:
        return line.median if m == "median_days_to_remedy" else line.shown[m]

    numbers = [v for line in lines for m in measures if isinstance(v := value(line, m), int | float)]
    top = max(numbers, default=0) or 1
    block = len(measures) * BAR_H + GAP
    width = LABEL_W + BAR_W + 60
    legend, x, y = [], LABEL_W, 6
    for k, m in enumerate(measures if len(measures) > 1 else ()):
        text = d_(MEASURE_LABELS[m])
        w = 7 * len(text) + 30  # wide enough for 11 px text in most scripts; a long one takes a new row
        if x > LABEL_W and x + w > width:
            x, y = LABEL_W, y + 16
        legend.append({"x": x, "y": y, "cls": f"m{k}", "text": text})
        x += w
    top_y = y + 26
    rects, texts = [], []
    for i, line in enumerate(lines):
        y0 = top_y + i * block
        texts.append(
            {
                "x": LABEL_W - 8,
                "y": y0 + len(measures) * BAR_H / 2 + 4,
                "anchor": "end",
                "text": _short(line.name),
                "cls": "name",
            }
        )
        for j, m in enumerate(measures):
            v, y = value(line, m), y0 + j * BAR_H
            if isinstance(v, int | float):
                bar = round(BAR_W * v / top, 1)
                rects.append({"x": LABEL_W, "y": y, "w": bar, "h": BAR_H - 2, "cls": f"m{j}"})
                texts.append(
                    {"x": LABEL_W + bar + 4, "y": y + BAR_H - 3, "anchor": "start", "text": _number(v), "cls": "v"}
                )
            else:
                mark = v if v in HIDDEN else "–"
                texts.append({"x": LABEL_W + 4, "y": y + BAR_H - 3, "anchor": "start", "text": mark, "cls": "v hidden"})
    return {
        "title": title, "width": width, "height": top_y + max(1, len(lines)) * block + 6,
        "rects": rects, "texts": texts, "legend": legend,
    }  # fmt: skip


def _number(v: Shown | float | None) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return i18n.format_number(v, i18n.desk_locale())


# -- HTML -----------------------------------------------------------------------------------------------
def _page(title: str, subtitle: str, note: str, **ctx: Any) -> str:
    loc = i18n.desk_locale()
    ctx.setdefault("summary", [])
    ctx.setdefault("charts", [])
    ctx.setdefault("tables", [])
    return env.get_template("partner_report.html").render(
        title=title, subtitle=subtitle, note=note, lang=i18n.html_lang(loc), dir=i18n.text_direction(loc),
        generated=d_("Made with grievance-intake on {day}.").format(day=ctx.pop("as_of")),
        **ctx,
    )  # fmt: skip


def _name(line: Line) -> str:
    return _label(LEVEL_LABELS, "total") if line.level == "total" else line.name


def _measure_cells(line: Line) -> list[str]:
    return [_number(line.shown[m]) for m in MEASURES] + [_number(line.median)]


def _factory_table(caption: str, factories: Sequence[Line]) -> dict[str, Any]:
    header = [d_("Factory"), d_("Country"), d_("Parent company"), d_("Brands"), d_("Public buyers")]
    rows = [
        [f.name + (f" ({f.osh_id})" if f.osh_id else ""), f.country, f.chain.parent, ", ".join(f.chain.brands),
         ", ".join(f.chain.buyers), *_measure_cells(f)]
        for f in factories
    ]  # fmt: skip
    return {"caption": caption, "header": header + [d_(MEASURE_LABELS[m]) for m in (*MEASURES, "median_days_to_remedy")],
            "rows": rows, "numeric_from": len(header)}  # fmt: skip


def _group_table(caption: str, groups: Sequence[Line]) -> dict[str, Any]:
    header = [d_("Name"), d_("Factories")]
    rows = [[_name(g), _number(len(g.factories)), *_measure_cells(g)] for g in groups]
    return {"caption": caption, "header": header + [d_(MEASURE_LABELS[m]) for m in (*MEASURES, "median_days_to_remedy")],
            "rows": rows, "numeric_from": 1}  # fmt: skip


def record_html(record: Record) -> str:
    """The whole remedy record as one printable page."""
    tables = [_factory_table(_label(LEVEL_LABELS, "factory"), record.factories)]
    tables += [_group_table(d_(LEVEL_LABELS[level]), record.groups[level]) for level in ("parent", "brand", "buyer")]
    tables.append(_group_table(_label(LEVEL_LABELS, "total"), [record.total]))
    return _page(
        d_("Remedy record"),
        d_("Cases from every labour group, per factory and rolled up by parent company, brand and public buyer."),
        d_(NOTE_MSGID),
        as_of=record.as_of.isoformat(),
        charts=[
            bar_chart(d_("Cases and remedy per factory"), record.factories, CHARTED),
            bar_chart(_label(MEASURE_LABELS, "median_days_to_remedy"), record.factories, ("median_days_to_remedy",)),
        ],
        tables=[t for t in tables if t["rows"]],
    )


def pack_html(record: Record, buyer: Line, factories: Sequence[Line]) -> str:
    """A public buyer's evidence pack: its factories and their remedy records, on one printable page."""
    summary = [(d_("Factories in the supply chain"), _number(len(factories)))]
    summary += [(d_(MEASURE_LABELS[m]), _number(buyer.shown[m])) for m in MEASURES]
    summary.append((_label(MEASURE_LABELS, "median_days_to_remedy"), _number(buyer.median)))
    return _page(
        d_("Evidence pack for {buyer}").format(buyer=buyer.name),
        d_("The factories in this public buyer's supply chain and their remedy records, from the reports of "
           "the labour groups that monitor them."),
        d_(NOTE_MSGID),
        as_of=record.as_of.isoformat(),
        summary=summary,
        charts=[
            bar_chart(d_("Cases and remedy per factory"), factories, CHARTED),
            bar_chart(_label(MEASURE_LABELS, "median_days_to_remedy"), factories, ("median_days_to_remedy",)),
        ],
        tables=[_factory_table(_label(LEVEL_LABELS, "factory"), factories)],
    )  # fmt: skip


def public_html(rows: Sequence[PublicRow], as_of: str) -> str:
    """The public complaints table as one printable page, in words."""
    header = [d_("Factory"), d_("Country"), d_("Month"), d_("Category"), d_("Status"), d_("Outcome")]
    table = {
        "caption": d_("Complaints"), "header": header, "numeric_from": len(header),
        "rows": [[r.factory, r.country, r.month, ", ".join(_category(c) for c in r.categories), _status(r.status),
                  "; ".join(_outcome(k, v) for k, v in r.outcome)] for r in rows],
    }  # fmt: skip
    return _page(
        d_("Complaints received"),
        d_("Each case whose worker agreed to its publication, as the partner's coordinator approved it."),
        "",
        as_of=as_of,
        tables=[table],
    )


NOTE_MSGID = D_(
    "Counts from 1 to 4 are shown as <5; counts shown as * are 5 or more, hidden so that no total reveals a count "
    "under 5. A median is shown over 5 or more remedied cases only. Days to remedy are counted from the first day "
    "of the month a case was first reported."
)


def _category(code: str) -> str:
    from intake.desk.labels import t_worker
    from intake.domain import Category

    try:
        return t_worker(Category(code))
    except ValueError:
        return code


def _status(code: str) -> str:
    from intake.desk.labels import status_label
    from intake.desk.remedy import STATE_LABELS

    return d_(STATE_LABELS[code]) if code in STATE_LABELS else status_label(code)


def _outcome(kind: str, verified: str) -> str:
    from intake.desk.remedy import KIND_LABELS, VERIFIED_LABELS

    k = d_(KIND_LABELS[kind]) if kind in KIND_LABELS else kind
    if verified == "not_verified":
        return d_("{kind} (not verified)").format(kind=k)
    v = d_(VERIFIED_LABELS[verified]) if verified in VERIFIED_LABELS else verified
    return d_("{kind} (verified {how})").format(kind=k, how=v)


# -- the command line ------------------------------------------------------------------------------------
FORMATS = ("text", "json", "csv", "html")


def emit(text: str, out: Path | None) -> None:
    """``text`` to ``out`` (a new or replaced file), else to standard output exactly as it is (no Rich
    markup or emoji codes read in a factory's name)."""
    import sys

    from intake.cli.common import console, fail

    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        out.write_text(text, "utf-8")
    except OSError as exc:
        fail(d_("Cannot write to {path}: {reason}").format(path=out, reason=exc.strerror))
    console.print(d_("Written to {path}.").format(path=out), markup=False, highlight=False)


def print_lines(caption: str, lines: Sequence[Line], *, factories: bool) -> None:
    """A table of record lines on the terminal (names escaped: never read as markup)."""
    from rich.markup import escape
    from rich.table import Table

    from intake.cli.common import console

    table = Table(title=caption)
    first = [d_("Factory"), d_("Country")] if factories else [d_("Name"), d_("Factories")]
    for h in (*first, *(d_(MEASURE_LABELS[m]) for m in (*MEASURES, "median_days_to_remedy"))):
        table.add_column(h)
    for line in lines:
        head = [escape(line.name), line.country] if factories else [escape(_name(line)), _number(len(line.factories))]
        table.add_row(*head, *_measure_cells(line))
    console.print(table)


def render_record(record: Record, fmt: str) -> str | None:
    """The whole record in ``fmt``; None for ``text`` (printed as tables here)."""
    import json

    if fmt == "json":
        return json.dumps(record.as_json(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return record_csv(record)
    if fmt == "html":
        return record_html(record)
    print_lines(_label(LEVEL_LABELS, "factory"), record.factories, factories=True)
    for level in ("parent", "brand", "buyer"):
        if record.groups[level]:
            print_lines(d_(LEVEL_LABELS[level]), record.groups[level], factories=False)
    print_lines(_label(LEVEL_LABELS, "total"), [record.total], factories=False)
    _print_note()
    return None


def render_pack(record: Record, buyer: Line, factories: Sequence[Line], fmt: str) -> str | None:
    """One buyer's pack in ``fmt``; None for ``text`` (printed as tables here)."""
    import json

    if fmt == "json":
        doc = {
            "threshold": record.as_json()["threshold"], "note": record.as_json()["note"],
            "as_of": record.as_of.isoformat(), "public_buyer": buyer.as_json(),
            "factories": [f.as_json() for f in factories],
        }  # fmt: skip
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return pack_csv(buyer, factories)
    if fmt == "html":
        return pack_html(record, buyer, factories)
    print_lines(d_("Evidence pack for {buyer}").format(buyer=buyer.name), factories, factories=True)
    print_lines(_label(LEVEL_LABELS, "buyer"), [buyer], factories=False)
    _print_note()
    return None


def _print_note() -> None:
    from intake.cli.common import console

    console.print(d_(NOTE_MSGID), markup=False, highlight=False)
