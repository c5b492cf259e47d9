"""The worker's answers to the questions on their status board, on the intake's side (issue 15).

:func:`accept_answer` is the one way an answer comes in (web form, JSON API, SMS): it is sealed to
the node's key like a report (:mod:`intake.services`) and stored as an inbox item in the same
transaction that closes the question, so a question takes one answer and a second one stores
nothing. The desk drains it into the case (:mod:`intake.store.answers`).

No oracle: an unknown receipt, another receipt's question, an unknown, withdrawn or answered
question and an answer out of range get the same result as a good answer, after the same work (the
receipt's slow hash, the lookup, the sealing and one durable commit), and store nothing.

The desk's half is here too: posting and withdrawing questions in the inbox (pushed to an intake on
another host like status changes, intake/remote.py) and taking them on that intake.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import Any

from intake import clock
from intake.domain import Channel, FollowUp, ReceiptCode, ReceiptHash
from intake.questions import meaning
from intake.services import IntakeService, _seal, check_receipt
from intake.store import board_questions as bq
from intake.store.board_questions import BoardQuestion, PostedQuestion
from intake.store.db import Connection
from intake.store.inbox import Inbox, arrival_day

log = logging.getLogger("intake.answers")

MAX_QUESTION_ID = 64
PUSHED_QUESTIONS = "desk_pushed_question_rev"  # meta: the last question revision a remote intake took
SEEN_META = "answers_seen_at"  # meta: rewritten by every answer, good or not (one commit each; see above)
SMS_REPLY_DAYS = 7  # how long a question sent by SMS is linked to the number it went to


def accept_answer(
    service: IntakeService, receipt: ReceiptCode, question_id: Any, answer: Any, channel: Channel, locale: str
) -> bool:
    """Seal and store a worker's answer if it answers an open question of this receipt; True if stored.

    A code failing its check digit raises :class:`~intake.errors.ReceiptMistyped` first (decided
    from the code alone). Anything else answers alike: callers must not tell the worker which.
    """
    check_receipt(service, receipt)
    return accept_answer_to(service, service.receipts.hash(receipt), question_id, answer, channel, locale)


def accept_answer_to(
    service: IntakeService, receipt_hash: ReceiptHash, question_id: Any, answer: Any, channel: Channel, locale: str
) -> bool:
    """:func:`accept_answer` for a receipt already hashed (an SMS question linked to the number)."""
    qid = question_id if isinstance(question_id, str) and 0 < len(question_id) <= MAX_QUESTION_ID else ""
    inbox = service.inbox
    with inbox._lock:
        found = bq.by_id(inbox._conn, qid) if qid else None
    kind = found[0].kind if found is not None else ""
    good = found is not None and found[1] == bytes(receipt_hash) and found[2] and meaning(kind, answer) is not None
    doc = {
        "kind": "answer",
        "receipt_hash": bytes(receipt_hash).hex(),
        "question": qid,
        "question_kind": kind,
        "answer": answer if good else 0,
        "channel": channel.value,
        "locale": locale,
        "received_at": clock.now_s().isoformat(),
    }
    # sealed before it touches disk, like a report (docs/threat-model.md#seizure); sealed whether or
    # not it is kept, so a bad answer costs what a good one does
    item_id, blob = _seal(service, doc)
    stored = False

    def write(conn: Connection) -> None:
        nonlocal stored
        now = int(clock.time())
        stored = False
        if good and bq.mark_answered(conn, qid, bytes(receipt_hash), now):
            conn.execute("INSERT INTO items (id, blob, received_at) VALUES (?, ?, ?)", (item_id, blob, arrival_day()))
            stored = True
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (SEEN_META, str(now)),
        )

    inbox._grouped(write)
    log.info("answer received channel=%s", channel.value)  # never which question, what, or whether kept
    return stored


def sms_question(inbox: Inbox, reporter: bytes) -> tuple[BoardQuestion, str] | None:
    """A question sent by SMS to the number with this session hash, still waiting for its reply, and
    the language it was asked in."""
    with inbox._lock:
        return bq.for_reporter(inbox._conn, reporter, int(clock.time()))


def question_receipt(inbox: Inbox, question_id: str) -> ReceiptHash | None:
    """The receipt hash a question is for (the SMS engine keeps only the question's id)."""
    with inbox._lock:
        found = bq.by_id(inbox._conn, question_id)
    return ReceiptHash(found[1]) if found is not None else None


def board_question(inbox: Inbox, question_id: str) -> tuple[BoardQuestion, ReceiptHash, bool] | None:
    """(question, receipt hash, still open) for an id (the call-back keeps only the id, in its token)."""
    with inbox._lock:
        found = bq.by_id(inbox._conn, question_id)
    return (found[0], ReceiptHash(found[1]), found[2]) if found is not None else None


def unlink_sms(inbox: Inbox, question_id: str) -> None:
    """The worker was asked twice by SMS and did not choose: stop reading their texts as answers."""
    with inbox._write() as conn:
        bq.unlink(conn, question_id)


def seal_followup_to(
    service: IntakeService,
    receipt_hash: ReceiptHash,
    text: str,
    channel: Channel,
    locale: str,
    parts: Sequence[bytes] = (),
) -> tuple[str, bytes]:
    """Seal words a worker sent while a question was asked as a follow-up to that case (nothing they
    write is dropped); the caller stores the item. Raises ValidationError for text no follow-up takes.
    ``parts``: sealed conversation parts that go with it (an MMS/WhatsApp message's media link)."""
    followup = FollowUp(channel=channel, locale=locale, text=text)
    doc: dict[str, Any] = {
        "kind": "followup", "receipt_hash": bytes(receipt_hash).hex(), "followup": followup.model_dump(mode="json")
    }  # fmt: skip
    if parts:
        doc["parts"] = [base64.b64encode(p).decode("ascii") for p in parts]
    return _seal(service, doc)


def forget_sms_links(inbox: Inbox) -> int:
    """Unlink numbers from SMS questions whose reply window has passed (the SMS sweep calls this)."""
    with inbox._write() as conn:
        return bq.forget_reporters(conn, int(clock.time()))


# -- the desk's side ----------------------------------------------------------------------------------
def post_questions(inbox: Inbox, questions: Sequence[PostedQuestion], *, push: bool = False) -> None:
    """Put questions on the status board. ``push``: this desk is paired with a remote intake, which
    gets them at the next push (:func:`unpushed_questions`)."""
    if not questions:
        return
    with inbox._write() as conn:
        rev = bq.next_rev(conn, _pushed(conn)) if push else 0
        bq.upsert(conn, questions, int(clock.time()), rev)


def withdraw_questions(inbox: Inbox, question_ids: Sequence[str], *, push: bool = False) -> None:
    """Take questions off the board (the case was reopened, the step undone, a newer one asked)."""
    if not question_ids:
        return
    with inbox._write() as conn:
        rev = bq.next_rev(conn, _pushed(conn)) if push else 0
        bq.withdraw(conn, question_ids, rev)


def unpushed_questions(inbox: Inbox, limit: int = 100) -> list[tuple[int, PostedQuestion]]:
    with inbox._lock:
        return bq.unpushed(inbox._conn, _pushed(inbox._conn), limit)


def questions_pushed(inbox: Inbox, rev: int) -> None:
    """The remote intake committed every question change up to ``rev``."""
    with inbox._write() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
            "value = CAST(max(CAST(meta.value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
            (PUSHED_QUESTIONS, str(int(rev))),
        )


PushedRow = tuple[str, bytes, str, str, int, bool, bytes | None, int, str]


def take_pushed_questions(service: IntakeService, rows: Sequence[PushedRow]) -> int:
    """On the intake: store the questions a paired desk pushed, ``(id, receipt hash, kind, subject,
    due_at, withdrawn, reporter, reporter_until, locale)``; returns how many rows changed. A question
    pushed again changes nothing; a withdrawal is kept; an answered one stays answered."""
    with service.inbox._write() as conn:
        return bq.upsert(conn, [PostedQuestion(*row) for row in rows], int(clock.time()))


def _pushed(conn: Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (PUSHED_QUESTIONS,)).fetchone()
    return int(row[0]) if row else 0


__all__ = [
    "SMS_REPLY_DAYS",
    "accept_answer",
    "accept_answer_to",
    "board_question",
    "forget_sms_links",
    "post_questions",
    "question_receipt",
    "questions_pushed",
    "seal_followup_to",
    "sms_question",
    "take_pushed_questions",
    "unlink_sms",
    "unpushed_questions",
    "withdraw_questions",
]
