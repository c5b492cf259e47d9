"""The partner answers, as operators run it (subprocesses): `intake partner message REF --text-file F`,
the node's next `intake relay push` takes it, `intake cases show ID --json` lists it under
`partner_messages`; and the USB way, `intake partner export` then `intake relay import`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import PASSPHRASE, TEST_PROFILE, make_node
from tests.intake.cli.test_cli import Result, intake, one_line_error, write_pass
from tests.relay.conftest import LiveInbox, Partner
from tests.relay.test_partner_messages import relayed_case

QUESTION = "Did the brand answer our letter about the unpaid overtime?"


def test_partner_message_reaches_the_node_by_push_and_by_usb(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox
) -> None:
    node = make_node(tmp_path / "north")
    relay, case_id, ref = relayed_case(node, partner, live_inbox.url)
    relay.store.close()
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    penv = {"INTAKE_PARTNER_HOME": str(partner.home.home)}
    nenv = {"INTAKE_HOME": str(node.settings.home), "INTAKE_KDF_PROFILE": TEST_PROFILE}
    text = tmp_path / "question.txt"
    text.write_text(QUESTION + "\n", "utf-8")

    def message(*args: str | Path) -> Result:
        return intake("partner", "message", *args, "--passphrase-file", pw, env=penv)

    assert "No case" in one_line_error(message("zzzzzzzzzzzzzzzz", "--text-file", text))
    (tmp_path / "empty.txt").write_text("  \n", "utf-8")
    assert "empty" in one_line_error(message(ref, "--text-file", tmp_path / "empty.txt"))
    (tmp_path / "long.txt").write_text("x" * 4001, "utf-8")
    assert "4001 characters" in one_line_error(message(ref, "--text-file", tmp_path / "long.txt"))
    (tmp_path / "latin1.txt").write_bytes("Pr\xe9sident".encode("latin-1"))
    assert "UTF-8" in one_line_error(message(ref, "--text-file", tmp_path / "latin1.txt"))
    assert "Unknown kind" in one_line_error(message(ref, "--text-file", text, "--kind", "gossip"))
    assert "Cannot read" in one_line_error(message(ref, "--text-file", tmp_path / "missing.txt"))

    queued = message(ref, "--text-file", text, "--kind", "question")
    assert queued.code == 0 and "Message queued for north (#1)" in queued.out, queued.both

    pushed = intake("relay", "push", "--passphrase-file", pw, env=nenv)
    assert pushed.code == 0, pushed.both
    assert "Partner messages: 1 new, 0 already here, 0 refused." in pushed.out, pushed.out
    assert QUESTION not in pushed.both, "the push tells counts, not the text"
    shown = intake("cases", "show", str(case_id), "--json", "--passphrase-file", pw, env=nenv)
    [got] = json.loads(shown.out)["partner_messages"]
    assert {k: got[k] for k in ("kind", "partner", "text")} == {
        "kind": "question",
        "partner": "monitor",
        "text": QUESTION,
    }
    assert got["created_at"].endswith("Z") and got["received_at"].endswith("Z")
    human = intake("cases", "show", str(case_id), "--passphrase-file", pw, env=nenv)
    assert "Messages from partners" in human.out and QUESTION in human.out

    usb = tmp_path / "usb"
    second = message(ref, "--text-file", text, "--kind", "escalation_decision")
    assert second.code == 0, second.both
    exported = intake("partner", "export", "--to", usb, env=penv)
    assert exported.code == 0 and f"1 message written to {usb}." in exported.out, exported.both
    imported = intake("relay", "import", usb, "--passphrase-file", pw, env=nenv)
    assert imported.code == 0 and "Partner messages: 1 new, 0 already here, 0 refused." in imported.out, imported.both
    again = intake("relay", "import", usb, "--passphrase-file", pw, env=nenv)
    assert "0 new, 1 already here, 0 refused." in again.out, again.both
    kinds = [m["kind"] for m in json.loads(
        intake("cases", "show", str(case_id), "--json", "--passphrase-file", pw, env=nenv).out)["partner_messages"]]  # fmt: skip
    assert kinds == ["question", "escalation_decision"]

    (usb / "garbage.message").write_bytes(b"grievance-intake/message/v1\nnot really")
    refused = intake("relay", "import", usb, "--passphrase-file", pw, env=nenv)
    assert refused.code == 2 and "garbage.message: message refused: malformed" in refused.err, refused.both
    assert "Traceback" not in refused.both

    sent = json.loads(intake("partner", "messages", "--json", "--passphrase-file", pw, env=penv).out)
    assert [(m["kind"], m["outcome"]) for m in sent] == [("question", "stored"), ("escalation_decision", None)]
    assert sent[1]["exported_at"], "exported; a USB stick brings no word back"
    assert "not a folder" in one_line_error(intake("relay", "import", text, "--passphrase-file", pw, env=nenv))
