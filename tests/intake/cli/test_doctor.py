"""``intake doctor`` (issue 17) as an operator runs it: a real node (test KDF), real processes,
real SQLCipher files; each broken case exits 1 and names what to do."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from intake import clock
from intake.backup import write_backup
from intake.doctor import Level, Limits, diagnose
from intake.node import open_inbox
from intake.settings import Settings
from tests.conftest import Node, make_node
from tests.intake.cli.test_cli import Result, intake, write_pass
from tests.intake.store.damage import damage_middle_page


def healthy_node(tmp_path: Path, *, in_process: bool = False) -> tuple[Node, Path]:
    """A fresh node with a fresh backup, and its passphrase file (outside the node folder).

    The backup is made by ``intake backup`` in a process of its own, like the doctor it is checked
    by: its time is that process's clock, not the test's (INTAKE_TEST_YEARS_AHEAD moves the test's
    clock years ahead, and the doctor rightly fails a backup made in its future). ``in_process``
    makes it here, for a doctor run in this process."""
    node = make_node(tmp_path / "home")
    pass_file = write_pass(tmp_path / "pass.txt", node.passphrase)
    if in_process:
        write_backup(node.settings, node.keys, tmp_path / "node.backup")
    else:
        made = intake("--home", node.home, "backup", "--to", tmp_path / "node.backup", "--passphrase-file", pass_file)
        assert made.code == 0, made
    return node, pass_file


def doctor(node: Node, pass_file: Path, *extra: str) -> Result:
    return intake("--home", node.home, "doctor", "--passphrase-file", pass_file, *extra)


def fails(result: Result, check: str) -> str:
    """The run exited 1 with a FAIL line for ``check``; returns that line and the fix under it."""
    assert result.code == 1, result
    assert "Traceback" not in result.both, result.both
    lines = result.out.splitlines()
    index = next((i for i, line in enumerate(lines) if line.startswith("FAIL") and f" {check}: " in line), None)
    assert index is not None, result.out
    assert lines[index + 1].strip().startswith("->"), result.out  # what to do, under the problem
    return lines[index] + "\n" + lines[index + 1]


def test_a_fresh_node_with_a_fresh_backup_is_healthy(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    result = doctor(node, pass_file)
    assert result.code == 0, result
    assert "FAIL" not in result.out and result.out.rstrip().endswith("Healthy.")
    for check in ("modes", "keyring", "stores", "clock", "disk", "backup", "inbox", "sms_outbox", "relay_outbox"):
        assert f"  {check}: " in result.out, check
    assert f"{node.settings.cases_path} opens and is intact." in result.out


def test_a_node_never_backed_up_is_not_healthy(tmp_path: Path) -> None:
    node = make_node(tmp_path / "home")
    line = fails(doctor(node, write_pass(tmp_path / "pass.txt", node.passphrase)), "backup")
    assert "never been backed up" in line and "intake backup --to" in line


def test_a_loose_folder_mode_fails_with_the_chmod_to_run(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    node.home.chmod(0o755)
    line = fails(doctor(node, pass_file), "modes")
    assert f"chmod 700 {node.home}" in line


def test_a_loose_store_mode_fails_before_opening_hides_it(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    node.settings.cases_path.chmod(0o644)
    line = fails(doctor(node, pass_file), "modes")
    assert f"chmod 600 {node.settings.cases_path}" in line and "644" in line


def test_a_missing_keyring_fails_and_says_restore(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    node.settings.keyring_path.unlink()
    line = fails(doctor(node, pass_file), "keyring")
    assert "intake restore" in line


def test_a_garbled_keyring_fails_without_asking_for_the_passphrase(tmp_path: Path) -> None:
    node, _pass_file = healthy_node(tmp_path)
    node.settings.keyring_path.write_bytes(b'{"version": 1, "users": [garbled')
    # No passphrase given and no terminal: the keyring's failure is said, no prompt is reached.
    line = fails(intake("--home", node.home, "doctor"), "keyring")
    assert "does not load" in line and "intake restore" in line


def test_a_damaged_store_fails_naming_the_file(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    damage_middle_page(node.settings.cases_path, node.keys.cases_db_key)
    line = fails(doctor(node, pass_file), "stores")
    assert str(node.settings.cases_path) in line and "intake restore" in line


def test_a_stale_backup_fails_once_the_clock_moves_on(tmp_path: Path) -> None:
    node, _pass_file = healthy_node(tmp_path, in_process=True)

    def run() -> list[tuple[str, Level, str]]:
        report = diagnose(node.home, load=lambda: node.settings, unlock=lambda _s: node.keys)
        return [(f.check, f.level, f.message + " " + f.fix) for f in report.findings if f.check == "backup"]

    assert run()[0][1] is Level.OK
    with clock.use(clock.FixedClock(clock.now() + timedelta(days=Limits.backup_days, hours=1))):
        ((_check, level, text),) = run()
    assert level is Level.FAIL and "7 days old" in text and "intake backup" in text


def test_an_inbox_backlog_over_the_threshold_fails(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    inbox = open_inbox(node.settings)
    try:
        for i in range(3):
            inbox.put(f"backlog-{i}", b"sealed synthetic item")
    finally:
        inbox.close()
    assert doctor(node, pass_file, "--max-backlog", "3").code == 0
    line = fails(doctor(node, pass_file, "--max-backlog", "2"), "inbox")
    assert "3 reports wait" in line and "intake drain" in line


def test_a_bad_public_url_fails_and_no_secret_is_printed(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    token = "0123456789abcdef-synthetic-token"
    for url, why in (
        ("https://intake.example.org/twilio?x=1", "path"),
        ("http://intake.example.org", "https://"),
        ("https://user:pw@intake.example.org", "user name"),
    ):
        node.settings.settings_path.write_text(
            f'public_url = "{url}"\ntwilio_account_sid = "ACsynthetic"\ntwilio_auth_token = "{token}"\n'
            'twilio_number = "+15005550006"\n',
            encoding="utf-8",
        )
        node.settings.settings_path.chmod(0o600)
        result = doctor(node, pass_file)
        line = fails(result, "public_url")
        assert why in line and "https://intake.example.org" in line
        assert token not in result.both
    node.settings.settings_path.write_text('public_url = "https://intake.example.org"\n', encoding="utf-8")
    assert doctor(node, pass_file).code == 0  # a bare https:// address is right


def test_twilio_half_set_up_names_the_missing_settings(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    node.settings.settings_path.write_text('twilio_auth_token = "synthetic-secret-token"\n', encoding="utf-8")
    node.settings.settings_path.chmod(0o600)
    result = doctor(node, pass_file)
    line = fails(result, "twilio")
    assert "twilio_account_sid" in line and "twilio_number" in line and "twilio_auth_token" not in line
    assert "synthetic-secret-token" not in result.both
    assert "public_url is not set" in fails(result, "public_url")


def test_json_shape_and_no_unlock(tmp_path: Path) -> None:
    node, _pass_file = healthy_node(tmp_path)
    result = intake("--home", node.home, "doctor", "--no-unlock", "--json")
    assert result.code == 0, result  # skipped checks warn; warnings do not make a node unhealthy
    doc = json.loads(result.out)
    assert doc["healthy"] is True
    assert all(set(c) == {"check", "level", "message", "fix"} for c in doc["checks"])
    assert {c["level"] for c in doc["checks"]} <= {"ok", "warn", "FAIL"}
    skipped = [c for c in doc["checks"] if c["level"] == "warn" and "--no-unlock" in c["message"]]
    assert {c["check"] for c in skipped} == {"stores", "relay_outbox"}
    node.home.chmod(0o750)
    broken = intake("--home", node.home, "doctor", "--no-unlock", "--json")
    assert broken.code == 1 and json.loads(broken.out)["healthy"] is False


def test_doctor_without_a_node_says_so(tmp_path: Path) -> None:
    result = intake("--home", tmp_path / "nothing", "doctor", "--no-unlock")
    assert "intake init" in fails(result, "node")


def test_invalid_settings_fail_and_the_other_checks_still_run(tmp_path: Path) -> None:
    node, _pass_file = healthy_node(tmp_path)
    node.settings.settings_path.write_text("port = 99999\n", encoding="utf-8")
    node.settings.settings_path.chmod(0o600)
    result = intake("--home", node.home, "doctor", "--no-unlock")
    assert "port 99999" in fails(result, "settings")
    assert "ok    keyring:" in result.out


def test_version() -> None:
    from importlib.metadata import version

    result = intake("--version")
    assert result.code == 0 and result.out.strip() == f"intake {version('grievance-intake')}", result


def test_restoring_a_backup_records_its_time(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    target = tmp_path / "restored"
    assert intake("restore", tmp_path / "node.backup", "--home", target, "--passphrase-file", pass_file).code == 0
    assert doctor(Node(Settings.load(target, env={}), node.keys), pass_file).code == 0
