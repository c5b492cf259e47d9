"""``intake partner ...``: the receiving end of the relay, for a monitoring organisation (needs no node).

Its own home folder (``--home`` after ``partner``, or ``INTAKE_PARTNER_HOME``), its own users and
passphrases: the keys, the inbox server, the opener and the reports of docs/relay.md.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from i18n import d_, dn_
from intake.cli.common import (
    HostOpt,
    InsecureKdfOpt,
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    PortOpt,
    UserOpt,
    _slow,
    console,
    err,
    fail,
    print_json_or_table,
    read_passphrase,
)
from intake.settings import default_home

partner_app = typer.Typer(
    help=d_("The receiving end: a monitoring organisation's inbox and cases."), no_args_is_help=True
)
partner_keys_app = typer.Typer(help=d_("The partner's public keys."), no_args_is_help=True)
partner_nodes_app = typer.Typer(help=d_("The labour groups (nodes) this partner accepts."), no_args_is_help=True)
partner_cases_app = typer.Typer(help=d_("Opened case summaries (needs the passphrase)."), no_args_is_help=True)
partner_app.add_typer(partner_keys_app, name="keys")
partner_app.add_typer(partner_nodes_app, name="nodes")
partner_app.add_typer(partner_cases_app, name="cases")

PartnerHomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="INTAKE_PARTNER_HOME", help=d_("Partner folder (default: a per-user data folder).")),
]
_partner_home: dict[str, Path | None] = {"home": None}


@partner_app.callback()
def partner_options(home: PartnerHomeOpt = None) -> None:
    _partner_home["home"] = home


def _home() -> Any:
    from relay.partner.home import PartnerHome

    home = _partner_home["home"] or default_home(os.environ).with_name("grievance-intake-partner")
    return PartnerHome(Path(home).expanduser())


def _unlock_partner(user: str | None, passphrase_file: Path | None, passphrase: str | None) -> Any:
    home = _home()
    home.keyring()  # no home: say so before asking for a passphrase
    secret = read_passphrase(passphrase_file, passphrase, prompt=d_("Passphrase"))
    return home, home.unlock(user, secret, sleep=_slow)  # a wrong one is said by main() (intake/cli/app.py)


@contextmanager
def _partner_db(
    user: str | None, passphrase_file: Path | None, passphrase: str | None
) -> Iterator[tuple[Any, Any, Any]]:
    """Unlock the partner and open partner.db for the body of a ``with``: (home, keys, store)."""
    home, keys = _unlock_partner(user, passphrase_file, passphrase)
    store = home.open_db(keys)
    try:
        yield home, keys, store
    finally:
        store.close()


def _print_partner_key(home: Any) -> None:
    fps = home.fingerprints()
    console.print(d_("Partner key (give it to each labour group):"))
    console.print(home.key_string())
    console.print(d_("Encryption key fingerprint: {fp}").format(fp=fps["x25519"]))
    console.print(d_("Receipt key fingerprint:    {fp}").format(fp=fps["receipts"]))


@partner_app.command("init")
def partner_init(
    user: Annotated[str, typer.Option("--user", help=d_("Name of the first user."))] = "analyst",
    kdf_profile: Annotated[str, typer.Option("--kdf-profile", help=d_("Argon2id cost."))] = "moderate",
    allow_insecure_kdf: InsecureKdfOpt = False,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Create a partner home: keyring, inbox key, encrypted inbox and partner stores."""
    from crypto.kdf import INSECURE_PROFILES, PROFILES
    from relay.partner.home import init_partner

    if kdf_profile not in PROFILES or (kdf_profile in INSECURE_PROFILES and not allow_insecure_kdf):
        fail(d_("Unknown KDF profile {name}; choose one of: {choices}").format(
            name=kdf_profile, choices=", ".join(p for p in PROFILES if p not in INSECURE_PROFILES)))  # fmt: skip
    home = _home()
    secret = read_passphrase(passphrase_file, passphrase, prompt=d_("New passphrase"), confirm=True)
    init_partner(home.home, user=user, passphrase=secret, profile=kdf_profile)
    console.print(d_("Partner home created in {home}").format(home=home.home))
    _print_partner_key(home)


