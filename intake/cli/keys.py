"""``intake panic`` and the raid commands of ``intake keys``: escrow, recover, identity, duress.

A coordinator writes a recovery kit (the master sealed to a trusted person's key) before it is
needed; ``intake panic`` destroys this machine's keys; on a new machine ``intake keys recover``
opens the kit with that person's key and restores a backup with it (intake/panic.py,
crypto/escrow.py, docs/threat-model.md#panic).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from crypto import CannotOpen, Keyring, KeyringError, Role
from crypto.errors import KitDamaged
from crypto.escrow import (
    load_identity,
    make_kit,
    new_identity,
    open_kit,
    parse_kit,
    parse_recipient,
    recipient_fingerprint,
)
from crypto.files import write_private_file
from crypto.kdf import INSECURE_PROFILES, PROFILES
from crypto.keyring import check_passphrase
from i18n import d_, dn_
from intake import clock
from intake.cli.common import (
    InsecureKdfOpt,
    PassEnvOpt,
    PassFileOpt,
    UserOpt,
    _slow,
    _state,
    console,
    fail,
    read_passphrase,
    unlock_node,
)
from intake.cli.node import keys_app, ring_profile
from intake.errors import BackupDamaged, InvalidInput, RecoveryRefused, RestoreRefused
from intake.node import load_keyring
from intake.panic import clear_duress, panicked_at, set_duress
from intake.panic import panic as destroy

DONE_BEFORE = d_("Panic was already done on this node (at {at}); nothing was left to destroy.")


def panic(
    yes: Annotated[bool, typer.Option("--yes", help=d_("Do not ask for confirmation (for scripts)."))] = False,
) -> None:
    """Destroy this node's keys on this machine: every desk locks, no passphrase opens the stores again."""
    settings = _state.settings()
    at = panicked_at(settings.home)
    if at is None and not settings.keyring_path.exists():
        fail(d_("No node at {home}: run 'intake init' first, or give the node's folder with --home.").format(
            home=settings.home))  # fmt: skip
    if at is None and not yes:
        if not sys.stdin.isatty():
            fail(d_("Panic destroys this node's keys: give --yes to do it without a terminal."))
        question = d_(
            "Destroy this node's keys on {home}? Its stores will never open here again, not even with a "
            "passphrase; only a recovery kit and a backup bring the cases back."
        ).format(home=settings.home)
        typer.confirm(question, abort=True)
    result = destroy(settings)
    if result.already:
        console.print(DONE_BEFORE.format(at=result.at))
        return
    console.print(
        d_("Panic done at {at}. Destroyed: {files}. Running desks lock at once.").format(
            at=result.at, files=", ".join(result.destroyed)
        )
    )
    console.print(
        d_(
            "The stores on this machine cannot be opened any more. To get the cases back: 'intake keys recover' "
            "with a recovery kit, its holder's key and a backup, on another machine."
        )
    )


def _refuse_destroyed(home: Path) -> None:
    at = panicked_at(home)
    if at is not None:
        fail(d_("This node's keys were destroyed (panic at {at}). Nothing was written.").format(at=at))


