"""Reading cases: ``intake drain`` (sealed reports into the cases store) and ``intake cases``."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text  # worker text is never parsed as Rich markup

from i18n import d_
from intake.audit import AuditLog
from intake.cli.common import (
    CaseArg,
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    UserOpt,
    _state,
    console,
    err,
    fail,
    print_table,
    unlock_node,
    unlocked_cases,
)
from intake.domain import Case
from intake.errors import IntakeError, RemoteUnavailable
from intake.node import open_cases
from intake.store import partner_messages

cases_app = typer.Typer(help=d_("Read cases (needs the passphrase)."), no_args_is_help=True)


def drain(user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None) -> None:
    """Open sealed reports from the inbox into the cases store."""
    from intake.drain import drain as drain_items
    from intake.panic import panicked_at

    settings = _state.settings()
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    from intake.remote import Pushed, RemoteInbox, item_source, push_desk_changes

    inbox, cases = item_source(settings), open_cases(settings, keys)
    pushed: Pushed | None = None
    not_pushed: RemoteUnavailable | None = None
    try:
        total = None if isinstance(inbox, RemoteInbox) else inbox.count()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task(d_("Opening reports"), total=total)
            result = drain_items(
                inbox, cases, keys, progress=lambda n: bar.advance(task, n),
                stop=lambda: panicked_at(settings.home) is not None,
            )  # fmt: skip
        if result.stopped:  # every batch before it is committed; the store closes below
            fail(d_("Panic: the node's keys were destroyed, so the drain stopped. Nothing was half-written."))
        if isinstance(inbox, RemoteInbox):  # paired: what the desk did for workers goes back to the intake
            try:
                pushed = push_desk_changes(settings, inbox)
            except RemoteUnavailable as exc:  # said after what was drained; the rest waits here
                not_pushed = exc
    finally:
        inbox.close()
        cases.close()
    console.print(
        d_(
            "New cases: {cases}. Follow-ups: {followups}. Already drained: {already}. Could not open: {unreadable}."
        ).format(
            cases=result.cases,
            followups=result.followups,
            already=result.already,
            unreadable=result.unreadable,
        )
    )
    if result.recordings:
        console.print(d_("Call recordings: {n}.").format(n=result.recordings))
    if result.files or result.media:
        console.print(d_("Evidence files: {n}.").format(n=result.files))
    if pushed is not None:
        console.print(
            d_("Sent to the intake: status changes: {statuses}. Replies: {replies}. SMS replies: {sms}.").format(
                statuses=pushed.statuses, replies=pushed.replies, sms=pushed.sms
            )
        )
    if not_pushed is not None:
        raise not_pushed
    if result.unreadable:
        raise typer.Exit(2)


@cases_app.command("list")
def cases_list(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help=d_("Show at most N cases (newest first)."))
    ] = None,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """List cases, newest first."""
    with unlocked_cases(user, passphrase_file, passphrase) as (_settings, _keys, store):
        rows = store.list_cases(limit)
    if as_json:
        typer.echo(json.dumps([c.model_dump(mode="json") for c in rows], ensure_ascii=False, indent=1))
        return
    headers = (
        d_("ID"),
        d_("Received"),
        d_("Channel"),
        d_("Status"),
        d_("Factory"),
        d_("Categories"),
        d_("What happened"),
    )
    print_table(headers, map(_case_row, rows))


def _case_row(c: Case) -> tuple[RenderableType, ...]:
    words = c.description.replace("\n", " ")
    return (
        str(c.id), c.created_at.strftime("%Y-%m-%d"), c.channel.value, c.status.value, Text(c.factory),
        ", ".join(x.value for x in c.categories), Text(words[:60] + ("…" if len(words) > 60 else "")),
    )  # fmt: skip


@cases_app.command("show")
def cases_show(
    case_id: CaseArg,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Show one case with the worker's own words and follow-ups."""
    with unlocked_cases(user, passphrase_file, passphrase) as (_settings, keys, store):
        try:
            case = store.get_case(case_id)
        except IntakeError:
            fail(d_("There is no case {id}.").format(id=case_id))
        messages = [m.as_json() for m in partner_messages.for_case(store, case_id)]
        remedy = _remedy(store, keys, case_id)
        files = store.attachments(case_id)
    if as_json:
        doc = case.model_dump(mode="json")
        doc["attachments"] = [f.to_json() for f in files]  # issue 16: no content; `intake cases attachment`
        doc["partner_messages"] = messages  # issue 15: what partners said about this case (relay/inbound.py)
        doc.update(remedy)  # issue 15: the plan with each step's remedy, the case's outcomes, remedy state
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        return
    console.print(
        "[bold]"
        + d_("Case {id}").format(id=case.id)
        + f"[/bold]  {case.created_at:%Y-%m-%d %H:%M} UTC  {case.channel.value}  {case.locale}"
    )
    console.print(
        d_("Status: {status}   Consent: {consent}   Contact allowed: {contact}").format(
            status=case.status.value, consent=int(case.consent), contact=d_("yes") if case.contact_ok else d_("no")
        )
    )
    console.print(
        d_("Factory: {factory}   Location: {location}").format(factory=case.factory, location=case.location),
        markup=False,
    )
    console.print(d_("Categories: {categories}").format(categories=", ".join(c.value for c in case.categories)))
    console.print(f"\n{case.description}\n", highlight=False, markup=False)
    for f in case.followups:
        console.print(f"[dim]{f.received_at:%Y-%m-%d %H:%M} {f.channel.value}[/dim]")
        console.print(f.text, highlight=False, markup=False)
    _print_files(case.id, files)
    _print_remedy(remedy)
    if messages:
        console.print("\n[bold]" + d_("Messages from partners") + "[/bold]")
    for m in messages:
        console.print(f"[dim]{m['received_at']} {m['partner']} ({m['kind']})[/dim]", highlight=False)
        console.print(m["text"], highlight=False, markup=False)


