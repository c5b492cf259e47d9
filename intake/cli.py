"""The ``intake`` command. Errors print one clear line and exit non-zero; ``--debug`` shows tracebacks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text  # worker text is never parsed as Rich markup

from crypto import CryptoError, KeyringError, Role, WrongPassphrase
from crypto.kdf import INSECURE_PROFILES, PROFILES
from i18n import d_, dn_
from intake.cli_channels import sms_app, voice_app
from intake.cli_common import (
    HomeOpt,
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    UserOpt,
    _slow,
    _state,
    console,
    err,
    fail,
    print_error,
    read_passphrase,
    unlock_node,
    unlocked_cases,
)
from intake.cli_desk import register as register_desk
from intake.cli_factories import register as register_factories
from intake.cli_relay import register as register_relay
from intake.cli_stats import register as register_stats
from intake.errors import IntakeError
from intake.node import init_node, load_keyring, open_cases, open_inbox, unlock
from intake.settings import SettingsError

app = typer.Typer(
    help=d_("Secure, offline-first grievance intake for workers in supply chains."),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
cases_app = typer.Typer(help=d_("Read cases (needs the passphrase)."), no_args_is_help=True)
keys_app = typer.Typer(help=d_("The node's public keys."), no_args_is_help=True)
users_app = typer.Typer(help=d_("Desk users and their passphrases."), no_args_is_help=True)
passphrase_app = typer.Typer(help=d_("Change a passphrase."), no_args_is_help=True)
app.add_typer(cases_app, name="cases")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(passphrase_app, name="passphrase")
app.add_typer(sms_app, name="sms")
desk_app = typer.Typer(help=d_("The caseworkers' desk."))
app.add_typer(desk_app, name="desk")
app.add_typer(voice_app, name="voice")
register_desk(app)
register_factories(app)
register_relay(app)
register_stats(app)


@app.callback()
def main_options(
    home: HomeOpt = None,
    debug: Annotated[bool, typer.Option("--debug", help=d_("Show tracebacks on errors."))] = False,
) -> None:
    _state.home = home
    _state.debug = debug


# -- passphrases -------------------------------------------------------------------------------------
@app.command()
def init(
    kdf_profile: Annotated[
        str | None,
        typer.Option("--kdf-profile", help=d_("Argon2id cost: interactive, moderate or sensitive.")),
    ] = None,  # None: the kdf_profile setting (INTAKE_KDF_PROFILE), itself 'moderate' by default
    user: Annotated[str, typer.Option("--user", help=d_("Name of the first user (a coordinator)."))] = "admin",
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
    allow_insecure_kdf: Annotated[bool, typer.Option("--allow-insecure-kdf", hidden=True)] = False,
) -> None:
    """Create a node: keyring, intake key, encrypted inbox and cases stores."""
    settings = _state.settings()
    kdf_profile = kdf_profile or settings.kdf_profile
    if kdf_profile not in PROFILES:
        fail(
            d_("Unknown KDF profile {name}; choose one of: {choices}").format(
                name=kdf_profile,
                choices=", ".join(p for p in PROFILES if p not in INSECURE_PROFILES),
            )
        )
    if kdf_profile in INSECURE_PROFILES and not allow_insecure_kdf:
        fail(d_("The profile {name} is for tests only and protects nothing.").format(name=kdf_profile))
    secret = read_passphrase(passphrase_file, passphrase, prompt=d_("New passphrase"), confirm=True)
    ring, _keys = init_node(settings, user=user, passphrase=secret, profile=kdf_profile)
    console.print(d_("Node created in {home}").format(home=settings.home))
    _print_keys(ring.fingerprints())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help=d_("Address to listen on."))] = None,
    port: Annotated[int | None, typer.Option("--port", help=d_("Port to listen on."))] = None,
) -> None:
    """Run the intake service (web form, JSON API). Never needs the passphrase."""
    import uvicorn

    from channels.web import create_intake_app
    from intake.logs import setup_logging, uvicorn_log_config

    settings = _state.node(host=host, port=port)
    setup_logging(settings.log_level)
    web = create_intake_app(settings)
    console.print(d_("Intake listening on http://{host}:{port}").format(host=settings.host, port=settings.port))
    uvicorn.run(
        web, host=settings.host, port=settings.port, access_log=False, server_header=False,
        log_config=uvicorn_log_config(), proxy_headers=False,
    )  # fmt: skip


@app.command()
def drain(user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None) -> None:
    """Open sealed reports from the inbox into the cases store."""
    from intake.services import drain as drain_items

    settings = _state.settings()
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    from intake.remote import Pushed, RemoteInbox, RemoteUnavailable, item_source, push_desk_changes

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
            result = drain_items(inbox, cases, keys, progress=lambda n: bar.advance(task, n))
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
    table = Table(
        d_("ID"),
        d_("Received"),
        d_("Channel"),
        d_("Status"),
        d_("Factory"),
        d_("Categories"),
        d_("What happened"),
    )
    for c in rows:
        words = c.description.replace("\n", " ")
        table.add_row(
            str(c.id), c.created_at.strftime("%Y-%m-%d"), c.channel.value, c.status.value, Text(c.factory),
            ", ".join(x.value for x in c.categories), Text(words[:60] + ("…" if len(words) > 60 else "")),
        )  # fmt: skip
    console.print(table)


@cases_app.command("show")
def cases_show(
    case_id: Annotated[int, typer.Argument(help=d_("Case number."))],
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Show one case with the worker's own words and follow-ups."""
    with unlocked_cases(user, passphrase_file, passphrase) as (_settings, _keys, store):
        try:
            case = store.get_case(case_id)
        except IntakeError:
            fail(d_("There is no case {id}.").format(id=case_id))
    if as_json:
        typer.echo(json.dumps(case.model_dump(mode="json"), ensure_ascii=False, indent=1))
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


