"""What every ``intake`` subcommand shares: consoles, options, passphrase handling, output, errors."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from crypto import NodeKeys
from i18n import d_
from intake.errors import NodeError
from intake.node import open_cases, unlock
from intake.settings import Settings
from intake.store.cases import CasesStore

console = Console(soft_wrap=True)  # commands and URLs in the output stay copyable
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long its path


@dataclass
class Ctx:
    home: Path | None
    debug: bool

    def settings(self, **overrides: Any) -> Settings:
        return Settings.load(self.home, **overrides)

    def node(self, **overrides: Any) -> Settings:
        """:meth:`settings` of a folder that holds a node; else one line saying so (before any prompt)."""
        settings = self.settings(**overrides)
        require_node(settings)
        return settings


_state = Ctx(None, False)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="INTAKE_HOME", help=d_("Node folder (default: a per-user data folder).")),
]
UserOpt = Annotated[
    str | None,
    typer.Option("--user", help=d_("Desk user to unlock as (default: the only or first user).")),
]
PassFileOpt = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help=d_("Read the passphrase from this file (first line).")),
]
PassEnvOpt = Annotated[str | None, typer.Option("--passphrase", envvar="INTAKE_PASSPHRASE", hidden=True)]
JsonOpt = Annotated[bool, typer.Option("--json", help=d_("Print JSON."))]
CaseArg = Annotated[int, typer.Argument(help=d_("Case number."))]
InsecureKdfOpt = Annotated[bool, typer.Option("--allow-insecure-kdf", hidden=True)]  # tests' fast KDF only
# Generic in the value's type, which differs by command: HostOpt[str | None] = None, PortOpt[int] = 8020.
T = TypeVar("T")
HostOpt = Annotated[T, typer.Option("--host", help=d_("Address to listen on."))]
PortOpt = Annotated[T, typer.Option("--port", help=d_("Port to listen on."))]


def require_node(settings: Settings) -> None:
    """Say that there is no node at ``settings.home`` before asking for anything (issue 12)."""
    if not settings.keyring_path.exists():
        raise NodeError(
            d_("No node at {home}: run 'intake init' first, or give the node's folder with --home.").format(
                home=settings.home
            )
        )


def read_passphrase(
    file: Path | None,
    env_value: str | None,
    *,
    prompt: str,
    confirm: bool = False,
    option: str = "--passphrase-file",
) -> str:
    """A passphrase from ``file``, else ``env_value`` (``INTAKE_PASSPHRASE``), else the terminal.

    ``option`` is the command's option for the file: without a terminal the error names it (and
    ``INTAKE_PASSPHRASE`` only where ``env_value`` can come from there, i.e. ``--passphrase-file``).
    """
    if file is not None:
        try:
            text = file.read_text("utf-8").splitlines()
        except OSError as exc:
            fail(d_("Cannot read the passphrase file {path}: {reason}").format(path=file, reason=exc.strerror))
        return text[0] if text else ""
    if env_value:
        return env_value
    if not sys.stdin.isatty():
        if option == "--passphrase-file":
            fail(d_("No passphrase: give --passphrase-file or set INTAKE_PASSPHRASE (no terminal to ask on)."))
        fail(d_("No passphrase: give {option} (no terminal to ask on).").format(option=option))
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def unlock_node(settings: Settings, user: str | None, file: Path | None, env_value: str | None) -> NodeKeys:
    require_node(settings)
    passphrase = read_passphrase(file, env_value, prompt=d_("Passphrase"))
    return unlock(settings, user, passphrase, sleep=_slow)  # a wrong one is said by main() (intake/cli/app.py)


def _slow(seconds: float) -> None:
    if seconds:
        err.print(d_("After earlier wrong passphrases, waiting {seconds:.1f} s...").format(seconds=seconds))
        time.sleep(seconds)


def fail(message: str, code: int = 1) -> NoReturn:
    print_error(message)
    raise typer.Exit(code)


def print_error(message: str) -> None:
    """The one place the CLI renders an error: one plain line, as given.

    The message is never read as Rich markup (a path or a reason in [brackets] stays as it is, and a
    stray "[/]" cannot crash the error report), and nothing pads, wraps or boxes it.
    """
    line = Text.assemble((d_("Error") + ":", "red"), " ", message.strip())
    err.print(line, highlight=False, soft_wrap=True)


# -- commands -------------------------------------------------------------------------------------------


@contextmanager
def unlocked_cases(
    user: str | None, passphrase_file: Path | None, passphrase: str | None
) -> Iterator[tuple[Settings, NodeKeys, CasesStore]]:
    """Unlock as ``user`` and open cases.db for the body of a ``with``; closed however it ends."""
    settings = _state.settings()
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    store = open_cases(settings, keys)
    try:
        yield settings, keys, store
    finally:
        store.close()


def print_table(headers: Sequence[str], rows: Iterable[Sequence[RenderableType]]) -> None:
    """One table: ``headers``, then a line per row (cells already strings or Rich ``Text``)."""
    table = Table(*headers)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def print_json_or_table(
    doc: Any, as_json: bool, headers: Sequence[str], rows: Iterable[Sequence[RenderableType]]
) -> None:
    """``doc`` as JSON with ``--json``, else :func:`print_table` (``rows`` is read only then: pass a generator)."""
    if as_json:
        console.print_json(data=doc)
    else:
        print_table(headers, rows)
