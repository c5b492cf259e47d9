"""The ``intake`` command as an operator meets it: a real process, a real node, no terminal.

Every run gets ``stdin`` that is not a tty, a clean environment (no INTAKE_* leaking in from the
developer's shell) and English messages. Nodes use the insecure test KDF profile.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake.domain import Category, Channel, Consent, FollowUp, Report
from intake.services import IntakeService, accept_followup, accept_report
from tests.conftest import PASSPHRASE, TEST_PROFILE, USER, Node, make_node

FINGERPRINT = re.compile(r"^\s*\d{5}(?: \d{5}){11}\s*$")
INSECURE = ["--kdf-profile", TEST_PROFILE, "--allow-insecure-kdf"]

ZH_TEXT = "我们每天加班到晚上十一点，加班费按正常工资算。组长说不加班就扣全勤奖。"
EN_TEXT = "The dormitory has no hot water since March and twelve of us share one room."
FOLLOWUP_TEXT = "补充：上个月工资又晚发了两个星期。"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # No COLUMNS: without a terminal Rich assumes 80 columns, and an error must still be one line.
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_") and k not in ("COLUMNS", "LINES")}
    env.update({"LANGUAGE": "en", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    env.update(extra or {})
    return env


def intake(*args: str | Path, env: Mapping[str, str] | None = None, timeout: float = 60) -> Result:
    """Run the CLI as a subprocess with stdin that is not a terminal."""
    proc = subprocess.run(
        [sys.executable, "-m", "intake.cli", *map(str, args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=base_env(env),
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def one_line_error(result: Result) -> str:
    """The run failed with exactly one line on stderr and no traceback; returns that line."""
    assert result.code == 1, result
    assert "Traceback" not in result.both, result.both
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("Error:"), lines[0]
    return lines[0]


def write_pass(path: Path, secret: str) -> Path:
    path.write_text(secret + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def pass_file(tmp_path: Path) -> Path:
    return write_pass(tmp_path / "passphrase.txt", PASSPHRASE)


def submit(node: Node) -> dict[str, str]:
    """Two reports and a follow-up through the one way in (as the web channel would)."""
    service = IntakeService.open(node.settings)
    try:
        zh = accept_report(
            service,
            Report(
                channel=Channel.WEB,
                locale="zh_Hans",
                factory="东莞某电子厂",
                location="东莞",
                categories=[Category.WORKING_HOURS, Category.WAGES],
                description=ZH_TEXT,
                consent=Consent.ANONYMISED,
            ),
        )
        en = accept_report(
            service,
            Report(
                channel=Channel.API,
                locale="en",
                factory="Example Cable Assembly",
                categories=[Category.DORMITORY],
                description=EN_TEXT,
            ),
        )
        accept_followup(service, zh, FollowUp(channel=Channel.WEB, locale="zh_Hans", text=FOLLOWUP_TEXT))
    finally:
        service.close()
    return {"zh": zh, "en": en}


@pytest.fixture(scope="module")
def drained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Node, Path]:
    """A node with two reports and a follow-up, drained through the CLI. Read-only for tests."""
    base = tmp_path_factory.mktemp("cli-drained")
    node = make_node(base / "home")
    submit(node)
    pfile = write_pass(base / "pass.txt", PASSPHRASE)
    result = intake("--home", node.home, "drain", "--passphrase-file", pfile)
    assert result.code == 0, result
    assert "New cases: 2. Follow-ups: 1. Already drained: 0. Could not open: 0." in result.out, result.out
    return node, pfile


# -- help ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        [],
        ["init"],
        ["serve"],
        ["drain"],
        ["demo"],
        ["cases"],
        ["cases", "list"],
        ["cases", "show"],
        ["keys"],
        ["keys", "show"],
        ["users"],
        ["users", "add"],
        ["users", "list"],
        ["users", "remove"],
        ["passphrase"],
        ["passphrase", "change"],
    ],
    ids=lambda c: " ".join(c) or "intake",
)
def test_help_exits_zero(command: list[str]) -> None:
    result = intake(*command, "--help")
    assert result.code == 0, result
    assert "Usage" in result.out
    assert "--allow-insecure-kdf" not in result.out  # the test-only flag stays hidden


# -- init and keys ------------------------------------------------------------------------------------
def test_init_prints_two_fingerprints_and_keys_show_matches(tmp_path: Path, pass_file: Path) -> None:
    home = tmp_path / "home"
    result = intake("--home", home, "init", *INSECURE, "--passphrase-file", pass_file)
    assert result.code == 0, result
    prints = [line.strip() for line in result.out.splitlines() if FINGERPRINT.match(line)]
    assert len(prints) == 2 and prints[0] != prints[1], result.out
    assert (home / "keyring.json").is_file() and (home / "cases.db").is_file() and (home / "inbox.db").is_file()

    # keys show needs no passphrase (no file, no env, no terminal) and repeats the same fingerprints
    shown = intake("--home", home, "keys", "show")
    assert shown.code == 0, shown
    assert [line.strip() for line in shown.out.splitlines() if FINGERPRINT.match(line)] == prints

    as_json = intake("keys", "show", "--json", env={"INTAKE_HOME": str(home)})
    assert as_json.code == 0, as_json
    doc = json.loads(as_json.out)
    assert [doc["fingerprints"]["x25519"], doc["fingerprints"]["ed25519"]] == prints
    assert set(doc["public"]) == {"x25519", "ed25519"} and doc["node_id"]


def test_init_with_user_name_and_passphrase_env(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = intake("init", *INSECURE, "--user", "mei", env={"INTAKE_HOME": str(home), "INTAKE_PASSPHRASE": PASSPHRASE})
    assert result.code == 0, result
    users = intake("--home", home, "users", "list")
    assert users.code == 0, users
    assert re.search(r"^mei\s+coordinator$", users.out, re.MULTILINE), users.out


def test_init_refuses_insecure_profile_without_hidden_flag(tmp_path: Path, pass_file: Path) -> None:
    home = tmp_path / "home"
    result = intake("--home", home, "init", "--kdf-profile", TEST_PROFILE, "--passphrase-file", pass_file)
    line = one_line_error(result)
    assert TEST_PROFILE in line and "tests only" in line
    assert not (home / "keyring.json").exists()


def test_init_refuses_unknown_profile(tmp_path: Path, pass_file: Path) -> None:
    result = intake("--home", tmp_path / "home", "init", "--kdf-profile", "fastest", "--passphrase-file", pass_file)
    line = one_line_error(result)
    assert "fastest" in line and "moderate" in line
    assert TEST_PROFILE not in line  # the insecure profile is never offered


def test_init_refuses_twice_and_keeps_the_first_node(tmp_path: Path, pass_file: Path) -> None:
    home = tmp_path / "home"
    assert intake("--home", home, "init", *INSECURE, "--passphrase-file", pass_file).code == 0
    before = (home / "keyring.json").read_bytes()
    other = write_pass(tmp_path / "other.txt", "a different passphrase")
    line = one_line_error(intake("--home", home, "init", *INSECURE, "--passphrase-file", other))
    assert "already" in line and str(home) in line
    assert (home / "keyring.json").read_bytes() == before


def test_init_without_passphrase_and_without_terminal_fails_clearly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    line = one_line_error(intake("--home", home, "init", *INSECURE))
    assert "--passphrase-file" in line and "INTAKE_PASSPHRASE" in line
    assert not (home / "keyring.json").exists()


# -- drain and cases ----------------------------------------------------------------------------------
def test_drain_twice_finds_nothing_new(drained: tuple[Node, Path]) -> None:
    node, pfile = drained
    again = intake("--home", node.home, "drain", "--passphrase-file", pfile)
    assert again.code == 0, again
    assert "New cases: 0. Follow-ups: 0. Already drained: 0. Could not open: 0." in again.out


def test_cases_list_json_carries_ids_and_the_workers_own_words(drained: tuple[Node, Path]) -> None:
    node, pfile = drained
    result = intake("--home", node.home, "cases", "list", "--json", "--passphrase-file", pfile)
    assert result.code == 0, result
    cases = json.loads(result.out)
    assert len(cases) == 2
    assert all(isinstance(c["id"], int) for c in cases)
    assert len({c["id"] for c in cases}) == 2
    by_words = {c["description"]: c for c in cases}
    assert set(by_words) == {ZH_TEXT, EN_TEXT}  # exact, byte for byte, Chinese included
    assert by_words[ZH_TEXT]["factory"] == "东莞某电子厂"
    assert by_words[ZH_TEXT]["locale"] == "zh_Hans"
    assert by_words[ZH_TEXT]["categories"] == ["working_hours", "wages"]
    assert by_words[ZH_TEXT]["consent"] == 1
    assert by_words[EN_TEXT]["categories"] == ["dormitory"]
    # newest first
    assert [c["id"] for c in cases] == sorted((c["id"] for c in cases), reverse=True)


def test_cases_list_limit(drained: tuple[Node, Path]) -> None:
    node, pfile = drained
    result = intake("--home", node.home, "cases", "list", "--json", "--limit", "1", "--passphrase-file", pfile)
    assert result.code == 0, result
    cases = json.loads(result.out)
    assert len(cases) == 1 and cases[0]["description"] == EN_TEXT  # the newest


def test_cases_list_table(drained: tuple[Node, Path]) -> None:
    node, _ = drained
    result = intake("--home", node.home, "cases", "list", env={"INTAKE_PASSPHRASE": PASSPHRASE, "COLUMNS": "200"})
    assert result.code == 0, result
    assert "Example Cable Assembly" in result.out
    assert "东莞某电子厂" in result.out
    assert EN_TEXT[:40] in result.out


def test_cases_show_json_with_followups(drained: tuple[Node, Path]) -> None:
    node, pfile = drained
    listed = json.loads(intake("--home", node.home, "cases", "list", "--json", "--passphrase-file", pfile).out)
    zh_id = next(c["id"] for c in listed if c["description"] == ZH_TEXT)
    en_id = next(c["id"] for c in listed if c["description"] == EN_TEXT)

    shown = intake("--home", node.home, "cases", "show", str(zh_id), "--json", "--passphrase-file", pfile)
    assert shown.code == 0, shown
    case = json.loads(shown.out)
    assert case["id"] == zh_id and case["description"] == ZH_TEXT
    assert [f["text"] for f in case["followups"]] == [FOLLOWUP_TEXT]

    other = json.loads(
        intake("--home", node.home, "cases", "show", str(en_id), "--json", "--passphrase-file", pfile).out
    )
    assert other["followups"] == []

    text = intake("--home", node.home, "cases", "show", str(zh_id), "--passphrase-file", pfile)
    assert text.code == 0, text
    assert ZH_TEXT in text.out and FOLLOWUP_TEXT in text.out


def test_cases_show_unknown_id(drained: tuple[Node, Path]) -> None:
    node, pfile = drained
    line = one_line_error(intake("--home", node.home, "cases", "show", "999", "--passphrase-file", pfile))
    assert "999" in line


def test_cases_without_passphrase_and_without_terminal(drained: tuple[Node, Path]) -> None:
    node, _ = drained
    line = one_line_error(intake("--home", node.home, "cases", "list"))
    assert "--passphrase-file" in line and "INTAKE_PASSPHRASE" in line


def test_unreadable_passphrase_file(drained: tuple[Node, Path], tmp_path: Path) -> None:
    node, _ = drained
    missing = tmp_path / "nowhere.txt"
    line = one_line_error(intake("--home", node.home, "cases", "list", "--passphrase-file", missing))
    assert str(missing) in line


# -- wrong passphrase, missing home, --debug ----------------------------------------------------------
def test_wrong_passphrase_is_one_line_and_slows_the_next_try(tmp_path: Path) -> None:
    node = make_node(tmp_path / "home")
    submit(node)
    wrong = write_pass(tmp_path / "wrong.txt", "not the passphrase at all")
    right = write_pass(tmp_path / "right.txt", PASSPHRASE)

    first = intake("--home", node.home, "drain", "--passphrase-file", wrong)
    line = one_line_error(first)
    assert "Wrong user or passphrase" in line
    assert "waiting" not in first.err  # no earlier failures, no wait
    assert (node.home / "unlock-failures").read_text().strip() == "1"
    assert node.settings.inbox_path.is_file()

    # the next try (right or wrong) is told it waits because of the earlier failure
    second = intake("--home", node.home, "drain", "--passphrase-file", wrong)
    assert second.code == 1 and "Traceback" not in second.both
    err_lines = [x for x in second.err.splitlines() if x.strip()]
    assert len(err_lines) == 2, second.err
    assert "After earlier wrong passphrases, waiting" in err_lines[0]
    assert "Wrong user or passphrase" in err_lines[1]
    assert (node.home / "unlock-failures").read_text().strip() == "2"

    # nothing was drained by the failed tries; the right passphrase still works and resets the count
    ok = intake("--home", node.home, "drain", "--passphrase-file", right)
    assert ok.code == 0, ok
    assert "waiting" in ok.err
    assert "New cases: 2. Follow-ups: 1." in ok.out
    assert not (node.home / "unlock-failures").exists()
    again = intake("--home", node.home, "cases", "list", "--json", "--passphrase-file", right)
    assert again.code == 0 and "waiting" not in again.err
    assert len(json.loads(again.out)) == 2


def test_wrong_user_is_the_same_message(tmp_path: Path, pass_file: Path) -> None:
    node = make_node(tmp_path / "home")
    line = one_line_error(
        intake("--home", node.home, "cases", "list", "--user", "nobody", "--passphrase-file", pass_file)
    )
    assert "Wrong user or passphrase" in line


def test_missing_home_names_intake_init(tmp_path: Path, pass_file: Path) -> None:
    home = tmp_path / "no-node-here"
    for args in (
        ["cases", "list", "--passphrase-file", pass_file],
        ["keys", "show"],
        ["drain", "--passphrase-file", pass_file],
        ["users", "list"],
    ):
        line = one_line_error(intake("--home", home, *args))
        assert "intake init" in line, (args, line)
        assert str(home) in line
    assert not home.exists()  # reading never creates a node folder


def test_debug_shows_the_traceback(tmp_path: Path, pass_file: Path) -> None:
    home = tmp_path / "no-node-here"
    result = intake("--debug", "--home", home, "cases", "list", "--passphrase-file", pass_file)
    assert result.code != 0
    assert "Traceback" in result.err
    assert "NodeError" in result.err and "intake init" in result.err


def test_corrupted_cases_db_names_the_file(tmp_path: Path, pass_file: Path) -> None:
    node = make_node(tmp_path / "home")
    cases_db = node.settings.cases_path
    cases_db.write_bytes(os.urandom(16 * 1024))
    for suffix in ("-wal", "-shm"):
        Path(str(cases_db) + suffix).unlink(missing_ok=True)
    result = intake("--home", node.home, "cases", "list", "--passphrase-file", pass_file)
    line = one_line_error(result)
    assert str(cases_db) in line
    assert "ERROR CORE" not in result.both  # SQLCipher's own log stays quiet


def test_corrupted_inbox_db_names_the_file(tmp_path: Path, pass_file: Path) -> None:
    node = make_node(tmp_path / "home")
    inbox_db = node.settings.inbox_path
    inbox_db.write_bytes(os.urandom(16 * 1024))
    for suffix in ("-wal", "-shm"):
        Path(str(inbox_db) + suffix).unlink(missing_ok=True)
    line = one_line_error(intake("--home", node.home, "drain", "--passphrase-file", pass_file))
    assert str(inbox_db) in line


# -- users and passphrases ----------------------------------------------------------------------------
def test_users_add_then_that_user_reads_cases(tmp_path: Path, pass_file: Path) -> None:
    node = make_node(tmp_path / "home")
    submit(node)
    assert intake("--home", node.home, "drain", "--passphrase-file", pass_file).code == 0
    ana_pass = write_pass(tmp_path / "ana.txt", "ana's own long passphrase")

    added = intake(
        "--home", node.home, "users", "add", "ana", "--role", "caseworker",
        "--new-passphrase-file", ana_pass, "--kdf-profile", TEST_PROFILE, "--passphrase-file", pass_file,
    )  # fmt: skip
    assert added.code == 0, added
    assert "ana" in added.out and "caseworker" in added.out

    users = intake("--home", node.home, "users", "list")
    assert users.code == 0, users
    assert re.search(rf"^{USER}\s+coordinator$", users.out, re.MULTILINE), users.out
    assert re.search(r"^ana\s+caseworker$", users.out, re.MULTILINE), users.out

    listed = intake("--home", node.home, "cases", "list", "--json", "--user", "ana", "--passphrase-file", ana_pass)
    assert listed.code == 0, listed
    assert {c["description"] for c in json.loads(listed.out)} == {ZH_TEXT, EN_TEXT}

    # ana's passphrase does not open the admin user, and vice versa
    assert intake("--home", node.home, "cases", "list", "--user", USER, "--passphrase-file", ana_pass).code == 1
    assert intake("--home", node.home, "cases", "list", "--user", "ana", "--passphrase-file", pass_file).code == 1


def test_users_add_twice_fails_clearly(tmp_path: Path, pass_file: Path) -> None:
    node = make_node(tmp_path / "home")
    new = write_pass(tmp_path / "new.txt", "another long passphrase")
    args: list[str | Path] = [
        "users",
        "add",
        "ana",
        "--new-passphrase-file",
        new,
        "--kdf-profile",
        TEST_PROFILE,
        "--passphrase-file",
        pass_file,
    ]
    assert intake("--home", node.home, *args).code == 0
    line = one_line_error(intake("--home", node.home, *args))
    assert "ana" in line


def test_passphrase_change_old_fails_new_works(tmp_path: Path, pass_file: Path) -> None:
    node = make_node(tmp_path / "home")
    new = write_pass(tmp_path / "new.txt", "a brand new passphrase")
    changed = intake(
        "--home", node.home, "passphrase", "change", "--passphrase-file", pass_file, "--new-passphrase-file", new
    )
    assert changed.code == 0, changed
    assert USER in changed.out

    old = intake("--home", node.home, "cases", "list", "--json", "--passphrase-file", pass_file)
    assert "Wrong user or passphrase" in one_line_error(old)
    works = intake("--home", node.home, "cases", "list", "--json", "--passphrase-file", new)
    assert works.code == 0, works
    assert json.loads(works.out) == []


def test_passphrase_change_with_wrong_passphrase_changes_nothing(tmp_path: Path, pass_file: Path) -> None:
    node = make_node(tmp_path / "home")
    before = node.settings.keyring_path.read_bytes()
    wrong = write_pass(tmp_path / "wrong.txt", "not the passphrase at all")
    new = write_pass(tmp_path / "new.txt", "a brand new passphrase")
    result = intake(
        "--home", node.home, "passphrase", "change", "--passphrase-file", wrong, "--new-passphrase-file", new
    )
    assert "Wrong user or passphrase" in one_line_error(result)
    assert node.settings.keyring_path.read_bytes() == before


def test_bad_settings_file_is_one_line(tmp_path: Path) -> None:
    node = make_node(tmp_path / "home")
    node.settings.settings_path.write_text("port = 'eighty'\n", encoding="utf-8")
    line = one_line_error(intake("--home", node.home, "keys", "show"))
    assert "port" in line


# -- what a newcomer trips on (issue 12) ------------------------------------------------------------
@pytest.mark.parametrize("command", ["users add ana", "passphrase change"])
def test_no_new_passphrase_names_new_passphrase_file(tmp_path: Path, pass_file: Path, command: str) -> None:
    """Without a terminal the error names the option that was missing: the new passphrase's file."""
    node = make_node(tmp_path / "home")
    before = node.settings.keyring_path.read_bytes()
    line = one_line_error(intake("--home", node.home, *command.split(), "--passphrase-file", pass_file))
    assert "--new-passphrase-file" in line, line
    assert "INTAKE_PASSPHRASE" not in line, "INTAKE_PASSPHRASE is the current passphrase, not the new one"
    assert node.settings.keyring_path.read_bytes() == before


