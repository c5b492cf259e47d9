"""``intake partner supply-chain ...`` and ``intake partner complaints ...``: the partner's own
supply-chain register (which parent company, brands and public buyers a factory has) and the public
complaints table's approvals (docs/relay.md#the-remedy-record). Registered under ``intake partner``
by intake/cli/app.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from i18n import d_, dn_
from intake.cli.common import JsonOpt, PassEnvOpt, PassFileOpt, UserOpt, console, fail, print_error, print_json_or_table
from intake.cli.partner import _partner_db
from intake.errors import CsvRejected, InvalidInput

if TYPE_CHECKING:
    from relay.partner.remedy import Line

supply_app = typer.Typer(
    help=d_("The partner's supply-chain register: a factory's parent company, brands and public buyers."),
    no_args_is_help=True,
)
complaints_app = typer.Typer(
    help=d_("The public complaints table: approved rows of cases whose worker agreed to publication."),
    no_args_is_help=True,
)

FactoryOpt = Annotated[str, typer.Option("--factory", help=d_("The factory's name, as the summaries give it."))]
CountryOpt = Annotated[
    str, typer.Option("--country", help=d_("Its two-letter country code, as the summaries give it."))
]
OshOpt = Annotated[
    str, typer.Option("--osh-id", help=d_("Its Open Supply Hub id (then name and country do not matter)."))
]
NodeOpt = Annotated[str | None, typer.Option("--node", help=d_("The node that sent the case, if several did."))]


def _invalid(exc: InvalidInput) -> None:
    fail(d_("Not valid: {what} ({detail}).").format(what=", ".join(exc.fields) or "?", detail=exc.detail))


@supply_app.command("add")
def supply_add(
    factory: FactoryOpt,
    country: CountryOpt = "",
    osh_id: OshOpt = "",
    parent: Annotated[str, typer.Option("--parent", help=d_("Its parent company (replaces the one held)."))] = "",
    brand: Annotated[
        list[str] | None, typer.Option("--brand", help=d_("A brand it supplies (repeat for more)."))
    ] = None,
    buyer: Annotated[
        list[str] | None, typer.Option("--buyer", help=d_("A public buyer it supplies (repeat for more)."))
    ] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Say which parent company, brands or public buyers a factory has (the register wins over the summaries)."""
    from relay.partner.supply import add

    with _partner_db(user, passphrase_file, passphrase) as (_home, keys, store):
        try:
            n = add(store, (factory, country, osh_id), parent=parent, brands=brand or (), buyers=buyer or (),
                    user=keys.user)  # fmt: skip
        except InvalidInput as exc:
            _invalid(exc)
    console.print(dn_("{n} relation added.", "{n} relations added.", n).format(n=n))


@supply_app.command("remove")
def supply_remove(
    factory: FactoryOpt,
    country: CountryOpt = "",
    osh_id: OshOpt = "",
    relation: Annotated[str, typer.Option("--relation", help=d_("Only parent, brand or buyer."))] = "",
    name: Annotated[str, typer.Option("--name", help=d_("Only the relation with this name."))] = "",
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Remove a factory's relations from the register (the summaries' then count again)."""
    from relay.partner.supply import remove

    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        try:
            n = remove(store, (factory, country, osh_id), relation=relation.strip().lower(), name=name)
        except InvalidInput as exc:
            _invalid(exc)
    if n == 0:
        fail(d_("Nothing in the register matches {factory}.").format(factory=escape(factory)))
    console.print(dn_("{n} relation removed.", "{n} relations removed.", n).format(n=n))


@supply_app.command("import")
def supply_import(
    file: Annotated[
        Path, typer.Argument(metavar="CSV", help=d_("CSV with name, country, os_id, parent_company, brands, buyers."))
    ],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Import the register from a CSV (Open Supply Hub's columns): all rows or none."""
    from intake.store.factories import MAX_CSV_BYTES
    from relay.partner.supply import BadCountries, import_csv

    try:
        with file.open("rb") as fh:
            data = fh.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        fail(d_("Cannot read {path}: {reason}").format(path=file, reason=exc.strerror))
    with _partner_db(user, passphrase_file, passphrase) as (_home, keys, store):
        try:
            factories, relations = import_csv(store, data, user=keys.user)
        except CsvRejected as exc:
            from intake.desk.factories import row_messages

            for line in row_messages(exc.errors):
                print_error(line)
            fail(d_("Nothing was imported from {path}.").format(path=file))
        except BadCountries as exc:
            for row, value in exc.rows[:50]:
                print_error(
                    d_("row {row}: country {value} is not a two-letter code such as CN").format(row=row, value=value)
                )
            fail(d_("Nothing was imported from {path}.").format(path=file))
    console.print(
        dn_("Imported from {path}: {n} factory, {relations} relations held for them.",
            "Imported from {path}: {n} factories, {relations} relations held for them.", factories)
        .format(path=file, n=factories, relations=relations),
        markup=False, highlight=False,
    )  # fmt: skip


