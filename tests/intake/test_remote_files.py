"""A paired desk drains evidence files through the pull API (issue 16): sealed in transit, paged,
deleted at the intake only with their item once the desk has committed them.

The real two-node setup of tests/intake/test_remote.py: the intake app under uvicorn on loopback,
a laptop node restored from its backup, real HTTP between them.
"""

from __future__ import annotations

import hashlib

from crypto.stream import CHUNK
from intake.domain import Channel, Report
from intake.drain import drain
from intake.evidence import Evidence
from intake.node import open_cases, unlock
from intake.pull import FILE_CHUNKS, new_token
from intake.remote import RemoteInbox
from intake.services import accept_media, accept_report
from intake.settings import Settings
from tests.conftest import PASSPHRASE, USER
from tests.intake.test_remote import Served, intake, paired  # noqa: F401 - the fixtures

MARK = b"REMOTE-FILE-MARKER-9d02"
BIG = MARK + bytes(range(256)) * (FILE_CHUNKS * CHUNK // 256 + 4000)  # a few pages of chunks
SMALL = b"\xff\xd8" + MARK * 30 + b"\xff\xd9"


def test_a_paired_laptop_drains_files_of_several_pages_and_only_then_the_intake_deletes(
    paired: tuple[Served, Settings],  # noqa: F811
) -> None:
    served, laptop = paired
    service = served.service
    accept_report(service, Report(channel=Channel.WEB, description="synthetic remote"),
                  files=[Evidence("application/pdf", BIG, warning="metadata"), Evidence("image/jpeg", SMALL)])  # fmt: skip
    accept_report(service, Report(channel=Channel.WEB, description="synthetic without files"))
    accept_media(service, "MM" + "c3" * 16, b"k" * 32, [Evidence("image/jpeg", SMALL)])
    keys = unlock(laptop, USER, PASSPHRASE)
    remote = RemoteInbox(laptop.desk_remote_url, laptop.desk_remote_token)
    cases = open_cases(laptop, keys)
    try:
        result = drain(remote, cases, keys)
        assert (result.cases, result.media, result.files, result.unreadable) == (2, 1, 3, 0)
        with_files = next(c.id for c in cases.list_cases() if c.description == "synthetic remote")
        stored = [cases.attachment(with_files, i.n) for i in cases.attachments(with_files)]
        assert [(s[0].type, s[1], s[0].sha256) for s in stored if s] == [
            ("application/pdf", BIG, hashlib.sha256(BIG).hexdigest()),
            ("image/jpeg", SMALL, hashlib.sha256(SMALL).hexdigest()),
        ]
    finally:
        cases.close()
        remote.close()
    assert service.inbox.count() == 0
    with service.inbox._lock:  # acked: the sealed chunks went with their items
        assert service.inbox._conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 0


def test_file_pages_are_bounded_sealed_and_need_the_token(intake) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _node, service, client = intake
    accept_report(service, Report(channel=Channel.WEB), files=[Evidence("application/pdf", BIG)])
    [(_seq, item_id, _blob)] = service.inbox.items()
    auth = {"Authorization": f"Bearer {new_token(service.inbox)}"}
    listed = client.get("/desk/v1/items", headers=auth).json()["items"]
    assert set(listed[0]) == {"seq", "id", "blob"}, "the item listing keeps its shape"
    first = client.get(f"/desk/v1/items/{item_id}/files", headers=auth)
    assert first.status_code == 200 and first.json()["more"] is True
    assert len(first.json()["chunks"]) == FILE_CHUNKS and len(first.content) < 6 * 1024 * 1024
    assert MARK not in first.content and MARK.hex().encode() not in first.content
    assert client.get(f"/desk/v1/items/{item_id}/files").status_code == 401
    assert client.get(f"/desk/v1/items/{item_id}/files", headers={"Authorization": "Bearer dsk_no"}).status_code == 401
    for bad in ("nothex", "A" * 32, "0" * 33):
        assert client.get(f"/desk/v1/items/{bad}/files", headers=auth).status_code == 400
    assert client.get(f"/desk/v1/items/{item_id}/files", params={"n": "x"}, headers=auth).status_code == 400
    assert client.get(f"/desk/v1/items/{item_id}/files", params={"seq": 2**40}, headers=auth).status_code == 400
    none = client.get(f"/desk/v1/items/{'0' * 32}/files", headers=auth)
    assert none.status_code == 200 and none.json() == {"chunks": [], "more": False}
    remote = RemoteInbox("http://testserver", auth["Authorization"][7:], client=client)
    streams = remote.files(item_id)
    assert streams == service.inbox.files(item_id)
    assert service.inbox.count() == 1, "reading files deletes nothing"
