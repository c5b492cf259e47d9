"""The ``board_questions`` table of inbox.db: questions waiting for a worker on their status board.

Plain SQL on a connection the caller holds (the inbox's, under its lock or in its write transaction;
see :mod:`intake.answers`). What a question is and how it reads is :mod:`intake.questions`'; this
module only stores it. A question is shown once due, until it is answered or withdrawn; an answer
never lands here (it is a sealed item), only the fact that one arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from intake.store.db import Connection

# Confirmations first (oldest first), then the latest retaliation check-in that is due: once the
# 90-day check-in is due, the unanswered 30-day one is moot.
_WAITING = (
    "SELECT id, kind, subject, due_at FROM board_questions "
    "WHERE receipt_hash = ? AND due_at <= ? AND answered_at IS NULL AND withdrawn = 0 "
    "ORDER BY kind = 'confirm' DESC, CASE WHEN kind = 'confirm' THEN due_at ELSE -due_at END, id LIMIT 1"
)


@dataclass(frozen=True)
class BoardQuestion:
    """A question that waits for the worker holding a receipt (no receipt in it)."""

    id: str
    kind: str
    subject: str
    due_at: int


@dataclass(frozen=True)
class PostedQuestion:
    """A question as the desk posts it and pushes it to a remote intake."""

    id: str
    receipt_hash: bytes
    kind: str
    subject: str
    due_at: int
    withdrawn: bool = False
    reporter: bytes | None = None  # the SMS session's keyed hash of the number, while an SMS asks
    reporter_until: int = 0
    locale: str = ""  # the language the SMS asked in


def waiting(conn: Connection, receipt_hash: bytes, now: int) -> BoardQuestion | None:
    """The question due for this receipt now, if any (the query runs for every hash, known or not)."""
    row = conn.execute(_WAITING, (receipt_hash, now)).fetchone()
    return BoardQuestion(str(row[0]), str(row[1]), str(row[2]), int(row[3])) if row else None


def for_reporter(conn: Connection, reporter: bytes, now: int) -> tuple[BoardQuestion, str] | None:
    """A due question sent by SMS to this number that still waits for its reply, with the SMS's language."""
    row = conn.execute(
        "SELECT id, kind, subject, due_at, locale FROM board_questions WHERE reporter = ? "
        "AND reporter_until > ? AND due_at <= ? AND answered_at IS NULL AND withdrawn = 0 "
        "ORDER BY due_at, id LIMIT 1",
        (reporter, now, now),
    ).fetchone()
    if row is None:
        return None
    return BoardQuestion(str(row[0]), str(row[1]), str(row[2]), int(row[3])), str(row[4])


def unlink(conn: Connection, question_id: str) -> int:
    """Stop taking this number's texts as answers to the question (it was asked again and left)."""
    return int(
        conn.execute(
            "UPDATE board_questions SET reporter = NULL, reporter_until = 0 WHERE id = ? AND reporter IS NOT NULL",
            (question_id,),
        ).rowcount
    )


def by_id(conn: Connection, question_id: str) -> tuple[BoardQuestion, bytes, bool] | None:
    """(question, receipt hash, still open) for an id; open = not answered and not withdrawn."""
    row = conn.execute(
        "SELECT id, kind, subject, due_at, receipt_hash, answered_at IS NULL AND withdrawn = 0 "
        "FROM board_questions WHERE id = ?",
        (question_id,),
    ).fetchone()
    if row is None:
        return None
    return BoardQuestion(str(row[0]), str(row[1]), str(row[2]), int(row[3])), bytes(row[4]), bool(row[5])


def mark_answered(conn: Connection, question_id: str, receipt_hash: bytes, now: int) -> bool:
    """Close an open, due question of this receipt; False when there is none (unknown, another
    receipt's, not due, withdrawn or answered already): then nothing may be stored for it."""
    cur = conn.execute(
        "UPDATE board_questions SET answered_at = ?, reporter = NULL, reporter_until = 0 "
        "WHERE id = ? AND receipt_hash = ? AND due_at <= ? AND answered_at IS NULL AND withdrawn = 0",
        (now, question_id, receipt_hash, now),
    )
    return bool(cur.rowcount == 1)


def upsert(conn: Connection, questions: Sequence[PostedQuestion], now: int, rev: int = 0) -> int:
    """Store questions (new, or withdrawn since); an answered one stays answered. Returns rows changed."""
    changed = 0
    for q in questions:
        changed += conn.execute(
            "INSERT INTO board_questions (id, receipt_hash, kind, subject, due_at, created_at, withdrawn, "
            "reporter, reporter_until, locale, push_rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET withdrawn = max(board_questions.withdrawn, excluded.withdrawn), "
            "reporter = CASE WHEN excluded.withdrawn THEN NULL ELSE board_questions.reporter END, "
            "push_rev = max(board_questions.push_rev, excluded.push_rev) "
            "WHERE excluded.withdrawn > board_questions.withdrawn OR excluded.push_rev > board_questions.push_rev",
            (q.id, q.receipt_hash, q.kind, q.subject, q.due_at, now, int(q.withdrawn), q.reporter,
             q.reporter_until if q.reporter else 0, q.locale[:16], rev),
        ).rowcount  # fmt: skip
    return changed


def withdraw(conn: Connection, question_ids: Sequence[str], rev: int = 0) -> int:
    n = 0
    for qid in question_ids:
        n += conn.execute(
            "UPDATE board_questions SET withdrawn = 1, reporter = NULL, push_rev = max(push_rev, ?) "
            "WHERE id = ? AND withdrawn = 0",
            (rev, qid),
        ).rowcount
    return n


def next_rev(conn: Connection, pushed: int) -> int:
    """The next push revision of a question change: above every one stored and above ``pushed``."""
    row = conn.execute("SELECT coalesce(max(push_rev), 0) FROM board_questions").fetchone()
    return max(int(row[0]), pushed) + 1


def unpushed(conn: Connection, after: int, limit: int) -> list[tuple[int, PostedQuestion]]:
    rows = conn.execute(
        "SELECT push_rev, id, receipt_hash, kind, subject, due_at, withdrawn, reporter, reporter_until, locale "
        "FROM board_questions WHERE push_rev > ? ORDER BY push_rev LIMIT ?",
        (after, limit),
    ).fetchall()
    return [
        (int(r), PostedQuestion(str(i), bytes(h), str(k), str(s), int(d), bool(w), bytes(p) if p else None, int(u),
                                str(lo)))
        for r, i, h, k, s, d, w, p, u, lo in rows
    ]  # fmt: skip


def forget_reporters(conn: Connection, now: int) -> int:
    """Unlink the numbers of SMS questions whose reply window has passed."""
    return int(
        conn.execute(
            "UPDATE board_questions SET reporter = NULL, reporter_until = 0 "
            "WHERE reporter IS NOT NULL AND reporter_until <= ?",
            (now,),
        ).rowcount
    )


__all__ = ["BoardQuestion", "PostedQuestion", "by_id", "for_reporter", "mark_answered", "upsert", "waiting"]
