"""A desk draining an intake on another host: the inbox's read-and-delete surface over HTTPS.

:class:`RemoteInbox` offers what :func:`intake.drain.drain` needs (``items``, ``files`` and ``delete``),
so the drain's guarantee holds across hosts: an item is acknowledged (deleted at the intake) only
after its case is committed here.

The other way, :func:`push_desk_changes` carries back what the desk did for the workers: status
changes and replies for their status page, and SMS replies for the intake to send. The desk writes
them into its own ``inbox.db`` first (offline-first: nothing is lost while the link is down), and
each push is forgotten here only after the intake has committed it; the intake dedupes replies and
SMS by a stable id, so a push retried after a lost answer stores nothing twice.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from crypto.files import exclusive_lock
from intake.answers import questions_pushed, unpushed_questions
from intake.errors import IntakeError, RemoteUnavailable
from intake.node import open_inbox
from intake.settings import Settings
from intake.store.inbox import Inbox

log = logging.getLogger("intake.remote")
PUSH_ROWS = 100  # per push, and the intake's limit (channels/remote.py)
PUSH_BYTES = 32 * 1024  # per push, well under the intake's max_request_bytes (64 KiB by default)
PUSH_LOCK = "desk-push.lock"  # the desk and an `intake drain` next to it push one at a time


class RemoteInbox:
    def __init__(self, url: str, token: str, *, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self._client = client or httpx.Client(timeout=30)
        self._headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            headers = {**self._headers, **kwargs.pop("headers", {})}
            resp = self._client.request(method, self.url + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteUnavailable(f"intake unreachable ({type(exc).__name__})") from None
        if resp.status_code != 200:
            raise RemoteUnavailable(f"intake answered HTTP {resp.status_code}")
        try:
            return resp.json()
        except ValueError:
            raise RemoteUnavailable("intake answered without JSON") from None

    def items(self, limit: int = 200, after_seq: int = 0) -> list[tuple[int, str, bytes]]:
        data = self._call("GET", "/desk/v1/items", params={"after": after_seq, "limit": min(limit, 200)})
        return [(int(i["seq"]), str(i["id"]), base64.b64decode(i["blob"])) for i in data["items"]]

    def files(self, item_id: str) -> dict[int, list[bytes]]:
        """An item's sealed streams ``{n: [header, chunk1, ...]}``, fetched a page at a time."""
        out: dict[int, list[bytes]] = {}
        params: dict[str, int] = {}
        while True:
            data = self._call("GET", f"/desk/v1/items/{item_id}/files", params=params)
            chunks = data["chunks"]
            for n, seq, encoded in chunks:
                stream = out.setdefault(int(n), [])
                if int(seq) != len(stream):  # a page lost or repeated: let the drain leave the item
                    raise RemoteUnavailable("intake answered files out of order")
                stream.append(base64.b64decode(encoded))
            if not data.get("more") or not chunks:
                return out
            params = {"n": int(chunks[-1][0]), "seq": int(chunks[-1][1])}

    def delete(self, item_ids: list[str]) -> None:
        for start in range(0, len(item_ids), 200):
            self._call("POST", "/desk/v1/items/ack", json={"ids": item_ids[start : start + 200]})

    def push(self, path: str, body: dict[str, Any]) -> Any:
        """POST one push (``/desk/v1/board`` or ``/desk/v1/outbox``); its answer once committed there."""
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return self._call("POST", path, content=data, headers={"Content-Type": "application/json"})

    def close(self) -> None:
        self._client.close()


def item_source(settings: Settings) -> RemoteInbox | Inbox:
    """The remote intake when this desk is paired with one, else the local inbox. Close it after."""
    if settings.desk_remote_url:
        return RemoteInbox(settings.desk_remote_url, settings.desk_remote_token)
    return open_inbox(settings)


@dataclass
class Pushed:
    """What one push carried to the intake (counts only; contents are never logged)."""

    statuses: int = 0
    replies: int = 0
    sms: int = 0
    questions: int = 0  # status-board questions for the workers, and their withdrawals (issue 15)