@keys_app.command("escrow")
def keys_escrow(
    to: Annotated[Path, typer.Option("--to", help=d_("Recovery kit file to write (replaces only an older kit)."))],
    recipient: Annotated[
        str,
        typer.Option(
            "--recipient",
            help=d_("The trusted person's or partner's public key: base64, intake-partner1:..., or a file with it."),
        ),
    ],
    paper: Annotated[
        bool, typer.Option("--paper", help=d_("Write the printable form: numbered lines to type back, each checked."))
    ] = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Write a recovery kit: the node's master secret sealed to a trusted person's key (a coordinator)."""
    settings = _state.node()
    _refuse_destroyed(settings.home)
    try:
        to_key = parse_recipient(recipient)
    except ValueError as exc:
        fail(d_("The recipient is not a usable public key ({reason}). Nothing was written.").format(reason=exc))
    if to.exists() or to.is_symlink():
        try:
            parse_kit(to.read_bytes())
        except (OSError, KitDamaged):
            fail(d_("{path} exists and is not a recovery kit; refusing to overwrite it.").format(path=to))
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    if keys.role is not Role.COORDINATOR:
        fail(d_("Only a coordinator can write a recovery kit. Nothing was written."))
    from crypto.escrow import kit_file, to_paper

    made = clock.now_s()
    made_text = made.isoformat().replace("+00:00", "Z")
    kit = make_kit(keys.master.reveal(), node_id=keys.node_id, made=int(made.timestamp()), to=to_key)
    if paper:
        data = to_paper(kit, made_text=made_text, recipient=to_key).encode("utf-8")
    else:
        data = kit_file(kit, public=load_keyring(settings).public_keys_b64(), made_text=made_text, recipient=to_key)
    write_private_file(to, data)
    console.print(d_("Recovery kit for node {node} written to {path}.").format(node=keys.node_id, path=to))
    console.print(d_("Sealed to the key with fingerprint:"))
    console.print(f"  {recipient_fingerprint(to_key)}")
    console.print(
        d_(
            "With the private half of that key, the kit opens every backup of this node: give it to that person "
            "only, check the fingerprint with them, and never keep it beside a backup."
        )
    )


def _identity_key(identity: Path, identity_passphrase_file: Path | None):  # type: ignore[no-untyped-def]
    """The private key that opens the kit: an identity file, or a partner's home folder (unlocked)."""
    if identity.is_dir():
        from relay.partner.home import PartnerHome

        home = PartnerHome(identity)
        home.keyring()  # not a partner home: said before asking for a passphrase
        secret = read_passphrase(
            identity_passphrase_file, None, prompt=d_("Partner passphrase"), option="--identity-passphrase-file"
        )
        return home.unlock(None, secret, sleep=_slow).identity
    try:
        return load_identity(identity.read_bytes())
    except OSError as exc:
        fail(d_("Cannot read {path}: {reason}").format(path=identity, reason=exc.strerror))
    except ValueError:
        fail(d_("{path} is not a recovery identity file nor a partner's home folder. Nothing was written.").format(
            path=identity))  # fmt: skip


@keys_app.command("recover")
def keys_recover(
    kit: Annotated[Path, typer.Argument(help=d_("Recovery kit file, or its paper form typed back into a file."))],
    identity: Annotated[
        Path,
        typer.Option(
            "--identity",
            help=d_("The kit holder's identity file ('intake keys identity'), or a partner's home folder."),
        ),
    ],
    backup: Annotated[Path, typer.Option("--backup", help=d_("Backup file made by 'intake backup'."))],
    home: Annotated[
        Path | None, typer.Option("--home", help=d_("New node folder to restore into (default: the node folder)."))
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", help=d_("User who gets a new passphrase (default: the first; made a coordinator if new).")
        ),
    ] = None,
    new_passphrase_file: Annotated[
        Path | None, typer.Option("--new-passphrase-file", help=d_("Read the new passphrase from this file."))
    ] = None,
    identity_passphrase_file: Annotated[
        Path | None,
        typer.Option("--identity-passphrase-file", help=d_("Read the partner's passphrase from this file.")),
    ] = None,
    kdf_profile: Annotated[
        str | None, typer.Option("--kdf-profile", help=d_("Argon2id cost for the new passphrase."))
    ] = None,
    allow_insecure_kdf: InsecureKdfOpt = False,
) -> None:
    """Restore a backup with a recovery kit and its holder's key; the user gets a new passphrase."""
    from intake.backup import check_target, parse_backup, restore_with_master

    settings = _state.settings()
    target = (home or settings.home).expanduser()
    profile = kdf_profile or settings.kdf_profile
    if profile not in PROFILES or (profile in INSECURE_PROFILES and not allow_insecure_kdf):
        fail(d_("Unknown KDF profile {name}; choose one of: {choices}").format(
            name=profile, choices=", ".join(p for p in PROFILES if p not in INSECURE_PROFILES)))  # fmt: skip
    nothing = d_("Nothing was written.")
    try:
        parsed_kit = parse_kit(kit.read_bytes())
        data = backup.read_bytes()
        header = parse_backup(data).header
    except OSError as exc:
        fail(d_("Cannot read {path}: {reason}").format(path=exc.filename, reason=exc.strerror))
    except KitDamaged as exc:
        fail(
            d_("{path} is not a recovery kit, or it is damaged ({reason}).").format(path=kit, reason=exc)
            + " "
            + nothing
        )
    except BackupDamaged as exc:
        fail(d_("{path} is not an intake backup, or it is truncated, damaged or altered ({reason}).").format(
            path=backup, reason=exc.detail) + " " + nothing)  # fmt: skip
    if parsed_kit.node_id != str(header["node_id"]):
        fail(d_("This kit is for node {kit}, but the backup is of node {backup}.").format(
            kit=parsed_kit.node_id, backup=header["node_id"]) + " " + nothing)  # fmt: skip
    try:
        check_target(target)
    except RestoreRefused as exc:
        fail(d_("{home} already holds a node ({files}); restore into a new folder.").format(
            home=target, files=", ".join(exc.files)) + " " + nothing)  # fmt: skip
    private = _identity_key(identity, identity_passphrase_file)
    try:
        opened = open_kit(parsed_kit, private)
    except CannotOpen:
        fail(
            d_("This kit does not open with that key: it was sealed to another key, or it was altered.") + " " + nothing
        )
    secret = read_passphrase(
        new_passphrase_file, None, prompt=d_("New passphrase"), confirm=True, option="--new-passphrase-file"
    )
    try:
        check_passphrase(secret)
    except KeyringError:
        fail(d_("A passphrase needs at least 8 characters.") + " " + nothing)
    try:
        result = restore_with_master(
            data, target, opened.master.reveal(), user=user, new_passphrase=secret, profile=profile
        )
    except RecoveryRefused:
        fail(d_("The kit belongs to another node than this backup.") + " " + nothing)
    except BackupDamaged as exc:
        fail(d_("{path} is not an intake backup, or it is truncated, damaged or altered ({reason}).").format(
            path=backup, reason=exc.detail) + " " + nothing)  # fmt: skip
    except RestoreRefused as exc:
        fail(d_("{home} already holds a node ({files}); restore into a new folder.").format(
            home=target, files=", ".join(exc.files)) + " " + nothing)  # fmt: skip
    name = user or Keyring.load(result.home / "keyring.json").default_user()
    console.print(
        dn_(
            "Recovered node {node} into {home}: {cases} case, from the backup of {created}.",
            "Recovered node {node} into {home}: {cases} cases, from the backup of {created}.",
            result.cases,
        ).format(node=result.node_id, home=result.home, cases=result.cases, created=result.created_at)
    )
    console.print(d_("User {name} unlocks with the new passphrase.").format(name=name))