@supply_app.command("list")
def supply_list(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Every factory with the parent company, brands and buyers the record uses, and where each comes from."""
    from relay.partner.remedy import record

    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        factories: list[Line] = record(store).factories
    rows = [
        {"factory": f.name, "country": f.country, "open_supply_hub_id": f.osh_id, "parent_company": f.chain.parent,
         "brands": f.chain.brands, "public_buyers": f.chain.buyers, "source": f.chain.source}
        for f in factories
    ]  # fmt: skip

    def src(f: Line, relation: str, text: str) -> str:
        by = f.chain.source.get(relation)
        return f"{escape(text)} ({d_('partner') if by == 'partner' else d_('groups')})" if text else ""

    headers = (d_("Factory"), d_("Country"), d_("Parent company"), d_("Brands"), d_("Public buyers"))
    print_json_or_table(rows, as_json, headers, (
        (escape(f.name), f.country, src(f, "parent", f.chain.parent), src(f, "brand", ", ".join(f.chain.brands)),
         src(f, "buyer", ", ".join(f.chain.buyers)))
        for f in factories
    ))  # fmt: skip


# -- the public complaints table ------------------------------------------------------------------------
def _row_json(row: object) -> dict[str, object]:
    from relay.partner.public import HASH_SHOWN, PublicRow

    assert isinstance(row, PublicRow)  # noqa: S101 - for mypy
    return {"node": row.node, "case_ref": row.case_ref, "hash": row.row_hash[:HASH_SHOWN], **row.content}


@complaints_app.command("pending")
def complaints_pending(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Rows waiting for a coordinator: never approved, or changed since (they are not published meanwhile)."""
    from relay.partner.public import pending

    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        rows = [_row_json(r) for r in pending(store)]
    if not rows and not as_json:
        console.print(d_("No row waits for approval."))
        return
    headers = (d_("Case"), d_("Hash"), d_("Factory"), d_("Month"), d_("Category"), d_("Status"), d_("Outcome"))
    print_json_or_table(rows, as_json, headers, (
        (str(r["case_ref"]), str(r["hash"]), escape(str(r["factory"])), str(r["month"]),
         ", ".join(r["categories"]), str(r["status"]),  # type: ignore[arg-type]
         "; ".join(f"{k} ({v})" for k, v in r["outcome"]))  # type: ignore[attr-defined]
        for r in rows
    ))  # fmt: skip


@complaints_app.command("approve")
def complaints_approve(
    case_ref: Annotated[str, typer.Argument(metavar="REF", help=d_("The case reference, as 'pending' shows it."))],
    row_hash: Annotated[
        str, typer.Option("--hash", help=d_("The row's hash as 'pending' shows it: approves only that content."))
    ],
    node: NodeOpt = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Approve one row for the public table (coordinators only), bound to the content 'pending' showed."""
    from relay.partner.public import HASH_SHOWN, approve, find

    want = row_hash.strip().lower()
    if len(want) < HASH_SHOWN:
        fail(
            d_("Give the row's hash as 'intake partner complaints pending' shows it ({n} characters).").format(
                n=HASH_SHOWN
            )
        )
    with _partner_db(user, passphrase_file, passphrase) as (_home, keys, store):
        rows = find(store, case_ref, node)
        if not rows:
            fail(d_("No case {ref} whose worker agreed to publication.").format(ref=escape(case_ref)))
        if len(rows) > 1:
            fail(d_("Case {ref} came from several nodes; name one with --node.").format(ref=escape(case_ref)))
        if not rows[0].row_hash.startswith(want):
            fail(d_("Row {ref} changed since you looked: see 'intake partner complaints pending' again.").format(
                ref=escape(case_ref)))  # fmt: skip
        approve(store, rows[0], user=keys.user, role=keys.role)
    console.print(d_("Row {ref} approved: it is in the public table.").format(ref=rows[0].case_ref))


@complaints_app.command("revoke")
def complaints_revoke(
    case_ref: Annotated[str, typer.Argument(metavar="REF", help=d_("The case reference."))],
    node: NodeOpt = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Withdraw a row's approval: it leaves the public table at once (copies already published stay out there)."""
    from relay.partner.public import revoke

    with _partner_db(user, passphrase_file, passphrase) as (_home, keys, store):
        n = revoke(store, case_ref, node=node, role=keys.role)
    if n == 0:
        fail(d_("No approved row {ref}.").format(ref=escape(case_ref)))
    console.print(d_("Approval of row {ref} withdrawn.").format(ref=escape(case_ref.strip().lower())))


@complaints_app.command("table")
def complaints_table(
    fmt: Annotated[str, typer.Option("--format", help=d_("csv, html or json."))] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help=d_("Write to this file instead of the screen."))] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """The public complaints table (factory, month, category, status, outcome): approved rows only."""
    from intake import clock
    from intake.cli.partner_render import emit, public_csv, public_html
    from relay.partner.public import table

    fmt = fmt.strip().lower()
    if fmt not in ("csv", "html", "json"):
        fail(d_("Unknown format {name}; choose one of: {choices}").format(name=escape(fmt), choices="csv, html, json"))
    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        rows = table(store)
    if fmt == "json":
        text = json.dumps([r.content for r in rows], ensure_ascii=False, indent=2) + "\n"
    else:
        text = public_csv(rows) if fmt == "csv" else public_html(rows, clock.now().date().isoformat())
    emit(text, out)