def _remedy(store: Any, keys: Any, case_id: int) -> dict[str, Any]:
    """The case's plan (each step with its ``remedy`` outcome or null), its outcomes, the worker's
    confirmation and the remedy state, as ``intake cases show --json`` prints them."""
    from intake.remedy import outcome_json
    from intake.store.actions import Actions
    from intake.store.casework import CaseWork
    from intake.store.remedy import CaseRemedy

    work = CaseWork(store, keys)
    remedy = CaseRemedy(work)
    state = remedy.states([case_id]).get(case_id)
    return {
        "actions": [
            {"id": a.id, "action": a.action, "who": a.who, "due": a.due.isoformat(), "evidence": a.evidence,
             "done": a.done, "done_at": a.done_at.isoformat() if a.done_at else None, "overdue": a.overdue,
             "remedy": outcome_json(a.outcome)}
            for a in Actions(work).plan(case_id)
        ],
        "outcomes": [
            {"id": o.id, **(outcome_json(o.outcome) or {}), "recorded_at": o.at.isoformat(), "user": o.user}
            for o in remedy.outcomes(case_id)
        ],
        "worker_confirmation": remedy.confirmation(case_id),
        "remedy_state": state.value if state else None,
    }  # fmt: skip


def _print_remedy(remedy: dict[str, Any]) -> None:
    if remedy["actions"]:
        console.print("\n[bold]" + d_("Corrective action plan") + "[/bold]")
    for a in remedy["actions"]:
        done = (
            d_("done {date}").format(date=a["done_at"][:10]) if a["done"] else (d_("overdue") if a["overdue"] else "")
        )
        console.print(Text(f"{a['due']}  {a['who']}  {a['action']}  {done}"))
        if a["remedy"]:
            console.print(Text("    " + _outcome_line(a["remedy"])))
    if remedy["outcomes"]:
        console.print("\n[bold]" + d_("Remedy outcomes") + "[/bold]")
    for o in remedy["outcomes"]:
        console.print(Text(_outcome_line(o)))
    if remedy["remedy_state"]:
        console.print(d_("Remedy state: {state}").format(state=remedy["remedy_state"]))


def _outcome_line(o: dict[str, Any]) -> str:
    money = f" {o['amount']} {o['currency']}" if o.get("amount") is not None else ""
    return d_("{kind}{money}, workers covered: {workers}, verified: {verified}").format(
        kind=o["kind"], money=money, workers=o["workers_covered"], verified=o["verified_by"]
    )


def _print_files(case_id: int, files: list[Any]) -> None:
    """A case's evidence files (issue 16): number, type, size and hash; never their content."""
    if not files:
        return
    console.print("\n[bold]" + d_("Evidence files") + "[/bold]")
    for f in files:
        if f.missing:
            line = d_("{n}. sent, but could not be fetched ({reason})").format(n=f.n, reason=f.missing)
        else:
            line = f"{f.n}. {f.type}  {f.bytes:,} B  sha256 {f.sha256}"
            if f.source != "worker":
                line += "  " + d_("added by a caseworker")
            if f.warning:
                line += "  " + d_("may carry its author's details (kept as sent)")
        console.print(Text(line))
    console.print(
        d_("Write one to standard output with 'intake cases attachment {id} N | program'.").format(id=case_id),
        markup=False,
        highlight=False,
    )


@cases_app.command("attachment")
def cases_attachment(
    case_id: CaseArg,
    n: Annotated[int, typer.Argument(help=d_("File number, as 'intake cases show' lists them."))],
    original: Annotated[
        bool, typer.Option("--original", help=d_("The original as sent, when the node keeps originals."))
    ] = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Write one of a case's evidence files to standard output, to pipe into a program; never to a file here."""
    if sys.stdout.isatty():
        fail(
            d_("This writes the file's bytes: pipe it into a program, e.g. 'intake cases attachment {id} {n} | display'.")
            .format(id=case_id, n=n)
        )  # fmt: skip
    with unlocked_cases(user, passphrase_file, passphrase) as (_settings, keys, store):
        try:
            store.get_case(case_id)
        except IntakeError:
            fail(d_("There is no case {id}.").format(id=case_id))
        found = store.attachment(case_id, n, original=original)
        if found is None:
            listed = {f.n: f for f in store.attachments(case_id)}
            if n in listed and listed[n].missing:
                fail(d_("File {n} of case {id} was sent but could not be fetched.").format(n=n, id=case_id))
            if n in listed and original:
                fail(d_("No original was kept of file {n} of case {id}.").format(n=n, id=case_id))
            fail(d_("Case {id} has no file {n}.").format(id=case_id, n=n))
        # Reading a file is a view of the case: audited before a byte leaves (intake/audit.py).
        AuditLog(store, keys).record(
            user=keys.user, action="file_view", case_id=case_id, detail={"n": n, "original": original}
        )
    sys.stdout.buffer.write(found[1])
    sys.stdout.buffer.flush()