def push_desk_changes(settings: Settings, remote: RemoteInbox) -> Pushed:
    """Push to the intake every status change, reply and SMS reply this desk made since the last push.

    Raises :class:`RemoteUnavailable` when the intake cannot be reached or refuses a push; what it
    has not committed stays queued here for the next drain. Batches stay under ``PUSH_BYTES``.
    """
    pushed = Pushed()
    with exclusive_lock(settings.home / PUSH_LOCK):
        inbox = open_inbox(settings)
        try:
            while rows := inbox.unpushed_board(PUSH_ROWS):
                statuses: list[dict[str, Any]] = []
                messages: list[dict[str, Any]] = []
                size = last = 0
                for rev, receipt_hash, value, uid, at in rows:
                    entry: dict[str, Any] = {"receipt_hash": receipt_hash.hex()}
                    entry.update({"status": value} if uid is None else {"id": uid, "at": at, "text": value})
                    size += len(json.dumps(entry, ensure_ascii=False).encode()) + 1
                    if last and size > PUSH_BYTES:
                        break
                    (statuses if uid is None else messages).append(entry)
                    last = rev
                remote.push("/desk/v1/board", {"statuses": statuses, "messages": messages})
                inbox.board_pushed(last)
                pushed.statuses += len(statuses)
                pushed.replies += len(messages)
            # before the SMS: a worker's reply to a question texted to them must find it there
            pushed.questions += push_questions(inbox, remote)
            while rows_sms := inbox.unpushed_outbox(PUSH_ROWS):
                sms: list[dict[str, Any]] = []
                size = 0
                for _id, uid, provider, recipient, body in rows_sms:
                    one = {"id": uid, "provider": provider, "recipient": _b64(recipient), "body": _b64(body)}
                    size += len(json.dumps(one).encode()) + 1
                    if sms and size > PUSH_BYTES:
                        break
                    sms.append(one)
                answer = remote.push("/desk/v1/outbox", {"sms": sms})
                taken = set(answer.get("taken") or []) if isinstance(answer, dict) else set()
                done = [row[0] for row in rows_sms[: len(sms)] if row[1] in taken]
                if not done:  # never loop on a push the intake answers without taking anything
                    raise RemoteUnavailable("the intake took none of the queued SMS replies")
                inbox.outbox_done(done)  # deleted here only now that the intake holds them
                pushed.sms += len(done)
        finally:
            inbox.close()
    if pushed.statuses or pushed.replies or pushed.sms or pushed.questions:
        log.info(
            "desk push: statuses=%d replies=%d sms=%d questions=%d",
            pushed.statuses, pushed.replies, pushed.sms, pushed.questions,
        )  # fmt: skip
    return pushed


def push_quietly(settings: Settings, source: RemoteInbox | Inbox) -> Pushed | None:
    """:func:`push_desk_changes` when ``source`` is a remote intake; a failure is logged (no contents)
    and left for the next drain, so it never stops the drain itself."""
    if not isinstance(source, RemoteInbox):
        return None
    try:
        return push_desk_changes(settings, source)
    except IntakeError as exc:
        log.warning("desk push failed (%s); the replies wait here for the next drain", exc.detail or exc.code)
        return None


def push_questions(inbox: Inbox, remote: RemoteInbox) -> int:
    """Push the questions (and withdrawals) this desk put on status boards since the last push."""
    done = 0
    while rows := unpushed_questions(inbox, PUSH_ROWS):
        body = [
            {"id": q.id, "receipt_hash": q.receipt_hash.hex(), "kind": q.kind, "subject": q.subject,
             "due_at": q.due_at, "withdrawn": q.withdrawn, "reporter": q.reporter.hex() if q.reporter else None,
             "reporter_until": q.reporter_until, "locale": q.locale}
            for _rev, q in rows
        ]  # fmt: skip
        remote.push("/desk/v1/questions", {"questions": body})
        questions_pushed(inbox, rows[-1][0])
        done += len(rows)
    return done


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
