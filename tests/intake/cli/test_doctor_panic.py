"""``intake doctor`` on a node whose keys a panic destroyed (issue 17): one FAIL that says so, when,
and how to recover, instead of a cascade of keyring and store failures. Real processes."""

from __future__ import annotations

import json
from pathlib import Path

from intake.panic import marker_path, panicked_at
from tests.intake.cli.test_cli import intake
from tests.intake.cli.test_doctor import doctor, fails, healthy_node

RECOVER = "intake keys recover KIT --identity FILE --backup FILE"


def test_doctor_on_a_panicked_node_says_one_thing(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    assert intake("--home", node.home, "panic", "--yes").code == 0
    at = panicked_at(node.home)
    assert at is not None
    result = doctor(node, pass_file)
    line = fails(result, "panic")
    assert f"destroyed by panic on {at}" in line and RECOVER in line
    assert [x for x in result.out.splitlines() if x.startswith("FAIL")] == [line.splitlines()[0]]
    assert "keyring:" not in result.out and "stores:" not in result.out
    assert "Passphrase" not in result.both  # nothing to unlock: no passphrase asked or read

    as_json = intake("--home", node.home, "doctor", "--no-unlock", "--json")
    assert as_json.code == 1
    checks = json.loads(as_json.out)["checks"]
    assert [c["check"] for c in checks if c["level"] == "FAIL"] == ["panic"]


def test_a_destroyed_keyring_without_the_marker_is_the_same_finding(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    assert intake("--home", node.home, "panic", "--yes").code == 0
    at = panicked_at(node.home)
    marker_path(node.home).unlink()  # e.g. the folder copied without it: the keyring still says when
    line = fails(doctor(node, pass_file, "--no-unlock"), "panic")
    assert f"destroyed by panic on {at}" in line and RECOVER in line


def test_a_healthy_node_has_no_panic_finding(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path)
    result = doctor(node, pass_file)
    assert result.code == 0 and "panic" not in result.out, result
