"""The relay and partner commands as an operator runs them (subprocesses, no terminal)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from intake.domain import Consent
from tests.conftest import PASSPHRASE, TEST_PROFILE, Node
from tests.intake.cli.test_cli import intake, one_line_error, write_pass
from tests.relay.conftest import file_case


def test_a_node_and_a_partner_pair_and_relay_by_usb(tmp_path: Path, node: Node) -> None:
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    p_home = tmp_path / "partner"
    penv = {"INTAKE_PARTNER_HOME": str(p_home)}
    nenv = {"INTAKE_HOME": str(node.settings.home), "INTAKE_KDF_PROFILE": TEST_PROFILE}

    made = intake(
        "partner", "init", "--kdf-profile", TEST_PROFILE, "--allow-insecure-kdf", "--passphrase-file", pw, env=penv
    )
    assert made.code == 0, made.both
    partner_key = re.search(r"intake-partner1:\S+", made.out)
    assert partner_key
    shown = intake("partner", "keys", "show", env=penv)
    assert partner_key.group() in shown.out and "Receipt key fingerprint" in shown.out

    node_key = re.search(r"intake-node1:\S+", intake("relay", "key", env=nenv).out)
    assert node_key
    added = intake("partner", "nodes", "add", "north", "--key", node_key.group(), env=penv)
    assert added.code == 0, added.both
    token = added.out.strip().splitlines()[-1]
    assert len(token) >= 40 and token not in intake("partner", "nodes", "list", "--json", env=penv).out
    (tmp_path / "token").write_text(token)

    bad = intake("relay", "partners", "add", "m", "--key", "intake-partner1:nope", "--passphrase-file", pw, env=nenv)
    assert "Not a partner key" in one_line_error(bad)
    ok = intake(
        "relay", "partners", "add", "monitor", "--key", partner_key.group(), "--url", "https://partner.example.org",
        "--token-file", tmp_path / "token", "--passphrase-file", pw, env=nenv,
    )  # fmt: skip
    assert ok.code == 0 and "Encryption key fingerprint" in ok.out, ok.both

    case_id = file_case(node)
    preview = intake("relay", "preview", str(case_id), "--json", "--passphrase-file", pw, env=nenv)
    doc = json.loads(preview.out)
    assert doc["state"] == "to_review" and doc["partners"][0]["partner"] == "monitor"
    assert "+86" not in preview.out and "liwei_1988" not in preview.out
    shown = intake("relay", "preview", str(case_id), "--passphrase-file", pw, env=nenv)
    assert shown.code == 0 and f"Case {case_id}: Waiting for review" in shown.out, shown.both
    stale = intake("relay", "approve", str(case_id), "--hash", "0" * 64, "--passphrase-file", pw, env=nenv)
    assert "changed since it was shown" in one_line_error(stale)
    internal = file_case(node, consent=Consent.INTERNAL)
    refused = intake("relay", "approve", str(internal), "--hash", "0" * 64, "--passphrase-file", pw, env=nenv)
    assert "did not consent" in one_line_error(refused)
    approved = intake(
        "relay", "approve", str(case_id), "--hash", doc["summary_sha256"], "--passphrase-file", pw, env=nenv
    )
    assert approved.code == 0 and "Approved; 1 envelope queued. Send it with" in approved.out, approved.both

    usb = tmp_path / "usb"
    exported = intake("relay", "export", "--to", usb, "--passphrase-file", pw, env=nenv)
    assert exported.code == 0 and len(list(usb.glob("*.envelope"))) == 1, exported.both
    assert f"1 envelope written to {usb}." in exported.out, exported.out
    assert (
        "pending" not in intake("relay", "outbox", "--passphrase-file", pw, env=nenv).out.lower().split("exported")[0]
    )

    taken = intake("partner", "import", usb, env=penv)
    assert taken.code == 0 and "1 envelope taken into the inbox; 0 refused." in taken.out, taken.both
    opened = intake("partner", "open", "--json", "--passphrase-file", pw, env=penv)
    assert opened.code == 0, opened.both
    [outcome] = json.loads(opened.out)
    assert outcome["ok"] and outcome["node"] == "north"
    cases = json.loads(intake("partner", "cases", "list", "--json", "--passphrase-file", pw, env=penv).out)
    assert [c["case_ref"] for c in cases] == [outcome["case_ref"]]
    history = json.loads(
        intake("partner", "cases", "show", outcome["case_ref"], "--json", "--passphrase-file", pw, env=penv).out
    )
    assert history[0]["summary"]["narrative"] == doc["partners"][0]["summary"]["narrative"]
    csv = intake("partner", "report", "--csv", "--passphrase-file", pw, env=penv)
    assert csv.out.startswith("table,row,column,value") and ",<5" in csv.out
    assert {line.split(",")[0] for line in csv.out.splitlines()[1:]} == {
        "factory_by_category", "month_by_category", "factory_by_month"
    }  # fmt: skip
    text = intake("partner", "report", "--passphrase-file", pw, env=penv)
    assert text.code == 0 and "Example Electronics" in text.out, text.both

    # The same stick again: refused as a replay, with the reason, exit 2.
    intake("partner", "import", usb, env=penv)
    again = intake("partner", "open", "--passphrase-file", pw, env=penv)
    assert again.code == 2 and "replayed" in again.err


def test_partner_commands_without_a_home_fail_in_one_line(tmp_path: Path) -> None:
    env = {"INTAKE_PARTNER_HOME": str(tmp_path / "nothing")}
    for args in (("keys", "show"), ("nodes", "list"), ("import", str(tmp_path))):
        result = intake("partner", *args, env=env)
        assert result.code == 1 and "Traceback" not in result.both, result.both
    wrong = tmp_path / "pw"
    wrong.write_text("not the passphrase\n")
    made = intake(
        "partner", "init", "--kdf-profile", TEST_PROFILE, "--allow-insecure-kdf", "--passphrase-file",
        write_pass(tmp_path / "good", PASSPHRASE), env={"INTAKE_PARTNER_HOME": str(tmp_path / "p")},
    )  # fmt: skip
    assert made.code == 0
    result = intake("partner", "open", "--passphrase-file", wrong, env={"INTAKE_PARTNER_HOME": str(tmp_path / "p")})
    assert "Wrong user or passphrase" in one_line_error(result)
    assert (tmp_path / "p" / "unlock-failures").read_text() == "1", "counted: the next try waits, as on a node"
    (tmp_path / "p" / "inbox.key").chmod(0o644)
    exposed = intake("partner", "keys", "show", env={"INTAKE_PARTNER_HOME": str(tmp_path / "p")})
    assert "readable by others" in one_line_error(exposed)