def _print_keys(fps: dict[str, str]) -> None:
    console.print(d_("Sealing key (X25519) fingerprint:"))
    console.print(f"  {fps['x25519']}")
    console.print(d_("Signing key (Ed25519) fingerprint:"))
    console.print(f"  {fps['ed25519']}")


@keys_app.command("show")
def keys_show(as_json: JsonOpt = False) -> None:
    """Public keys and fingerprints to read out to a partner (no passphrase needed)."""
    ring = load_keyring(_state.node())
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "node_id": ring.node_id,
                    "public": ring.public_keys_b64(),
                    "fingerprints": ring.fingerprints(),
                },
                indent=1,
            )
        )
        return
    console.print(d_("Node {id}").format(id=ring.node_id))
    for kind, key in ring.public_keys_b64().items():
        console.print(f"{kind}: {key}")
    _print_keys(ring.fingerprints())


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help=d_("New user's name."))],
    role: Annotated[Role, typer.Option("--role", help=d_("coordinator, caseworker or viewer."))] = Role.CASEWORKER,
    kdf_profile: Annotated[
        str | None,
        typer.Option("--kdf-profile", help=d_("Argon2id cost for the new user's passphrase.")),
    ] = None,
    new_passphrase_file: Annotated[
        Path | None,
        typer.Option("--new-passphrase-file", help=d_("Read the new user's passphrase from this file.")),
    ] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Add a desk user (a coordinator unlocks; the new user's passphrase wraps the same master)."""
    settings = _state.settings()
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    new = read_passphrase(
        new_passphrase_file,
        None,
        prompt=d_("Passphrase for {name}").format(name=name),
        confirm=True,
        option="--new-passphrase-file",
    )
    ring = load_keyring(settings)
    ring.add_user(keys, name, new, role=role, profile=kdf_profile or ring_profile(ring, keys.user))
    console.print(d_("User {name} added as {role}.").format(name=name, role=role.value))


@users_app.command("list")
def users_list() -> None:
    """Users and their roles (no passphrase needed)."""
    for name, role in load_keyring(_state.node()).users.items():
        console.print(f"{name}\t{role.value}")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help=d_("User to remove."))],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Remove a desk user (a coordinator unlocks)."""
    settings = _state.settings()
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    load_keyring(settings).remove_user(keys, name)
    console.print(d_("User {name} removed.").format(name=name))


def ring_profile(ring: Any, user: str) -> str:
    return str(ring._users[user].profile)


@passphrase_app.command("change")
def passphrase_change(
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
    new_passphrase_file: Annotated[
        Path | None,
        typer.Option("--new-passphrase-file", help=d_("Read the new passphrase from this file.")),
    ] = None,
) -> None:
    """Change your passphrase. Only your wrapped copy of the master secret changes."""
    settings = _state.node()
    ring = load_keyring(settings)
    name = user or ring.default_user()
    old = read_passphrase(passphrase_file, passphrase, prompt=d_("Current passphrase"))
    try:
        unlock(settings, name, old, sleep=_slow)
    except WrongPassphrase:
        fail(d_("Wrong user or passphrase. Nothing was changed."))
    new = read_passphrase(
        new_passphrase_file, None, prompt=d_("New passphrase"), confirm=True, option="--new-passphrase-file"
    )
    ring.change_passphrase(name, old=old, new=new)
    console.print(d_("Passphrase changed for {name}.").format(name=name))


@desk_app.callback(invoke_without_command=True)
def desk(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help=d_("Address to listen on (loopback unless you mean it)."))
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help=d_("Port to listen on."))] = 8001,
) -> None:
    """Run the caseworkers' desk in the browser (unlock with your passphrase there)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from intake.desk import create_desk_app
    from intake.logs import setup_logging, uvicorn_log_config

    settings = _state.node()  # fail here, in one line, if there is no node
    setup_logging(settings.log_level)
    load_keyring(settings)
    if host not in ("127.0.0.1", "::1", "localhost"):
        err.print(
            d_("Warning: the desk listens on {host}; anyone who can reach it can try passphrases.").format(host=host)
        )
    console.print(d_("Desk on http://{host}:{port}").format(host=host, port=port))
    uvicorn.run(
        create_desk_app(settings, hosts=(host,)), host=host, port=port, access_log=False, server_header=False,
        log_config=uvicorn_log_config(),
    )  # fmt: skip


