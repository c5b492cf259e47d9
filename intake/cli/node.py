"""The node itself: ``intake init``, ``intake serve``, ``intake keys``, ``intake users`` and ``intake passphrase``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from crypto import Role
from crypto.kdf import INSECURE_PROFILES, PROFILES
from i18n import d_
from intake.cli.common import (
    HostOpt,
    InsecureKdfOpt,
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    PortOpt,
    UserOpt,
    _slow,
    _state,
    console,
    fail,
    read_passphrase,
    unlock_node,
)
from intake.node import init_node, load_keyring, unlock

keys_app = typer.Typer(
    help=d_("The node's keys: public keys, recovery kits, the duress passphrase."), no_args_is_help=True
)
users_app = typer.Typer(help=d_("Desk users and their passphrases."), no_args_is_help=True)
passphrase_app = typer.Typer(help=d_("Change a passphrase."), no_args_is_help=True)


def init(
    kdf_profile: Annotated[
        str | None,
        typer.Option("--kdf-profile", help=d_("Argon2id cost: interactive, moderate or sensitive.")),
    ] = None,  # None: the kdf_profile setting (INTAKE_KDF_PROFILE), itself 'moderate' by default
    user: Annotated[str, typer.Option("--user", help=d_("Name of the first user (a coordinator)."))] = "admin",
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
    allow_insecure_kdf: InsecureKdfOpt = False,
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


def serve(host: HostOpt[str | None] = None, port: PortOpt[int | None] = None) -> None:
    """Run the intake service (web form, JSON API). Never needs the passphrase."""
    import uvicorn

    from channels.server import create_intake_app
    from intake.logs import setup_logging, uvicorn_log_config

    settings = _state.node(host=host, port=port)
    setup_logging(settings.log_level)
    server: uvicorn.Server | None = None

    def stop() -> None:  # after a panic (channels/panic_gate.py): the inbox is closed; exit cleanly
        if server is not None:
            server.should_exit = True

    web = create_intake_app(settings, on_panic=stop)
    console.print(d_("Intake listening on http://{host}:{port}").format(host=settings.host, port=settings.port))
    config = uvicorn.Config(
        web, host=settings.host, port=settings.port, access_log=False, server_header=False,
        log_config=uvicorn_log_config(), proxy_headers=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    server.run()
    if not server.started:  # as uvicorn.run: the port was taken, or the app failed to start
        raise typer.Exit(3)


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
    _not_duress(settings, new)
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


def _not_duress(settings: Any, passphrase: str) -> None:
    """A real passphrase may never be the duress one (intake/panic.py): it would panic at the desk."""
    from intake.panic import is_duress

    if is_duress(settings, passphrase):
        fail(d_("That is the duress passphrase; choose another. Nothing was changed."))


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
    unlock(settings, name, old, sleep=_slow)  # a wrong one is said by main() (intake/cli/app.py)
    new = read_passphrase(
        new_passphrase_file, None, prompt=d_("New passphrase"), confirm=True, option="--new-passphrase-file"
    )
    _not_duress(settings, new)
    ring.change_passphrase(name, old=old, new=new)
    console.print(d_("Passphrase changed for {name}.").format(name=name))
