"""The ``intake`` command: its groups in the order ``intake --help`` lists them, and :func:`main`.

Errors print one clear line and exit non-zero; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from crypto import CryptoError, WrongPassphrase
from i18n import d_
from intake.cli import (
    backup,
    cases,
    channels,
    check,
    desk,
    doctor,
    factories,
    keys,
    node,
    partner,
    partner_record,
    relay,
    retention,
    stats,
)
from intake.cli.common import HomeOpt, _state, console, print_error
from intake.errors import IntakeError

app = typer.Typer(
    help=d_("Secure, offline-first grievance intake for workers in supply chains."),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# `intake --help` lists the commands in this order, then the groups in theirs (then `demo`, below).
for command in (
    backup.backup, backup.restore, check.check, doctor.doctor, node.init, node.serve, cases.drain, keys.panic,
):  # fmt: skip
    app.command()(command)
GROUPS = {
    "cases": cases.cases_app,
    "keys": node.keys_app,
    "users": node.users_app,
    "passphrase": node.passphrase_app,
    "sms": channels.sms_app,
    "desk": desk.desk_app,
    "voice": channels.voice_app,
    "audit": backup.audit_app,
    "factories": factories.factories_app,
    "relay": relay.relay_app,
    "partner": partner.partner_app,
    "stats": stats.stats_app,
    "retention": retention.retention_app,
}
for name, group in GROUPS.items():
    app.add_typer(group, name=name)
# The partner's remedy record (issue 15): its own module, which needs intake/cli/partner.py's unlock.
partner.partner_app.add_typer(partner_record.supply_app, name="supply-chain")
partner.partner_app.add_typer(partner_record.complaints_app, name="complaints")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("grievance-intake")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown"
        console.print(f"intake {number}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    home: HomeOpt = None,
    debug: Annotated[bool, typer.Option("--debug", help=d_("Show tracebacks on errors."))] = False,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help=d_("Print the version and exit.")),
    ] = False,
) -> None:
    _state.home = home
    _state.debug = debug


@app.command()
def demo(
    port: Annotated[
        int | None, typer.Option("--port", min=0, max=65535, help=d_("Port for the demo intake (default 8000)."))
    ] = None,
    desk_port: Annotated[
        int | None,
        typer.Option("--desk-port", min=0, max=65535, help=d_("Port for the demo desk (default: the intake's + 1).")),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help=d_("Seed, drain, print and exit instead of serving."))] = False,
    home: Annotated[
        Path | None,
        typer.Option(
            "--demo-home",
            help=d_("Folder for the throwaway node (default: a new temporary folder)."),
        ),
    ] = None,
) -> None:
    """Run the whole system on loopback with sample data."""
    from intake.demo.run import run_demo

    run_demo(port=port, desk_port=desk_port, once=once, home=home, console=console)


# -- entry point ---------------------------------------------------------------------------------------
def main() -> None:
    # Typer 0.29 ships its own copy of Click and exports none of its exceptions (the lock pins it;
    # tests/intake/cli/test_cli.py runs usage errors through here, so an upgrade that moves them shows).
    from typer._click import exceptions as click

    try:
        # Not standalone: usage errors come here too and print as one line like every other error,
        # not in Rich's box padded to the terminal's width.
        code = app(standalone_mode=False)
    except click.NoArgsIsHelpError as exc:  # the help is the answer (Typer printed it already)
        if exc.format_message().strip():
            print(exc.format_message(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        hint = " " + d_("Try '{command} --help'.").format(command=exc.ctx.command_path) if exc.ctx else ""
        print_error(exc.format_message() + hint)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        print_error(exc.format_message())
        sys.exit(exc.exit_code)
    except typer.Abort:  # end of input at a prompt (Ctrl-D)
        print_error(d_("Aborted."))
        sys.exit(1)
    except WrongPassphrase:  # the CLI's one place for it (intake restore words it for a backup)
        print_error(d_("Wrong user or passphrase. Nothing was changed."))
        sys.exit(1)
    except (IntakeError, CryptoError) as exc:  # intake/errors.py: `detail` is the operator's line
        if _state.debug:
            raise
        print_error(exc.detail if isinstance(exc, IntakeError) and exc.detail else str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if _state.debug:
            raise
        print_error(
            d_("Unexpected failure ({kind}). Run again with --debug for details.").format(kind=type(exc).__name__)
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
