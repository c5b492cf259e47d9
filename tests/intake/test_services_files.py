"""Files sealed with their item (intake/services.py, inbox migration 7): all or nothing, never clear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto import CannotOpen, open_item
from crypto.stream import open_stream_bytes
from intake.domain import Channel, FollowUp, Report
from intake.errors import StoreUnavailable
from intake.evidence import Evidence
from intake.services import IntakeService, accept_followup, accept_media, accept_report, file_label
from intake.store.inbox import SealedFile
from tests.conftest import Node, make_node

MARK = b"FILE-CONTENT-MARKER-7f3a"


def _files() -> list[Evidence]:
    return [
        Evidence("image/jpeg", b"\xff\xd8" + MARK * 100 + b"\xff\xd9"),
        Evidence("application/pdf", b"%PDF-1.4 " + MARK * 40000 + b"\n%%EOF", warning="metadata", original=b"orig"),
    ]


def _open_doc(node: Node, blob: bytes) -> dict:  # type: ignore[type-arg]
    return json.loads(open_item(blob, node.keys.identity))


def test_a_report_with_files_stores_one_item_and_its_sealed_streams(node: Node, service: IntakeService) -> None:
    files = _files()
    accept_report(service, Report(channel=Channel.WEB, locale="en", description="wages late"), files=files)
    [(_seq, item_id, blob)] = service.inbox.items()
    doc = _open_doc(node, blob)
    assert doc["attachments"] == [
        {"n": 1, "type": "image/jpeg", "bytes": len(files[0].data), "warning": None, "original": False},
        {"n": 2, "type": "application/pdf", "bytes": len(files[1].data), "warning": "metadata", "original": False},
    ]
    streams = service.inbox.files(item_id)
    assert sorted(streams) == [1, 2]  # keep_originals is off: the original is not kept
    for n, f in enumerate(files, start=1):
        assert open_stream_bytes(streams[n], node.keys.identity, label=file_label(item_id, n)) == f.data
    with pytest.raises(CannotOpen):  # bound to its place
        open_stream_bytes(streams[1], node.keys.identity, label=file_label(item_id, 2))
    raw = b"".join(p.read_bytes() for p in node.home.rglob("*") if p.is_file())
    assert MARK not in raw and b"wages late" not in raw
    service.inbox.delete([item_id])
    assert service.inbox.files(item_id) == {}


def test_originals_are_sealed_only_when_the_setting_says_so(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n", keep_originals=1)
    svc = IntakeService.open(node.settings)
    try:
        accept_report(svc, Report(channel=Channel.WEB, locale="en"), files=_files())
        [(_seq, item_id, blob)] = svc.inbox.items()
        assert [a["original"] for a in _open_doc(node, blob)["attachments"]] == [False, True]
        streams = svc.inbox.files(item_id)
        assert sorted(streams) == [-2, 1, 2]
        assert open_stream_bytes(streams[-2], node.keys.identity, label=file_label(item_id, -2)) == b"orig"
    finally:
        svc.close()


def test_files_alone_make_a_report_and_a_followup_carries_files(node: Node, service: IntakeService) -> None:
    receipt = accept_report(service, Report(channel=Channel.WEB, locale="en"), files=_files()[:1])
    accept_followup(service, receipt, FollowUp(channel=Channel.WEB, text="another"), files=_files()[1:])
    items = service.inbox.items()
    assert len(items) == 2
    follow_id, follow_blob = items[1][1], items[1][2]
    assert _open_doc(node, follow_blob)["attachments"][0]["type"] == "application/pdf"
    assert sorted(service.inbox.files(follow_id)) == [1]


def test_media_is_stored_once_per_message(node: Node, service: IntakeService) -> None:
    key = b"k" * 32
    assert accept_media(service, "MM" + "1" * 32, key, _files()[:1])
    assert not accept_media(service, "MM" + "1" * 32, key, _files()[:1])  # Twilio retried
    assert accept_media(service, "MM" + "2" * 32, b"j" * 32, None, "download failed")
    docs = [_open_doc(node, b) for _s, _i, b in service.inbox.items()]
    assert [d["kind"] for d in docs] == ["media", "media"]
    assert docs[0]["media_sid"] == "MM" + "1" * 32 and docs[1]["missing"] == "download failed"
    assert sorted(service.inbox.files(service.inbox.items()[0][1])) == [1]


def test_a_failed_write_stores_neither_the_item_nor_its_files(node: Node, service: IntakeService) -> None:
    bad = [SealedFile(1, [b"h", b"c"]), SealedFile(1, [b"h", b"c"])]  # the same (item, n, seq) twice
    with pytest.raises(StoreUnavailable):
        service.inbox.put("x" * 32, b"blob", files=bad)
    assert service.inbox.items() == []
    assert service.inbox.files("x" * 32) == {}