@desk_app.command("pair")
def desk_pair() -> None:
    """On the intake server: make a token for a desk on another host to drain this intake."""
    from channels.web.desk_api import new_token

    settings = _state.node()
    inbox = open_inbox(settings)
    try:
        token = new_token(inbox)
    finally:
        inbox.close()
    console.print(d_("Desk token (shown once; only its hash is kept here):"))
    console.print(token, markup=False, highlight=False)
    console.print(
        d_(
            "On the desk's machine set INTAKE_DESK_REMOTE_URL to this intake's address and INTAKE_DESK_REMOTE_TOKEN to the token."
        )
    )


@desk_app.command("unpair")
def desk_unpair() -> None:
    """On the intake server: revoke every desk token (a lost or seized desk laptop); pair again after."""
    from channels.web.desk_api import TOKENS

    settings = _state.node()
    inbox = open_inbox(settings)
    try:
        known = json.loads(inbox.get_meta(TOKENS) or "[]")
        inbox.set_meta(TOKENS, "[]")
    finally:
        inbox.close()
    console.print(
        dn_(
            "Revoked {n} desk token; no desk can pull from this intake until it is paired again.",
            "Revoked {n} desk tokens; no desk can pull from this intake until it is paired again.",
            len(known),
        ).format(n=len(known))
    )


@app.command()
def demo(
    port: Annotated[
        int | None, typer.Option("--port", min=0, max=65535, help=d_("Port for the demo intake (default 8000)."))
    ] = None,
    desk_port: Annotated[
        int | None,
        typer.Option("--desk-port", min=0, max=65535, help=d_("Port for the demo desk (default: the intake's + 1).")),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help=d_("Seed, drain, print and exit instead of serving."))] = False,
    home: Annotated[
        Path | None,
        typer.Option(
            "--demo-home",
            help=d_("Folder for the throwaway node (default: a new temporary folder)."),
        ),
    ] = None,
) -> None:
    """Run the whole system on loopback with sample data."""
    from intake.demo import run_demo

    run_demo(port=port, desk_port=desk_port, once=once, home=home, console=console)


# -- entry point ---------------------------------------------------------------------------------------
def main() -> None:
    # Typer 0.29 ships its own copy of Click and exports none of its exceptions (the lock pins it;
    # tests/test_cli.py runs usage errors through here, so an upgrade that moves them shows).
    from typer._click import exceptions as click

    try:
        # Not standalone: usage errors come here too and print as one line like every other error,
        # not in Rich's box padded to the terminal's width.
        code = app(standalone_mode=False)
    except click.NoArgsIsHelpError as exc:  # the help is the answer (Typer printed it already)
        if exc.format_message().strip():
            print(exc.format_message(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        hint = " " + d_("Try '{command} --help'.").format(command=exc.ctx.command_path) if exc.ctx else ""
        print_error(exc.format_message() + hint)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        print_error(exc.format_message())
        sys.exit(exc.exit_code)
    except typer.Abort:  # end of input at a prompt (Ctrl-D)
        print_error(d_("Aborted."))
        sys.exit(1)
    except (IntakeError, CryptoError, SettingsError) as exc:
        if _state.debug:
            raise
        message = exc.detail if isinstance(exc, IntakeError) and exc.detail else str(exc)
        if isinstance(exc, KeyringError | SettingsError):
            message = str(exc)
        print_error(message)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if _state.debug:
            raise
        print_error(
            d_("Unexpected failure ({kind}). Run again with --debug for details.").format(kind=type(exc).__name__)
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