@partner_keys_app.command("show")
def partner_keys_show() -> None:
    """The partner key and its fingerprints (no passphrase needed)."""
    _print_partner_key(_home())


@partner_nodes_app.command("add")
def partner_nodes_add(
    name: str,
    key: Annotated[str, typer.Option("--key", help=d_("The node's key, from 'intake relay key' there."))],
) -> None:
    """Accept envelopes from a node; prints the token that node needs (shown once)."""
    inbox = _home().open_inbox()
    try:
        node, token = inbox.add_node(name, key)
    finally:
        inbox.close()
    console.print(d_("Node {name} registered. Fingerprint (compare it by phone): {fp}").format(
        name=escape(node.name), fp=node.fingerprint))  # fmt: skip
    console.print(d_("Its token (give it to the node over a safe channel; it is not shown again):"))
    console.print(token, highlight=False)


@partner_nodes_app.command("list")
def partner_nodes_list(as_json: JsonOpt = False) -> None:
    """The registered nodes."""
    inbox = _home().open_inbox()
    try:
        nodes = inbox.nodes()
    finally:
        inbox.close()
    rows = [{"name": n.name, "fingerprint": n.fingerprint, "added_at": n.added_at} for n in nodes]
    headers = (d_("Name"), d_("Fingerprint"), d_("Added"))
    print_json_or_table(rows, as_json, headers, ((r["name"], r["fingerprint"], r["added_at"]) for r in rows))


@partner_nodes_app.command("remove")
def partner_nodes_remove(name: str) -> None:
    """Stop accepting a node's envelopes (its token stops working; opened summaries stay)."""
    inbox = _home().open_inbox()
    try:
        inbox.remove_node(name)
    finally:
        inbox.close()
    console.print(d_("Node {name} removed.").format(name=escape(name)))


@partner_app.command("serve")
def partner_serve(
    host: HostOpt[str] = "127.0.0.1",
    port: PortOpt[int] = 8020,
) -> None:
    """Run the partner's inbox (put it behind TLS). Never needs the passphrase."""
    import uvicorn

    from intake.logs import setup_logging, uvicorn_log_config
    from relay.partner.app import create_partner_app

    setup_logging("INFO")
    app = create_partner_app(_home())
    console.print(d_("Partner inbox listening on http://{host}:{port}").format(host=host, port=port))
    uvicorn.run(
        app, host=host, port=port, access_log=False, server_header=False, log_config=uvicorn_log_config()
    )  # fmt: skip


@partner_app.command("import")
def partner_import(folder: Annotated[Path, typer.Argument(help=d_("Folder with .envelope files."))]) -> None:
    """Take envelopes from a folder (a USB stick) into the inbox; open them with 'intake partner open'."""
    from relay.partner.inbox import import_folder

    if not folder.is_dir():
        fail(d_("{path} is not a folder.").format(path=folder))
    results = import_folder(_home(), folder)
    taken = [name for name, why in results if not why]
    for name, why in results:
        if why:
            err.print(d_("{file}: refused ({reason})").format(file=name, reason=escape(why)), highlight=False)
    console.print(
        dn_(
            "{n} envelope taken into the inbox; {bad} refused.",
            "{n} envelopes taken into the inbox; {bad} refused.",
            len(taken),
        ).format(n=len(taken), bad=len(results) - len(taken))
    )


