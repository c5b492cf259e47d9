"""``intake check``: read every page of the node's stores and say whether they are sound.

Opening a store no longer checks it (that read every page on every login and command: 40 s at a
million cases, issue 14), so damage from a failing disk or a hard power cut shows here, in
``intake backup`` and in the desk's banner after an unlock. Exit status 0 when every store is
sound, 1 otherwise, with one line per damaged store that names the file and what to do.
"""

from __future__ import annotations

from contextlib import closing
from typing import Annotated

import typer
from rich.text import Text

from i18n import d_
from intake.cli.common import PassEnvOpt, PassFileOpt, UserOpt, _state, console, print_error, unlock_node
from intake.node import check_stores, open_cases
from intake.store import maintenance

SHOWN = 5  # problem lines printed per store; the first ones say what and where


def check(
    full: Annotated[
        bool,
        typer.Option("--full", help=d_("Also check that every index matches its table (slower).")),
    ] = False,
    optimize: Annotated[
        bool,
        typer.Option(
            "--optimize",
            help=d_("Then merge the search index into one piece (faster searches; minutes on a big store)."),
        ),
    ] = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Check that the node's stores are intact (reads every page; exits 1 if one is damaged)."""
    settings = _state.node()
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    console.print(d_("Checking the stores (this reads every page and may take minutes)..."), highlight=False)
    found = check_stores(settings, keys, full=full)
    damaged = [path for path, problems in found.items() if problems]
    for path, problems in found.items():
        if not problems:
            console.print(d_("{path}: ok").format(path=path), highlight=False)
            continue
        console.print(d_("{path}: DAMAGED").format(path=path), highlight=False)
        for line in problems[:SHOWN]:  # SQLite's own words: pages and tables, never a case's content
            console.print(Text("  " + line), highlight=False)
        if len(problems) > SHOWN:
            console.print(Text("  ..."), highlight=False)
    for path in damaged:
        print_error(
            d_(
                "{path} is damaged. Keep a copy of it, then restore the node from a backup "
                "('intake restore FILE --home NEW_FOLDER') and run 'intake check' there."
            ).format(path=path)
        )
    if damaged:
        raise typer.Exit(1)
    if optimize:  # only a sound store: merging reads and rewrites the whole search index
        console.print(d_("Merging the search index (this may take minutes)..."), highlight=False)
        with closing(open_cases(settings, keys)) as store:
            merged = maintenance.optimize(store)
        console.print(
            d_("Search index: {before} segments merged into {after}.").format(
                before=merged.segments_before, after=merged.segments_after
            ),
            highlight=False,
        )
