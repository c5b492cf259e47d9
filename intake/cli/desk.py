"""``intake desk``: run the caseworkers' desk, and pair a desk on another host with this intake server."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from i18n import d_, dn_
from intake.cli.common import PortOpt, _state, console, err
from intake.node import load_keyring, open_inbox

desk_app = typer.Typer(help=d_("The caseworkers' desk."))


@desk_app.callback(invoke_without_command=True)
def desk(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help=d_("Address to listen on (loopback unless you mean it)."))
    ] = "127.0.0.1",
    port: PortOpt[int] = 8001,
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
    from intake.pull import new_token

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
    from intake.pull import TOKENS

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