@partner_app.command("open")
def partner_open(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Verify and decrypt every envelope in the inbox; refuse replays, unknown senders, bad signatures."""
    from relay.partner.store import open_pending

    with _partner_db(user, passphrase_file, passphrase) as (home, keys, store):
        outcomes = open_pending(home, keys, store)
    if as_json:
        console.print_json(json.dumps([o.__dict__ for o in outcomes]))
    else:
        for o in outcomes:
            if o.ok:
                console.print(d_("{id}: opened, from {node}, case {ref}, #{seq}").format(
                    id=o.envelope_id, node=escape(o.node), ref=o.case_ref, seq=o.sequence), highlight=False)  # fmt: skip
            else:
                err.print(d_("{id}: refused: {reason} ({message})").format(
                    id=o.envelope_id, reason=o.reason, message=escape(o.message)), highlight=False)  # fmt: skip
        console.print(d_("{ok} opened, {bad} refused.").format(
            ok=sum(o.ok for o in outcomes), bad=sum(not o.ok for o in outcomes)))  # fmt: skip
    if any(not o.ok for o in outcomes):
        raise typer.Exit(2)


@partner_cases_app.command("list")
def partner_cases_list(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Every case received (newest version), across all nodes; longest overdue remedy step first."""
    from intake import clock

    today = clock.now().date()
    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        latest = store.by_overdue(today)
    rows = [
        {
            "node": v.node, "case_ref": v.summary.case_ref, "factory": v.summary.factory.name,
            "country": v.summary.factory.country, "categories": v.summary.categories, "severity": v.summary.severity,
            "first_reported": v.summary.first_reported, "status": v.summary.status, "versions": n,
            "remedy_state": v.summary.remedy_state.value if v.summary.remedy_state else None,
            "days_overdue": days,
            "overdue_who": sorted({s.who for s in v.summary.overdue_as_of(today).overdue_steps}),
        }
        for v, n, days in latest
    ]  # fmt: skip
    headers = (
        d_("Node"), d_("Case"), d_("Factory"), d_("Categories"), d_("Month"), d_("Status"), d_("Overdue"),
        d_("Versions"),
    )  # fmt: skip
    print_json_or_table(rows, as_json, headers, (
        (escape(r["node"]), r["case_ref"], escape(r["factory"]), ", ".join(r["categories"]),
         r["first_reported"], r["status"] + (f" ({r['remedy_state']})" if r["remedy_state"] else ""),
         dn_("{days} day overdue: {who}", "{days} days overdue: {who}", r["days_overdue"]).format(
             days=r["days_overdue"], who=", ".join(r["overdue_who"]))
         if r["days_overdue"] else "",
         str(r["versions"]))
        for r in rows
    ))  # fmt: skip


@partner_cases_app.command("show")
def partner_cases_show(
    case_ref: str,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """One case's summaries, oldest first (each later one is an update)."""
    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        versions = store.history(case_ref.strip().lower())
        received = store.files(case_ref.strip().lower())
    if not versions:
        fail(d_("No case {ref}.").format(ref=case_ref))
    if as_json:
        console.print_json(json.dumps(_versions_doc(versions, received), ensure_ascii=False))
        return
    for entry in _versions_doc(versions, received):
        console.print(d_("From {node}, #{seq}, sent {at} ({via}):").format(
            node=escape(entry["node"]), seq=entry["sequence"], at=entry["sent_at"], via=entry["via"]), highlight=False)  # fmt: skip
        console.print_json(json.dumps(entry["summary"], ensure_ascii=False))
    for f in received:
        console.print(d_("File {n}: {type}, {bytes} bytes, SHA-256 {sha256} ('intake partner cases file {ref} {n}')").format(
            n=f.n, type=f.type, bytes=f.bytes, sha256=f.sha256, ref=f.case_ref), highlight=False)  # fmt: skip


@partner_cases_app.command("file")
def partner_cases_file(
    case_ref: str,
    n: Annotated[int, typer.Argument(help=d_("File number."))],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Write a file a node sent with a case to standard output, to pipe into a viewer; never to a file here."""
    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        found = store.file(case_ref.strip().lower(), n)
    if found is None:
        fail(d_("Case {ref} has no file {n}.").format(ref=case_ref, n=n))
    if sys.stdout.isatty():
        fail(
            d_("Pipe this into a viewer, e.g. 'intake partner cases file {ref} {n} | display -'.").format(
                ref=case_ref, n=n
            )
        )
    sys.stdout.buffer.write(found[1])
    sys.stdout.buffer.flush()


def _versions_doc(versions: list[Any], received: list[Any]) -> list[dict[str, Any]]:
    """Each version as --json lists it; one whose envelope carried files lists them (issue 16)."""
    files: dict[str, list[dict[str, object]]] = {}
    for f in received:
        files.setdefault(f.envelope_id, []).append(f.to_json())
    return [
        {"node": v.node, "sequence": v.sequence, "sent_at": v.created_at.isoformat(), "via": v.via,
         "summary": v.summary.model_dump(mode="json"), **({"files": files[v.envelope_id]} if v.envelope_id in files else {})}
        for v in versions
    ]  # fmt: skip


@partner_app.command("report")
def partner_report(
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help=d_("Print CSV."))] = False,
    remedy: Annotated[
        bool,
        typer.Option("--remedy", help=d_("The remedy record per factory, parent company, brand and public buyer.")),
    ] = False,
    buyer: Annotated[
        str | None,
        typer.Option("--buyer", help=d_("One public buyer's evidence pack: its factories and their remedy records.")),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help=d_("text, json, csv or html (html with --remedy or --buyer)."))
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help=d_("Write to this file instead of the screen."))] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Cases by factory, category and month across all nodes; counts under 5 shown as <5. With --remedy
    the remedy record, with --buyer NAME one public buyer's evidence pack (docs/relay.md)."""
    from intake.stats import public_csv
    from relay.partner.report import report

    legacy = "json" if as_json else "csv" if as_csv else None
    if (as_json and as_csv) or (fmt and legacy and fmt != legacy):
        fail(d_("Choose one format: --format, --json or --csv."))
    fmt = (fmt or legacy or "text").strip().lower()
    if fmt not in ("text", "json", "csv", "html"):
        fail(d_("Unknown format {name}; choose one of: {choices}").format(
            name=escape(fmt), choices="text, json, csv, html"))  # fmt: skip
    if remedy and buyer is not None:
        fail(d_("Choose --remedy or --buyer, not both."))
    if remedy or buyer is not None:
        _remedy_report(buyer, fmt, out, user, passphrase_file, passphrase)
        return
    if fmt == "html" or out is not None:
        fail(d_("--format html and --out are for --remedy and --buyer."))
    as_json, as_csv = fmt == "json", fmt == "csv"
    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        doc = report(store)
    if as_csv:
        console.print(public_csv(doc), end="", highlight=False, markup=False)
        return
    if as_json:
        console.print_json(json.dumps(doc, ensure_ascii=False))
        return
    tables = (
        ("factory_by_category", d_("By factory")),
        ("month_by_category", d_("By month")),
        ("factory_by_month", d_("By factory and month")),
    )
    for name, title in tables:
        t = doc[name]
        table = Table(title=title)
        table.add_column("")
        for col in t["columns"]:
            table.add_column(col)
        table.add_column(d_("Total"))
        for row, cells, total in zip(t["rows"], t["cells"], t["row_totals"], strict=True):
            table.add_row(escape(row), *map(str, cells), str(total))
        table.add_row(d_("Total"), *map(str, t["column_totals"]), str(t["total"]))
        console.print(table)
    groups = Table(d_("Factory"), d_("Labour groups reporting it"), title=d_("Groups per factory"))
    for factory, n in doc["groups_per_factory"].items():
        groups.add_row(escape(factory), str(n))
    console.print(groups)
    console.print(escape(doc["note"]))


def _remedy_report(
    buyer: str | None,
    fmt: str,
    out: Path | None,
    user: str | None,
    passphrase_file: Path | None,
    passphrase: str | None,
) -> None:
    """The remedy record (issue 15), or one buyer's pack from it: same suppression, same figures."""
    from intake.cli.partner_render import emit, render_pack, render_record
    from relay.partner.remedy import record

    if buyer is not None and not buyer.strip():
        fail(d_("Name the public buyer: --buyer NAME."))
    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        rec = record(store)
    if buyer is None:
        text = render_record(rec, fmt)
    else:
        found = rec.buyer(buyer)
        if found is None:  # say so and list nothing: a typo must not print another buyer's pack
            fail(d_("No public buyer {name} in the supply-chain register or in the summaries received "
                    "('intake partner supply-chain list' shows them).").format(name=escape(buyer)))  # fmt: skip
        text = render_pack(rec, *found, fmt)
    if text is not None:
        emit(text, out)
    elif out is not None:
        fail(d_("--out needs --format json, csv or html."))


# -- the other direction: messages to the node that sent a case (docs/relay.md) -------------------------
@partner_app.command("message")
def partner_message(
    case_ref: Annotated[str, typer.Argument(help=d_("The case reference, as 'intake partner cases list' shows it."))],
    text_file: Annotated[Path, typer.Option("--text-file", help=d_("The message: a UTF-8 text file."))],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help=d_("question, brand_response, buyer_response, escalation_decision or update_request."),
        ),
    ] = "question",
    node: Annotated[str | None, typer.Option("--node", help=d_("The node that sent the case, if several did."))] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Queue a signed, sealed message for the node that sent case REF; it takes it on its next push."""
    from relay.message import KINDS, MAX_TEXT
    from relay.partner.outgoing import compose, nodes_for

    ref = case_ref.strip().lower()
    if kind not in KINDS:
        fail(d_("Unknown kind {kind}; choose one of: {choices}").format(kind=escape(kind), choices=", ".join(KINDS)))
    try:
        raw = text_file.read_bytes()
    except OSError as exc:
        fail(d_("Cannot read {path}: {reason}").format(path=text_file, reason=exc.strerror))
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        fail(d_("{path} is not UTF-8 text.").format(path=text_file))
    if not text:
        fail(d_("The message is empty."))
    if len(text) > MAX_TEXT:
        fail(d_("The message is {n} characters long; at most {max} fit in one.").format(n=len(text), max=MAX_TEXT))
    with _partner_db(user, passphrase_file, passphrase) as (home, keys, store):
        senders = [n for n in nodes_for(store, ref) if node is None or n[1] == node]
        if not senders:
            fail(d_("No case {ref}.").format(ref=escape(case_ref)))
        if len(senders) > 1:
            fail(d_("Case {ref} came from several nodes; name one with --node.").format(ref=ref))
        inbox = home.open_inbox()
        try:
            registered = {n.key for n in inbox.nodes()}
        finally:
            inbox.close()
        if senders[0][0] not in registered:
            fail(d_("{node} is no longer registered: the message cannot be sent.").format(node=escape(senders[0][1])))
        queued = compose(home, keys, store, ref, text, kind=kind, node=senders[0][1])
    console.print(
        d_("Message queued for {node} (#{seq}): it leaves when the node next pushes, or with 'intake partner export'.")
        .format(node=escape(queued.node), seq=queued.sequence),
        highlight=False,
    )  # fmt: skip


@partner_app.command("export")
def partner_export(
    to: Annotated[Path, typer.Option("--to", help=d_("Folder to write the messages to (e.g. a USB stick)."))],
    node: Annotated[str | None, typer.Option("--node", help=d_("Only this node's messages."))] = None,
) -> None:
    """Write the messages no node has taken yet as files (sealed: safe to carry); the node imports the folder."""
    from relay.partner.outgoing import export

    try:
        written = export(_home(), to, node=node)
    except OSError as exc:
        fail(d_("Cannot write to {path}: {reason}").format(path=to, reason=exc.strerror))
    console.print(
        dn_("{n} message written to {path}.", "{n} messages written to {path}.", len(written)).format(
            n=len(written), path=to
        )
    )


@partner_app.command("messages")
def partner_messages(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Every message sent to a node: about which case, and whether the node took it."""
    from relay.partner.outgoing import listing

    with _partner_db(user, passphrase_file, passphrase) as (home, _keys, store):
        rows = listing(home, store)
    out: list[dict[str, Any]] = [
        {"message_id": r.message_id, "node": node, "case_ref": ref, "kind": kind, "sequence": r.sequence,
         "created_at": r.created_at, "exported_at": r.exported_at or None, "acked_at": r.acked_at or None,
         "outcome": r.outcome or None}
        for r, node, ref, kind in rows
    ]  # fmt: skip
    headers = (d_("Node"), d_("Case"), d_("Sequence"), d_("State"))
    print_json_or_table(out, as_json, headers, (
        (escape(str(m["node"])), str(m["case_ref"]), str(m["sequence"]),
         d_("answered {at}: {outcome}").format(at=m["acked_at"], outcome=m["outcome"]) if m["acked_at"]
         else d_("exported {at}").format(at=m["exported_at"]) if m["exported_at"] else d_("pending"))
        for m in out
    ))  # fmt: skip