NEEDS_A_NODE = [
    "drain", "cases list", "cases show 1", "users add ana", "users list", "users remove ana", "passphrase change",
    "keys show", "serve --port 0", "desk --port 0", "desk pair", "desk unpair", "backup --to {tmp}/node.backup",
    "audit verify", "stats export", "factories import {tmp}/factories.csv", "relay key", "relay partners list",
    "relay preview 1", "relay push", "relay export --to {tmp}", "relay outbox", "sms pull", "voice pull",
    "voice retry", "voice export 1",
]  # fmt: skip


@pytest.mark.parametrize("command", NEEDS_A_NODE)
def test_a_folder_without_a_node_is_said_before_any_prompt(tmp_path: Path, command: str) -> None:
    """No keyring at --home: one line naming the folder and `intake init`, before any passphrase."""
    home = tmp_path / "no node [here]"  # brackets: the message is printed as it is, never as markup
    (tmp_path / "factories.csv").write_text("name\nExample Electronics\n", encoding="utf-8")
    line = one_line_error(intake("--home", home, *command.format(tmp=tmp_path).split()))
    assert line == f"Error: No node at {home}: run 'intake init' first, or give the node's folder with --home.", line
    assert not home.exists()


def test_a_path_with_markup_in_an_error_is_printed_as_it_is(tmp_path: Path) -> None:
    home = tmp_path / "a[/]b[red]c"
    line = one_line_error(intake("--home", home, "keys", "show"))
    assert str(home) in line, line


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["demo", "--port", "x"], "'--port'"),
        (["demo", "--desk-portx", "1"], "--desk-portx"),
        (["cases", "list", "--limit", "0"], "'--limit'"),
        (["nosuchcommand"], "nosuchcommand"),
    ],
)
def test_usage_errors_are_one_plain_line(args: list[str], wanted: str) -> None:
    """A usage error is one line like every other error: no box, no padding to the terminal's width."""
    result = intake(*args)
    assert result.code == 2, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("Error: ") and wanted in lines[0] and "--help" in lines[0], lines[0]
    assert lines[0] == lines[0].rstrip(), "padded with spaces"
    assert not set("╭╮╰╯│─") & set(result.err)
