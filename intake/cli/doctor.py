"""``intake doctor``: check a node and say what to fix (issue 17). Exit 0 only when healthy.

The checks are in intake/doctor.py (the desk can show the same results); this prints them, one
line per check with ok, warn or FAIL, and under each problem what to do; ``--json`` for scripts.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.text import Text

from crypto import NodeKeys
from i18n import d_
from intake.cli.common import JsonOpt, PassEnvOpt, PassFileOpt, UserOpt, _slow, _state, console, read_passphrase
from intake.doctor import Level, Limits, diagnose
from intake.node import unlock
from intake.settings import Settings

STYLE = {Level.OK: "green", Level.WARN: "yellow", Level.FAIL: "bold red"}


def doctor(
    no_unlock: Annotated[
        bool,
        typer.Option("--no-unlock", help=d_("Ask no passphrase; skip the checks that need the node's keys.")),
    ] = False,
    backup_days: Annotated[
        int, typer.Option("--backup-days", min=0, help=d_("Fail when the last backup is older than this many days."))
    ] = Limits.backup_days,
    max_backlog: Annotated[
        int, typer.Option("--max-backlog", min=0, help=d_("Fail when more reports than this wait in the inbox."))
    ] = Limits.max_backlog,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Check the node and say what to fix (exits 1 if a check fails)."""

    def unlock_keys(settings: Settings) -> NodeKeys:
        secret = read_passphrase(passphrase_file, passphrase, prompt=d_("Passphrase"))
        return unlock(settings, user, secret, sleep=_slow)  # a wrong one is said by main()

    report = diagnose(
        _state.home,
        load=_state.settings,
        unlock=None if no_unlock else unlock_keys,
        limits=Limits(backup_days=backup_days, max_backlog=max_backlog),
    )
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for finding in report.findings:
            line = Text.assemble((f"{finding.level:<4}", STYLE[finding.level]), f"  {finding.check}: {finding.message}")
            console.print(line, highlight=False)
            if finding.fix:
                console.print(Text("      -> " + finding.fix), highlight=False)
        console.print(d_("Healthy.") if report.healthy else d_("Not healthy: fix the FAIL lines above."))
    if not report.healthy:
        raise typer.Exit(1)
