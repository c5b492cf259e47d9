"""``intake relay ...``: a node sending approved, anonymised case summaries to its partners (docs/relay.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from i18n import d_, dn_
from intake.cli.common import (
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    UserOpt,
    _state,
    console,
    err,
    fail,
    print_json_or_table,
    read_passphrase,
    unlocked_cases,
)
from intake.errors import NotEligible, Stale

relay_app = typer.Typer(help=d_("Send approved, anonymised case summaries to partners."), no_args_is_help=True)
partners_app = typer.Typer(help=d_("The partners this node relays to."), no_args_is_help=True)
relay_app.add_typer(partners_app, name="partners")


def _relay(store: Any, keys: Any, settings: Any) -> Any:
    from relay.gate import Relay

    return Relay(store, keys, patterns=settings.relay_patterns())


@relay_app.command("key")
def relay_key() -> None:
    """Print this node's public signing key, for a partner's 'intake partner nodes add'."""
    from crypto.envelope import node_key_string
    from intake.node import load_keyring

    ring = load_keyring(_state.node())
    console.print(node_key_string(ring.verify_key))
    console.print(
        d_("Fingerprint (compare it with the partner by phone): {fp}").format(fp=ring.fingerprints()["ed25519"])
    )


@partners_app.command("add")
def partners_add(
    name: Annotated[str, typer.Argument(help=d_("A short name for the partner."))],
    key: Annotated[str, typer.Option("--key", help=d_("The partner's key (intake-partner1:...)."))],
    url: Annotated[
        str, typer.Option("--url", help=d_("The partner's inbox URL (https://...); none for USB only."))
    ] = "",
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help=d_("File holding the token the partner gave you."))
    ] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="INTAKE_RELAY_TOKEN", hidden=True)] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Register a partner; prints its fingerprints: compare them with the partner before relaying."""
    from crypto import fingerprint
    from crypto.envelope import parse_partner_key

    try:
        box, receipts = parse_partner_key(key.strip())
    except ValueError as exc:
        fail(d_("Not a partner key: {reason}").format(reason=exc))
    secret = ""
    if url:
        if token_file is not None:
            try:
                secret = token_file.read_text("utf-8").strip()
            except OSError as exc:
                fail(d_("Cannot read {path}: {reason}").format(path=token_file, reason=exc.strerror))
        else:
            secret = read_passphrase(None, token, prompt=d_("The partner's token for this node"))
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        partner = _relay(store, keys, settings).add_partner(name, key, url=url, token=secret)
    console.print(d_("Partner {name} added.").format(name=escape(partner.name)))
    console.print(d_("Encryption key fingerprint: {fp}").format(fp=fingerprint(bytes(box), kind="x25519")))
    console.print(d_("Receipt key fingerprint:    {fp}").format(fp=fingerprint(bytes(receipts), kind="ed25519")))
    console.print(d_("Compare both with the partner (by phone, not by e-mail) before approving summaries."))


