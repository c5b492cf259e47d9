"""``intake retention run``: destroy the words of cases closed longer than ``retention_days`` and
the inbox items never drained after ``inbox_retention_days`` (issue 17; intake/retention.py).

Counts only are printed, never a case's words. A case is destroyed whole or not at all, in its own
batch's transaction, so a drain or a desk may run meanwhile; a panic stops it between batches.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from crypto.keyring import Role
from i18n import d_, dn_
from intake import retention
from intake.cli.common import JsonOpt, PassEnvOpt, PassFileOpt, UserOpt, console, fail, unlocked_cases
from intake.panic import panicked_at

retention_app = typer.Typer(
    help=d_("Destroy closed cases' words after the retention period (needs the passphrase)."), no_args_is_help=True
)


@retention_app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=d_("Count what would be destroyed now; change nothing."))
    ] = False,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Apply the retention settings now: closed cases' words, and inbox items never drained."""
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        if keys.role is Role.VIEWER and not dry_run:
            fail(d_("A viewer may only count (--dry-run); a caseworker or coordinator runs retention."))
        outcome = retention.run(
            settings, store, keys, dry_run=dry_run, stop=lambda: panicked_at(settings.home) is not None
        )
    if as_json:
        print(json.dumps(outcome.as_json(), ensure_ascii=False, indent=2))
        return
    for line in summary(outcome):
        console.print(line, highlight=False)


def summary(outcome: retention.Outcome) -> list[str]:
    """What a run did (or, dry, would do), as lines of counts."""
    lines: list[str] = []
    if outcome.case_days == 0:
        lines.append(d_("Closed cases are kept: retention_days is 0."))
    elif outcome.dry_run:
        lines.append(
            dn_(
                "{n} closed case is past {days} days: its words would be destroyed.",
                "{n} closed cases are past {days} days: their words would be destroyed.",
                outcome.cases,
            ).format(n=outcome.cases, days=outcome.case_days)
        )
    else:
        lines.append(
            dn_(
                "Words of {n} closed case destroyed (closed more than {days} days ago).",
                "Words of {n} closed cases destroyed (closed more than {days} days ago).",
                outcome.cases,
            ).format(n=outcome.cases, days=outcome.case_days)
        )
    if outcome.cases:
        counts = d_(
            "Notes {notes}, replies {replies}, follow-ups {followups}, recordings {recordings}, files {files}, "
            "status board messages {board}."
        )
        lines.append(
            "  "
            + counts.format(
                notes=outcome.notes,
                replies=outcome.replies,
                followups=outcome.followups,
                recordings=outcome.recordings,
                files=outcome.files,
                board=outcome.board_messages,
            )
        )
    if outcome.inbox_days == 0:
        lines.append(d_("Inbox items are kept: inbox_retention_days is 0."))
    else:
        done = (
            dn_(
                "{n} inbox item never drained is older than {days} days and would be destroyed ({files} files).",
                "{n} inbox items never drained are older than {days} days and would be destroyed ({files} files).",
                outcome.inbox_items,
            )
            if outcome.dry_run
            else dn_(
                "{n} inbox item never drained destroyed ({files} files), older than {days} days.",
                "{n} inbox items never drained destroyed ({files} files), older than {days} days.",
                outcome.inbox_items,
            )
        )
        lines.append(done.format(n=outcome.inbox_items, files=outcome.inbox_files, days=outcome.inbox_days))
    if outcome.stopped:
        lines.append(d_("Stopped early (the node panicked); the rest waits for the next run."))
    if outcome.dry_run:
        lines.append(d_("Dry run: nothing was changed."))
    return lines
