"""``intake audit``, ``intake backup`` and ``intake restore``: the audit log and backups of a node."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from intake.errors import BackupDamaged, BackupError, NodeError, RestoreRefused, StoreDamaged

if TYPE_CHECKING:
    from intake.backup import BackupInfo
    from intake.backup_schedule import ScheduledBackup

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


ToOpt = Annotated[
    Path | None,
    typer.Option(
        "--to",
        help=d_(
            "Backup file to write (replaces only an older backup), or a folder (a USB stick) for a new "
            "backup file named by its time."
        ),
    ),
]
KeepOpt = Annotated[
    int | None,
    typer.Option(
        "--keep",
        help=d_("With a folder: keep this many backups of this node there; older ones this tool made are deleted."),
    ),
]
UnattendedOpt = Annotated[
    bool,
    typer.Option(
        "--unattended",
        help=d_("No passphrase (for a timer): back up the intake's part of the node, never cases.db."),
    ),
]
EnableOpt = Annotated[
    bool,
    typer.Option(
        "--enable-unattended", help=d_("Write the agent key that --unattended needs (asks for the passphrase once).")
    ),
]


def backup(
    to: ToOpt = None,
    keep: KeepOpt = None,
    unattended: UnattendedOpt = False,
    enable_unattended: EnableOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Write a consistent backup of the node, sealed to its own key, to one file (mode 0600)."""
    from intake import backup_schedule as schedule
    from intake.backup import check_destination, write_backup

    settings = _state.node()
    folder = to is not None and keep is not None  # a folder without --keep is refused, as before
    _check_backup_options(to, keep, folder, unattended, enable_unattended)
    if to is not None and not folder:
        try:
            check_destination(to)
        except BackupError:
            fail(d_("{path} exists and is not an intake backup; refusing to overwrite it.").format(path=to))
    keys, mac_key = None, None
    if unattended:
        try:
            mac_key = schedule.load_agent_key(settings)
        except NodeError:
            fail(
                d_(
                    "This node has no backup agent key: run 'intake backup --enable-unattended' once "
                    "(it asks for the passphrase)."
                )
            )
    else:
        keys = unlock_node(settings, user, passphrase_file, passphrase)
    if enable_unattended and keys is not None:
        console.print(
            d_(
                "Agent key written to {path}: 'intake backup --unattended' needs no passphrase now. "
                "It opens nothing; restoring still needs a passphrase."
            ).format(path=schedule.enable_unattended(settings, keys))
        )
    if to is None:
        return
    result = None
    try:
        if folder:
            result = schedule.write_generation(settings, to, keep=keep, keys=keys, mac_key=mac_key)
            info, path = result.info, result.path
        elif keys is not None:
            info, path = write_backup(settings, keys, to), to
        else:
            info, path = schedule.write_unattended_file(settings, to, mac_key or b""), to
    except StoreDamaged as exc:  # nothing written: an older backup at that path stays as it was
        fail(
            d_(
                "{path} is damaged ({problem}). No backup was written. Run 'intake check'; "
                "restore the node from an earlier backup if it confirms the damage."
            ).format(path=exc.path, problem=exc.problems[0] if exc.problems else "")
        )
    except BackupError as exc:
        fail(d_("No backup was written, and no older one deleted: {reason}").format(reason=exc.detail))
    _print_backup(info, path, unattended, result)


def _check_backup_options(
    to: Path | None, keep: int | None, folder: bool, unattended: bool, enable_unattended: bool
) -> None:
    """Refuse options that do not go together, before any passphrase is asked for."""
    from intake.backup_schedule import MAX_KEEP

    if to is None and not enable_unattended:
        fail(d_("Give --to: a backup file, or a folder (with --keep to delete older backups)."))
    if unattended and enable_unattended:
        fail(d_("--enable-unattended asks for a passphrase once; run it before, not with, --unattended."))
    if keep is not None and not 1 <= keep <= MAX_KEEP:
        fail(d_("--keep must be between 1 and {max}.").format(max=MAX_KEEP))
    if to is not None and folder and not to.is_dir():
        fail(d_("{path} is not a folder (is the USB stick mounted?). No backup was written.").format(path=to))


def _print_backup(info: BackupInfo, path: Path, unattended: bool, result: ScheduledBackup | None) -> None:
    if unattended:
        console.print(
            d_(
                "Unattended backup written to {path}: the intake's part of the node, {size} bytes "
                "(cases.db needs a passphrase: back it up with 'intake backup')."
            ).format(path=path, size=info.size)
        )
    else:
        console.print(
            dn_(
                "Backup written to {path}: {cases} case, {size} bytes.",
                "Backup written to {path}: {cases} cases, {size} bytes.",
                info.cases,
            ).format(path=path, cases=info.cases, size=info.size)
        )
    if result is not None:
        if result.deleted:
            n = len(result.deleted)
            console.print(dn_("Deleted {n} older backup.", "Deleted {n} older backups.", n).format(n=n))
        n = len(result.kept)
        console.print(
            dn_("{n} backup of this node in {folder}.", "{n} backups of this node in {folder}.", n).format(
                n=n, folder=path.parent
            )
        )
    if unattended:
        return
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
