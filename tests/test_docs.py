"""The docs keep up with the code (after Datasette's test_docs.py): every setting, every command and
option, the README's two commands, the locale status table, and the links between them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import typer

import i18n
import intake.settings
from intake.cli.app import app
from intake.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def env_var(setting: str) -> str:
    """The environment variable of a setting: INTAKE_<NAME>, unless settings.py names another."""
    named = getattr(intake.settings, "env_name", None)
    return str(named(setting)) if named else f"INTAKE_{setting.upper()}"


def read(path: str) -> str:
    return (ROOT / path).read_text("utf-8")


def walk(command: Any, path: tuple[str, ...] = ("intake",)) -> Iterator[tuple[str, Any]]:
    """Every command and subcommand of the CLI as ("intake cases list", command)."""
    yield " ".join(path), command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        if not getattr(sub, "hidden", False):
            yield from walk(sub, (*path, name))


COMMANDS = dict(walk(typer.main.get_command(app)))


def section(doc: str, title: str) -> str:
    """The text under the heading ``## `title`` ``, up to the next heading of that level."""
    match = re.search(rf"^## `{re.escape(title)}(?: [A-Z]+)*`\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
    assert match, f"docs/cli.md has no section headed `{title}`"
    return match.group(1)


# -- settings ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_is_documented(name: str) -> None:
    doc = read("docs/settings.md")
    assert f"`{name}`" in doc, f"docs/settings.md does not describe the setting {name}"
    assert f"`{env_var(name)}`" in doc, f"docs/settings.md does not name {env_var(name)}"


@pytest.mark.parametrize("var", ["INTAKE_HOME", "INTAKE_PASSPHRASE", "INTAKE_LANG"])
def test_other_environment_variables_are_documented(var: str) -> None:
    assert f"`{var}`" in read("docs/settings.md")


def test_documented_defaults_match_the_code() -> None:
    doc = read("docs/settings.md")
    for f in fields(Settings):
        if f.name == "home":
            continue
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{f.name}` |")), None)
        assert row, f"docs/settings.md has no table row for {f.name}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == f"`{env_var(f.name)}`", f"{f.name}: documented variable {cells[1]}"
        shown = str(f.default) if f.default != "" else "empty"
        assert f"`{shown}`" == cells[2] or shown == cells[2], f"{f.name}: documented default {cells[2]}, code {shown}"


# -- CLI --------------------------------------------------------------------------------------------
def test_the_cli_tree_is_walked() -> None:
    assert {"intake", "intake init", "intake serve", "intake drain", "intake demo", "intake cases list"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("path", [p for p, c in COMMANDS.items() if not getattr(c, "commands", None)])
def test_every_command_and_option_is_documented(path: str) -> None:
    doc = read("docs/cli.md")
    text = section(doc, path)
    for param in COMMANDS[path].params:
        if getattr(param, "hidden", False) or param.param_type_name != "option":
            continue
        documented = [opt for opt in param.opts if f"`{opt}" in text]
        assert documented, f"docs/cli.md, section `{path}`, does not document {'/'.join(param.opts)}"


@pytest.mark.parametrize("path", [p for p, c in COMMANDS.items() if getattr(c, "commands", None)])
def test_every_group_is_named(path: str) -> None:
    doc = read("docs/cli.md")
    assert f"`{path}" in doc or path == "intake"
    if path == "intake":
        for param in COMMANDS[path].params:
            assert any(f"`{opt}" in doc for opt in param.opts), f"global option {param.opts} not in docs/cli.md"


def test_no_documented_command_is_gone() -> None:
    doc = read("docs/cli.md")
    for title in re.findall(r"^## `(intake [a-z ]+?)(?: [A-Z]+)?`$", doc, re.M):
        assert title in COMMANDS, f"docs/cli.md documents `{title}`, which the CLI does not have"


# -- README and CI ----------------------------------------------------------------------------------
def readme_commands() -> list[str]:
    """Command lines in the README's code blocks before its first section heading."""
    readme = read("README.md")
    head = readme.split("\n## ", 1)[0]
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", head, re.S | re.M)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_opens_with_one_sentence_then_exactly_two_commands() -> None:
    readme = read("README.md")
    first = next(p for p in readme.split("\n\n") if p.strip() and not p.startswith("#"))
    assert len(re.findall(r"[.!?](?:\s|$)", first.strip())) == 1, "the README must open with one sentence"
    commands = readme_commands()
    assert len(commands) == 2, f"the README must start with exactly two commands, not {commands}"
    assert "intake demo" in commands[0]


def test_ci_runs_the_readmes_second_command() -> None:
    command = readme_commands()[1]
    ci = [line.strip() for line in read(".ci/run").splitlines() if not line.strip().startswith("#")]
    assert command in ci, f".ci/run does not run the README's command (b) `{command}` as a line of its own"
    assert ci[-1] == command, ".ci/run must end with the README's command (b), so its exit status is CI's"
    assert "set -euo pipefail" in ci
    assert "INTAKE_REQUIRE_TIERS=browser" in " ".join(ci)


def test_scripts_are_executable() -> None:
    for name in ("scripts/test.sh", "scripts/check.sh", ".ci/run"):
        assert (ROOT / name).stat().st_mode & 0o111, f"{name} is not executable"


@pytest.mark.parametrize(
    "doc", ["README.md", "docs/settings.md", "docs/cli.md", "docs/translating.md", "deploy/README.md"]
)
def test_relative_links_resolve(doc: str) -> None:
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", read(doc)):
        if re.match(r"^[a-z]+:", target):
            continue
        assert ((ROOT / doc).parent / target).exists(), f"{doc} links to {target}, which does not exist"


# -- translations -----------------------------------------------------------------------------------
def test_translation_status_lists_every_shipped_locale() -> None:
    doc = read("docs/translating.md")
    status = doc.split("## Status", 1)[1]
    rows = set(re.findall(r"^\| `([A-Za-z_]+)` \|", status, re.M))
    shipped = set(i18n.available_locales(i18n.WORKER_DOMAIN)) | set(i18n.available_locales(i18n.DESK_DOMAIN))
    assert shipped <= rows, f"docs/translating.md's status table misses {sorted(shipped - rows)}"
