"""``intake audit``, ``intake backup`` and ``intake restore``: the audit log and backups of a node."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crypto import WrongPassphrase
from i18n import d_, dn_
from intake.audit import AuditLog, VerifyResult
from intake.cli.common import (
    PassEnvOpt,
    PassFileOpt,
    UserOpt,
    _state,
    console,
    fail,
    print_error,
    read_passphrase,
    unlock_node,
    unlocked_cases,
)
from intake.errors import BackupDamaged, BackupError, RestoreRefused, StoreDamaged

audit_app = typer.Typer(help=d_("The audit log of case work (needs the passphrase)."), no_args_is_help=True)


def _intact(result: VerifyResult) -> str:
    return dn_("Audit log intact: {n} entry.", "Audit log intact: {n} entries.", result.entries).format(
        n=result.entries
    )


def _broken(result: VerifyResult) -> str:
    n, previous = result.first_bad, result.previous
    if result.problem == "missing":
        if previous:
            text = d_("Audit log broken at entry {n}: it is missing (the log jumps past it after entry {previous}).")
        else:
            text = d_("Audit log broken at entry {n}: it is missing (the log does not start at entry 1).")
    elif result.problem == "link":
        if previous:
            text = d_("Audit log broken at entry {n}: its previous hash does not match entry {previous}.")
        else:
            text = d_("Audit log broken at entry {n}: its previous hash is not the start of a chain.")
    else:
        text = d_("Audit log broken at entry {n}: its hash does not match its content.")
    total = dn_("({total} entry in the log)", "({total} entries in the log)", result.entries)
    return text.format(n=n, previous=previous) + " " + total.format(total=result.entries)


@audit_app.command("verify")
def audit_verify(user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None) -> None:
    """Check the audit log's hash chain; name the first entry that is missing or altered."""
    with unlocked_cases(user, passphrase_file, passphrase) as (_settings, keys, store):
        result = AuditLog(store, keys).verify()
    if not result.ok:
        fail(_broken(result))
    console.print(_intact(result))
    if result.entries:
        console.print(
            d_(
                "Newest entry: {n}, hash {hash}. Note it elsewhere: a cut-off tail shows only against such a note."
            ).format(n=result.entries, hash=result.head.hex()[:16])
        )


def backup(
    to: Annotated[Path, typer.Option("--to", help=d_("Backup file to write (replaces only an older backup)."))],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Write a consistent backup of the node, sealed to its own key, to one file (mode 0600)."""
    from intake.backup import check_destination, write_backup

    settings = _state.node()
    try:
        check_destination(to)
    except BackupError:
        fail(d_("{path} exists and is not an intake backup; refusing to overwrite it.").format(path=to))
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    try:
        info = write_backup(settings, keys, to)
    except StoreDamaged as exc:  # nothing written: an older backup at that path stays as it was
        fail(
            d_(
                "{path} is damaged ({problem}). No backup was written. Run 'intake check'; "
                "restore the node from an earlier backup if it confirms the damage."
            ).format(path=exc.path, problem=exc.problems[0] if exc.problems else "")
        )
    console.print(
        dn_(
            "Backup written to {path}: {cases} case, {size} bytes.",
            "Backup written to {path}: {cases} cases, {size} bytes.",
            info.cases,
        ).format(path=to, cases=info.cases, size=info.size)
    )
    if not info.audit.ok:
        print_error(_broken(info.audit))
        raise typer.Exit(2)
    console.print(_intact(info.audit))


def restore(
    file: Annotated[Path, typer.Argument(help=d_("Backup file made by 'intake backup'."))],
    home: Annotated[
        Path | None,
        typer.Option("--home", help=d_("New node folder to restore into (default: the node folder).")),
    ] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Restore a backup into a new node folder; needs only the backup and a user's passphrase."""
    from intake.backup import check_target, parse_backup, restore_backup

    target = (home or _state.settings().home).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(d_("Cannot read {path}: {reason}").format(path=file, reason=exc.strerror))
    damaged = d_(
        "{path} is not an intake backup, or it is truncated, damaged or altered ({reason}). Nothing was written."
    )
    refused = d_("{home} already holds a node ({files}); restore into a new folder. Nothing was changed.")
    try:
        parse_backup(data)  # a damaged file or a taken folder is said before asking for a passphrase
        check_target(target)
        secret = read_passphrase(passphrase_file, passphrase, prompt=d_("Passphrase"))
        result = restore_backup(data, target, user=user, passphrase=secret)
    except BackupDamaged as exc:
        fail(damaged.format(path=file, reason=exc.detail))
    except RestoreRefused as exc:
        fail(refused.format(home=target, files=", ".join(exc.files)))
    except WrongPassphrase:
        fail(d_("Wrong user or passphrase for this backup. Nothing was written."))
    console.print(
        dn_(
            "Restored node {node} into {home}: {cases} case, from the backup of {created}.",
            "Restored node {node} into {home}: {cases} cases, from the backup of {created}.",
            result.cases,
        ).format(node=result.node_id, home=result.home, cases=result.cases, created=result.created_at)
    )
    if not result.audit.ok:
        print_error(_broken(result.audit))
        raise typer.Exit(2)
    console.print(_intact(result.audit))
