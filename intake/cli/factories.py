"""``intake factories import CSV``: the factories register from an Open Supply Hub CSV download."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from i18n import d_, dn_
from intake.cli.common import PassEnvOpt, PassFileOpt, UserOpt, console, fail, print_error, unlocked_cases
from intake.errors import CsvRejected
from intake.store.factories import MAX_CSV_BYTES, Factories

factories_app = typer.Typer(help=d_("The factories register (needs the passphrase)."), no_args_is_help=True)


@factories_app.command("import")
def factories_import(
    file: Annotated[Path, typer.Argument(metavar="CSV", help=d_("CSV file downloaded from Open Supply Hub."))],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Import factories from an Open Supply Hub CSV: all rows or none; known OS IDs are updated."""
    try:
        with file.open("rb") as fh:
            data = fh.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        fail(d_("Cannot read {path}: {reason}").format(path=file, reason=exc.strerror))
    with unlocked_cases(user, passphrase_file, passphrase) as (_settings, keys, store):
        try:
            result = Factories(store, keys).import_csv(data)
        except CsvRejected as exc:
            from intake.desk.factories import row_messages

            for line in row_messages(exc.errors):
                print_error(line)  # printed as it is: print_error reads no markup
            fail(d_("Nothing was imported from {path}.").format(path=file))
    console.print(
        dn_(
            "Imported from {path}: {added} new factory, {updated} updated.",
            "Imported from {path}: {added} new factories, {updated} updated.",
            result.added,
        ).format(path=file, added=result.added, updated=result.updated),
        markup=False,
    )
