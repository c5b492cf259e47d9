"""``intake stats export``: the dashboard's numbers, or the public statistics, as CSV or JSON."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from i18n import d_
from intake import stats
from intake.cli.common import PassEnvOpt, PassFileOpt, UserOpt, console, fail, unlocked_cases
from intake.domain import Category

stats_app = typer.Typer(help=d_("Statistics of the cases (needs the passphrase)."), no_args_is_help=True)


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"


@stats_app.command("export")
def export(
    public: Annotated[
        bool, typer.Option("--public", help=d_("The public statistics: small counts suppressed, no case numbers."))
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help=d_("csv or json."))] = Format.JSON,
    to: Annotated[str, typer.Option("--to", help=d_("File to write, or - for standard output."))] = "-",
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Export the dashboard's numbers (or, with --public, the suppressed public statistics)."""
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, _keys, store):
        rows = stats.load_rows(store)
        deadlines = settings.deadlines()
    if public:
        export = stats.public_export(rows, [c.value for c in Category])
        body = stats.public_csv(export) if fmt is Format.CSV else json.dumps(export, ensure_ascii=False, indent=1)
    else:
        board = stats.dashboard(rows, deadlines)
        body = (
            stats.dashboard_csv(board)
            if fmt is Format.CSV
            else json.dumps(board.as_json(), ensure_ascii=False, indent=1)
        )
    if to == "-":
        typer.echo(body, nl=not body.endswith("\n"))
        return
    path = Path(to)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
    except OSError as exc:
        fail(d_("Cannot write {path}: {reason}").format(path=path, reason=exc.strerror))
    console.print(d_("Statistics written to {path}.").format(path=path))
