"""``intake voice retry`` and ``intake voice pull``, as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from channels.voice.recordings import RecordingFetcher
from intake.node import open_cases
from intake.services import IntakeService
from tests.channels.voice.conftest import MP3, SID, FakeMedia
from tests.conftest import PASSPHRASE, Node, drain_node, make_node

RECORDING = "RE" + "b" * 32


def node_with_settings(tmp_path: Path, media: FakeMedia) -> Node:
    node = make_node(
        tmp_path / "node", twilio_account_sid=SID, twilio_auth_token="synthetic", twilio_api_base=media.base
    )
    (node.home / "settings.toml").write_text(
        f'twilio_api_base = "{media.base}"\nrate_limit_per_minute = 0\n', encoding="utf-8"
    )
    return node


def intake(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    env.update(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="synthetic", INTAKE_PASSPHRASE=PASSPHRASE, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", "--home", str(node.home), *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60, check=False,
    )  # fmt: skip


def test_voice_retry_recovers_a_missing_recording(tmp_path: Path, media: FakeMedia) -> None:
    node = node_with_settings(tmp_path, media)
    service = IntakeService.open(node.settings)
    fetcher = RecordingFetcher(service, delays=(0.0,))
    try:
        url = f"{media.base}/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}"
        assert fetcher.process(RECORDING, url) == "missing"  # Twilio: 404, twice
    finally:
        fetcher.close()
        service.close()
    drain_node(node)
    media.audio[RECORDING] = (200, MP3, "audio/mpeg")
    out = intake(node, "voice", "retry")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Recordings recovered: 1; still missing: 0." in out.stdout
    assert media.deleted == [RECORDING]
    store = open_cases(node.settings, node.keys)
    try:
        assert store.missing_recordings() == []
    finally:
        store.close()


def test_voice_retry_reports_what_is_still_missing(tmp_path: Path, media: FakeMedia) -> None:
    node = node_with_settings(tmp_path, media)
    service = IntakeService.open(node.settings)
    fetcher = RecordingFetcher(service, delays=())
    try:
        fetcher.process(RECORDING, f"{media.base}/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}")
    finally:
        fetcher.close()
        service.close()
    drain_node(node)
    out = intake(node, "voice", "retry")
    assert out.returncode == 2 and "still missing: 1" in out.stdout
    assert media.deleted == []


def test_voice_export_refuses_a_case_without_audio(tmp_path: Path, media: FakeMedia) -> None:
    node = node_with_settings(tmp_path, media)
    out = intake(node, "voice", "export", "1")
    assert out.returncode == 1 and "has no recording" in out.stderr and "Traceback" not in out.stderr


def test_voice_pull_takes_recordings_in_and_deletes_the_call_records(tmp_path: Path, media: FakeMedia) -> None:
    node = node_with_settings(tmp_path, media)
    (node.home / "settings.toml").write_text(
        f'twilio_api_base = "{media.base}"\ntwilio_number = "+15550001111"\nrate_limit_per_minute = 0\n',
        encoding="utf-8",
    )
    taken, broken = "RE" + "1" * 32, "RE" + "2" * 32
    media.audio[taken] = (200, MP3, "audio/mpeg")
    media.audio[broken] = (200, b"<html>not audio</html>", "text/html")  # refused: it stays at Twilio
    media.listed = {taken: "CA" + "1" * 32, broken: "CA" + "2" * 32}
    media.calls = {
        "CA" + "1" * 32: "completed",  # its recording is taken in: the record goes
        "CA" + "2" * 32: "completed",  # its recording is still needed: kept
        "CA" + "3" * 32: "in-progress",  # not over: kept
        "CA" + "4" * 32: "no-answer",  # over, but Twilio is not done with it (20009): kept, next time
        "CA" + "5" * 32: "busy",  # over, no recording: goes
    }
    media.undeletable_calls = {"CA" + "4" * 32}
    out = intake(node, "voice", "pull", "--keep-calls")
    assert out.returncode == 0, out.stdout + out.stderr
    assert media.deleted == [taken] and media.deleted_calls == []
    out = intake(node, "voice", "pull")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Call records deleted at Twilio: 2; kept for now: 2." in out.stdout
    assert sorted(media.deleted_calls) == ["CA" + "1" * 32, "CA" + "5" * 32]
    assert all("To=%2B15550001111" in path for _m, path, _a in media.requests if "/Calls.json" in path), "ours only"
    assert "CA" + "1" * 32 not in out.stdout + out.stderr, "no call ids (nor numbers) in the output"