@keys_app.command("identity")
def keys_identity(
    to: Annotated[
        Path, typer.Option("--to", help=d_("Private identity file to write (0600); FILE.pub gets the public key."))
    ],
) -> None:
    """For the trusted person who will hold a kit: make a key pair (no node needed)."""
    public_path = to.with_name(to.name + ".pub")
    for path in (to, public_path):
        if path.exists() or path.is_symlink():
            fail(d_("{path} exists already; refusing to overwrite it.").format(path=path))
    body, public = new_identity()
    write_private_file(to, body)
    public_path.write_text(public + "\n", encoding="ascii")
    console.print(
        d_("Identity written to {path}: keep it secret and offline; it opens kits sealed to it.").format(path=to)
    )
    console.print(d_("Public key (give it to the coordinator, also in {path}):").format(path=public_path))
    console.print(public, markup=False, highlight=False)
    console.print(d_("Fingerprint (read it aloud to check it arrived unchanged):"))
    console.print(f"  {recipient_fingerprint(parse_recipient(public))}")


@keys_app.command("duress")
def keys_duress(
    remove: Annotated[bool, typer.Option("--remove", help=d_("Remove the duress passphrase."))] = False,
    duress_passphrase_file: Annotated[
        Path | None,
        typer.Option("--duress-passphrase-file", help=d_("Read the duress passphrase from this file.")),
    ] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Set the node's duress passphrase: typed at the desk's unlock, it panics and shows an empty desk."""
    settings = _state.node()
    _refuse_destroyed(settings.home)
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    if keys.role is not Role.COORDINATOR:
        fail(d_("Only a coordinator can set the duress passphrase. Nothing was changed."))
    if remove:
        removed = clear_duress(settings)
        console.print(d_("Duress passphrase removed.") if removed else d_("There was no duress passphrase."))
        return
    secret = read_passphrase(
        duress_passphrase_file, None, prompt=d_("Duress passphrase"), confirm=True, option="--duress-passphrase-file"
    )
    try:
        set_duress(settings, secret, profile=ring_profile(load_keyring(settings), keys.user))
    except InvalidInput:
        fail(d_("The duress passphrase must differ from every user's passphrase. Nothing was changed."))
    console.print(
        d_("Duress passphrase set. Typed at the desk's unlock, it destroys this node's keys and shows an empty desk.")
    )