@partners_app.command("list")
def partners_list(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """The registered partners and their outbox."""
    from crypto import fingerprint

    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        relay = _relay(store, keys, settings)
        partners = relay.partners()
        rows = relay.outbox()
    out = []
    for p in partners:
        mine = [r for r in rows if r.partner == p.name]
        out.append({
            "name": p.name, "url": p.url, "fingerprint": fingerprint(p.box_key, kind="x25519"),
            "delivered": sum(1 for r in mine if r.delivered_at),
            "pending": sum(1 for r in mine if not r.delivered_at and not r.cancelled),
        })  # fmt: skip
    if not out and not as_json:
        console.print(d_("No partners yet: 'intake relay partners add NAME --key KEY --url URL'."))
        return
    headers = (d_("Name"), d_("Inbox"), d_("Fingerprint"), d_("Delivered"), d_("Pending"))
    print_json_or_table(
        out, as_json, headers,
        ((p["name"], p["url"] or d_("(USB only)"), p["fingerprint"], str(p["delivered"]), str(p["pending"])) for p in out),
    )  # fmt: skip


@partners_app.command("remove")
def partners_remove(
    name: str, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Forget a partner; its undelivered envelopes are cancelled."""
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        cancelled = _relay(store, keys, settings).remove_partner(name)
    console.print(
        dn_(
            "Partner {name} removed; {n} undelivered envelope cancelled.",
            "Partner {name} removed; {n} undelivered envelopes cancelled.",
            cancelled,
        ).format(name=escape(name), n=cancelled)
    )


@relay_app.command("preview")
def relay_preview(
    case_id: int,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Print exactly what would be sealed for each partner, and whether it may leave."""
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        relay = _relay(store, keys, settings)
        review = relay.review(case_id)
        partners = relay.partners()
        from relay.summary import REF_LABEL

        ref_key = keys.key(REF_LABEL)
        per_partner = [(p.name, review.draft.for_partner(ref_key, p.box_key)) for p in partners]
    doc = {
        "case_id": case_id,
        "state": review.state,
        "reason": review.reason,
        "summary_sha256": review.content_hash,
        "approved_by": review.approved_by,
        "approved_at": review.approved_at,
        "removed": [{"kind": r.kind, "start": r.start, "end": r.end} for r in review.draft.narrative.removals],
        "partners": [{"partner": name, "summary": s.model_dump(mode="json")} for name, s in per_partner],
    }
    if not per_partner:
        doc["partners"] = [{"partner": None, "summary": review.draft.summary.model_dump(mode="json")}]
    if as_json:
        console.print_json(json.dumps(doc, ensure_ascii=False))
        return
    from intake.desk.relay import STATE_LABELS

    console.print(d_("Case {id}: {state}").format(id=case_id, state=d_(STATE_LABELS[review.state])), highlight=False)
    console.print(d_("Summary hash (approve exactly this): {hash}").format(hash=review.content_hash))
    for entry in doc["partners"]:
        console.print(d_("For partner {name}:").format(name=entry["partner"] or d_("(none registered)")))
        console.print_json(json.dumps(entry["summary"], ensure_ascii=False))


@relay_app.command("approve")
def relay_approve(
    case_id: int,
    summary_hash: Annotated[
        str, typer.Option("--hash", help=d_("The summary hash printed by 'intake relay preview'."))
    ],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Approve a case's summary as previewed (coordinators only) and queue it for every partner."""
    from crypto import Role

    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        if keys.role is not Role.COORDINATOR:
            fail(d_("Only a coordinator can approve what leaves the node."))
        relay = _relay(store, keys, settings)
        try:
            queued = relay.approve(case_id, summary_hash.strip())
        except Stale:
            fail(d_("The summary changed since it was shown; run 'intake relay preview' again and approve its hash."))
        except NotEligible:
            from intake.desk.relay import STATE_LABELS

            fail(d_(STATE_LABELS[relay.review(case_id).state]))
    console.print(
        dn_(
            "Approved; {n} envelope queued. Send it with 'intake relay push' or 'intake relay export'.",
            "Approved; {n} envelopes queued. Send them with 'intake relay push' or 'intake relay export'.",
            queued,
        ).format(n=queued)
    )


@relay_app.command("push")
def relay_push(
    force: Annotated[bool, typer.Option("--force", help=d_("Try now, whatever the back-off says."))] = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Send queued envelopes to the partners' inboxes over HTTPS; retries later what fails."""
    import httpx

    from relay.transport import push

    with (
        unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store),
        httpx.Client(timeout=30.0, follow_redirects=False) as client,
    ):
        report = push(_relay(store, keys, settings), client, force=force)
    console.print(
        d_("{delivered} delivered, {failed} failed (retried later), {cancelled} cancelled, {waiting} waiting.").format(
            delivered=len(report.delivered), failed=len(report.failed), cancelled=len(report.cancelled),
            waiting=report.waiting,
        )
    )  # fmt: skip
    for envelope_id, error in report.failed.items():
        err.print(f"{envelope_id}: {escape(error)}", highlight=False)
    refused = _print_messages(report.messages.outcomes)
    for name, error in report.messages.errors.items():
        err.print(d_("{partner}: messages not collected ({reason})").format(partner=escape(name), reason=escape(error)))
    if report.failed or refused:
        raise typer.Exit(2)


def _print_messages(outcomes: Any, names: Any = None) -> int:
    """One line for what partners sent back, and one per refusal with why (named by file when from
    a folder); returns how many were refused."""
    refused = [o for o in outcomes if not o.ok]
    if outcomes:
        console.print(
            d_("Partner messages: {stored} new, {duplicate} already here, {refused} refused.").format(
                stored=sum(o.status == "stored" for o in outcomes),
                duplicate=sum(o.status == "duplicate" for o in outcomes), refused=len(refused),
            )
        )  # fmt: skip
    for i, o in enumerate(outcomes):
        if o.ok:
            continue
        err.print(
            d_("{id}: message refused: {reason} ({detail})").format(
                id=names[i] if names else o.message_id or "-", reason=o.reason, detail=escape(o.detail)
            ),
            highlight=False,
        )
    return len(refused)


@relay_app.command("import")
def relay_import(
    folder: Annotated[Path, typer.Argument(help=d_("Folder with .message files from a partner."))],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Take partner messages from a folder (a USB stick): verified, then stored with their cases."""
    from relay.inbound import Inbound, import_folder

    if not folder.is_dir():
        fail(d_("{path} is not a folder.").format(path=folder))
    with unlocked_cases(user, passphrase_file, passphrase) as (_settings, keys, store):
        results = import_folder(Inbound(store, keys), folder)
    if not results:
        console.print(d_("No .message files in {path}.").format(path=folder))
    if _print_messages([o for _name, o in results], [name for name, _o in results]):
        raise typer.Exit(2)


@relay_app.command("export")
def relay_export(
    to: Annotated[Path, typer.Option("--to", help=d_("Folder to write the envelopes to (e.g. a USB stick)."))],
    partner: Annotated[str | None, typer.Option("--partner", help=d_("Only this partner's envelopes."))] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Write undelivered envelopes as files (sealed: safe to carry); the partner imports the folder."""
    from relay.transport import export

    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        try:
            written = export(_relay(store, keys, settings), to, partner=partner)
        except OSError as exc:
            fail(d_("Cannot write to {path}: {reason}").format(path=to, reason=exc.strerror))
    console.print(
        dn_("{n} envelope written to {path}.", "{n} envelopes written to {path}.", len(written)).format(
            n=len(written), path=to
        )
    )


@relay_app.command("outbox")
def relay_outbox(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Every envelope queued: to whom, for which case, delivered or why not yet."""
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        rows = _relay(store, keys, settings).outbox()
    headers = (d_("Sequence"), d_("Partner"), d_("Case"), d_("State"), d_("Attempts"), d_("Last error"))
    print_json_or_table(
        [r.__dict__ for r in rows], as_json, headers,
        ((str(r.sequence), r.partner, str(r.case_id or ""), _outbox_state(r), str(r.attempts), escape(r.last_error)) for r in rows),
    )  # fmt: skip


def _outbox_state(row: Any) -> str:
    """Where an outbox row stands, in words."""
    return (
        d_("delivered {at}").format(at=row.delivered_at) if row.delivered_at
        else d_("cancelled: {why}").format(why=row.cancelled) if row.cancelled
        else d_("exported {at}").format(at=row.exported_at) if row.exported_at
        else d_("pending")
    )  # fmt: skip
