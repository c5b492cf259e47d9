"""The inbox: sealed items and the worker-visible status board, written by the always-on intake.

The intake never holds the passphrase, so everything it writes about a report is either sealed
(the item) or deliberately public to the worker holding the receipt (the status board). The file
is SQLCipher-keyed from ``intake.key`` as defence in depth; the sealed box is the real protection.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from intake import clock
from intake.domain import BoardStatus, ReceiptHash
from intake.store.board_questions import BoardQuestion, waiting
from intake.store.db import Connection
from intake.store.group_commit import GroupCommitStore
from intake.store.schema import INBOX_MIGRATIONS

PUSHED_REV = "desk_pushed_rev"  # meta: the last board revision the remote intake has committed


@dataclass(frozen=True)
class BoardEntry:
    status: BoardStatus
    messages: list[tuple[int, str]]  # (unix time, text)
    question: BoardQuestion | None = None  # one due for the worker now (issue 15; intake/questions.py)


class Inbox(GroupCommitStore):
    """Thread-safe access to ``inbox.db``: one connection, one lock, and group commit.

    Reports and SMS messages arriving together are written by one writer thread in one
    transaction with one fsync (``synchronous=FULL``); each caller returns only after that commit,
    so an acknowledgement still means "on disk". Under load this turns N fsyncs into one.
    """

    MIGRATIONS = INBOX_MIGRATIONS

    # -- items ---------------------------------------------------------------------------------
    def put(
        self, item_id: str, blob: bytes, *, board: ReceiptHash | None = None, files: Sequence[SealedFile] = ()
    ) -> None:
        """Store one sealed item (and open its status board entry); return once it is on disk.

        ``files`` (sealed streams, crypto/stream.py) go in the same transaction: all or nothing.
        """

        def write(conn: Connection) -> None:
            insert_item(conn, item_id, blob, files)
            if board is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO board (receipt_hash, status, updated_at) VALUES (?, ?, ?)",
                    (bytes(board), BoardStatus.RECEIVED.value, int(clock.time())),
                )

        self._grouped(write)

    def put_once(
        self,
        key: bytes,
        item_id: str,
        blob: bytes,
        *,
        board: ReceiptHash | None = None,
        replies: bytes = b"",
        files: Sequence[SealedFile] = (),
    ) -> bool:
        """Store an item unless ``key`` (a keyed hash of a provider id) was seen; True if stored.

        ``board`` opens the item's status board entry and ``replies`` (already encrypted) is kept
        with the key for a retry of the same request, all in the same transaction.
        """
        stored = False

        def write(conn: Connection) -> None:
            nonlocal stored
            cur = conn.execute(
                "INSERT OR IGNORE INTO seen_messages (key, replies, created_at) VALUES (?, ?, ?)",
                (key, replies, int(clock.time())),
            )
            if cur.rowcount == 1:
                insert_item(conn, item_id, blob, files)
                if board is not None:
                    conn.execute(
                        "INSERT OR IGNORE INTO board (receipt_hash, status, updated_at) VALUES (?, ?, ?)",
                        (bytes(board), BoardStatus.RECEIVED.value, int(clock.time())),
                    )
                stored = True

        self._grouped(write)
        return stored

    def put_first(
        self,
        key: bytes,
        memo: bytes,
        item_id: str,
        blob: bytes,
        *,
        board: ReceiptHash | None,
        expired_before: int,
        files: Sequence[SealedFile] = (),
    ) -> bytes | None:
        """Store an item under a single-use key (intake.once.Once) with its sealed memo.

        If the key is already stored (and not older than ``expired_before``), store nothing and
        return that earlier memo instead; None means this item was stored. One transaction, so two
        sends of one form at the same moment store one item.
        """
        earlier: bytes | None = None

        def write(conn: Connection) -> None:
            nonlocal earlier
            now = int(clock.time())
            conn.execute("DELETE FROM seen_messages WHERE key = ? AND created_at < ?", (key, expired_before))
            cur = conn.execute(
                "INSERT OR IGNORE INTO seen_messages (key, replies, created_at) VALUES (?, ?, ?)", (key, memo, now)
            )
            if cur.rowcount == 1:
                insert_item(conn, item_id, blob, files)
                if board is not None:
                    conn.execute(
                        "INSERT OR IGNORE INTO board (receipt_hash, status, updated_at) VALUES (?, ?, ?)",
                        (bytes(board), BoardStatus.RECEIVED.value, now),
                    )
            else:
                row = conn.execute("SELECT replies FROM seen_messages WHERE key = ?", (key,)).fetchone()
                earlier = bytes(row[0])

        self._grouped(write)
        return earlier

    def mark_seen(self, key: bytes, value: bytes) -> None:
        """Record ``key`` as seen with ``value`` (kept if already seen): a later put_once of it stores nothing."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO seen_messages (key, replies, created_at) VALUES (?, ?, ?)",
                (key, value, int(clock.time())),
            )

    def forget_seen_range(self, low: bytes, high: bytes, before: int) -> None:
        """Forget the single-use keys in ``[low, high)`` stored before ``before`` (one kind of key)."""
        with self._write() as conn:
            conn.execute("DELETE FROM seen_messages WHERE key >= ? AND key < ? AND created_at < ?", (low, high, before))

    def items(self, limit: int = 500, after_seq: int = 0) -> list[tuple[int, str, bytes]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, id, blob FROM items WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [(int(s), str(i), bytes(b)) for s, i, b in rows]

    def files(self, item_id: str) -> dict[int, list[bytes]]:
        """The sealed streams stored with an item: ``{n: [header, chunk1, ...]}`` (may be empty)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT n, chunk FROM attachments WHERE item_id = ? ORDER BY n, seq", (item_id,)
            ).fetchall()
        out: dict[int, list[bytes]] = {}
        for n, chunk in rows:
            out.setdefault(int(n), []).append(bytes(chunk))
        return out

    def file_chunks(self, item_id: str, after: tuple[int, int], limit: int) -> list[tuple[int, int, bytes]]:
        """Up to ``limit`` sealed chunks of an item's files after ``(n, seq)``, in order: ``(n, seq,
        chunk)``. A paged :meth:`files`, for the desk pull API (intake/pull.py)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT n, seq, chunk FROM attachments WHERE item_id = ? AND (n, seq) > (?, ?) ORDER BY n, seq LIMIT ?",
                (item_id, after[0], after[1], limit),
            ).fetchall()
        return [(int(n), int(s), bytes(c)) for n, s, c in rows]

    def delete(self, item_ids: list[str]) -> None:
        with self._write() as conn:
            conn.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in item_ids])
            conn.executemany("DELETE FROM attachments WHERE item_id = ?", [(i,) for i in item_ids])

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM items").fetchone()[0])

    # -- SMS ---------------------------------------------------------------------------------------
    def sms_session(self, reporter: bytes) -> tuple[str, bytes, int] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT state, parts, updated_at FROM sms_sessions WHERE reporter = ?", (reporter,)
            ).fetchone()
        return (str(row[0]), bytes(row[1]), int(row[2])) if row else None

    def seen(self, key: bytes) -> bytes | None:
        with self._lock:
            row = self._conn.execute("SELECT replies FROM seen_messages WHERE key = ?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def sms_commit(
        self,
        *,
        reporter: bytes,
        session: tuple[str, bytes] | None,
        seen: tuple[bytes, bytes] | None,
        items: Sequence[tuple[str, bytes, ReceiptHash | None]] = (),
        outbox: Sequence[tuple[str, bytes, bytes]] = (),
        now: datetime | None = None,
    ) -> None:
        """One message's effects in one durable transaction: session, item, dedupe key, replies.

        ``now`` is the conversation's clock (the engine's), so a session's age and the sweep that
        stores abandoned conversations measure time on the same clock."""
        stamp = int((now or clock.now()).timestamp())

        def write(conn: Connection) -> None:
            if session is None:
                conn.execute("DELETE FROM sms_sessions WHERE reporter = ?", (reporter,))
            else:
                conn.execute(
                    "INSERT INTO sms_sessions (reporter, state, parts, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(reporter) DO UPDATE SET state = excluded.state, parts = excluded.parts, "
                    "updated_at = excluded.updated_at",
                    (reporter, session[0], session[1], stamp),
                )
            for item_id, blob, board in items:
                conn.execute(
                    "INSERT INTO items (id, blob, received_at) VALUES (?, ?, ?)", (item_id, blob, arrival_day())
                )
                if board is not None:
                    conn.execute(
                        "INSERT OR IGNORE INTO board (receipt_hash, status, updated_at) VALUES (?, ?, ?)",
                        (bytes(board), BoardStatus.RECEIVED.value, stamp),
                    )
            if seen is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO seen_messages (key, replies, created_at) VALUES (?, ?, ?)", (*seen, stamp)
                )
            for provider, recipient, body in outbox:
                conn.execute(
                    "INSERT INTO outbox (provider, recipient, body, created_at, next_at) VALUES (?, ?, ?, ?, ?)",
                    (provider, recipient, body, stamp, stamp),
                )

        self._grouped(write)

    def stale_sessions(self, before: int, limit: int = 100) -> list[tuple[bytes, str, bytes]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT reporter, state, parts FROM sms_sessions WHERE updated_at < ? LIMIT ?", (before, limit)
            ).fetchall()
        return [(bytes(r), str(s), bytes(p)) for r, s, p in rows]

    def forget_seen(self, before: int) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM seen_messages WHERE created_at < ?", (before,))

    def queue(self, provider: str, recipient: bytes, body: bytes, *, push: bool = False) -> None:
        """Queue one outgoing SMS (recipient and body already encrypted with the intake key).

        ``push``: queued by a desk paired with a remote intake, which sends it (intake/remote.py);
        the row gets the stable id the intake dedupes on."""
        now = int(clock.time())
        uid = secrets.token_urlsafe(18) if push else None

        def write(conn: Connection) -> None:
            conn.execute(
                "INSERT INTO outbox (provider, recipient, body, created_at, next_at, uid) VALUES (?, ?, ?, ?, ?, ?)",
                (provider, recipient, body, now, now, uid),
            )

        self._grouped(write)

    def outbox_due(self, provider: str, now: int, limit: int = 50) -> list[tuple[int, bytes, bytes, int]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, recipient, body, attempts FROM outbox WHERE provider = ? AND next_at <= ? ORDER BY id LIMIT ?",
                (provider, now, limit),
            ).fetchall()
        return [(int(i), bytes(r), bytes(b), int(a)) for i, r, b, a in rows]

    def outbox_done(self, ids: list[int]) -> None:
        with self._write() as conn:
            conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    def outbox_retry(self, outbox_id: int, next_at: int) -> None:
        with self._write() as conn:
            conn.execute("UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?", (next_at, outbox_id))

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def settle_meta(self, key: str, *, board_empty: str, board_used: str) -> str:
        """``key``'s value; when unset, set it first to ``board_empty`` or ``board_used`` by whether the
        status board has any entry yet, in one write so that processes opening together agree."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) "
                "SELECT ?, CASE WHEN EXISTS (SELECT 1 FROM board) THEN ? ELSE ? END",
                (key, board_used, board_empty),
            )
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0])

    # -- status board -----------------------------------------------------------------------------
    def board(self, receipt_hash: ReceiptHash) -> BoardEntry | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT status FROM board WHERE receipt_hash = ?", (bytes(receipt_hash),)
            ).fetchone()
            msgs = self._conn.execute(
                "SELECT created_at, body FROM board_messages WHERE receipt_hash = ? ORDER BY id",
                (bytes(receipt_hash),),
            ).fetchall()
            question = waiting(self._conn, bytes(receipt_hash), int(clock.time()))
        if row is None:
            return None
        return BoardEntry(BoardStatus(row[0]), [(int(t), str(b)) for t, b in msgs], question)

    def set_status(self, receipt_hash: ReceiptHash, status: BoardStatus, *, push: bool = False) -> None:
        """``push``: set by a desk paired with a remote intake, so it is pushed there (intake/remote.py)."""
        with self._write() as conn:
            rev = _next_push_rev(conn) if push else 0
            conn.execute(
                "INSERT INTO board (receipt_hash, status, updated_at, push_rev) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(receipt_hash) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, "
                "push_rev = max(board.push_rev, excluded.push_rev)",
                (bytes(receipt_hash), status.value, int(clock.time()), rev),
            )

    def post_message(self, receipt_hash: ReceiptHash, body: str, *, push: bool = False) -> None:
        """``push``: posted by a desk paired with a remote intake (see :meth:`set_status`)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO board (receipt_hash, status, updated_at) VALUES (?, ?, ?)",
                (bytes(receipt_hash), BoardStatus.IN_REVIEW.value, int(clock.time())),
            )
            uid, rev = (secrets.token_urlsafe(18), _next_push_rev(conn)) if push else (None, 0)
            conn.execute(
                "INSERT INTO board_messages (receipt_hash, created_at, body, uid, push_rev) VALUES (?, ?, ?, ?, ?)",
                (bytes(receipt_hash), int(clock.time()), body, uid, rev),
            )

    # -- a desk paired with an intake on another host (intake/remote.py) ---------------------------
    def unpushed_board(self, limit: int = 100) -> list[tuple[int, bytes, str, str | None, int]]:
        """Board changes a paired desk made since its last push, oldest first:
        ``(push_rev, receipt_hash, status or message text, message uid or None, unix time)``."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (PUSHED_REV,)).fetchone()
            after = int(row[0]) if row else 0
            rows = self._conn.execute(
                "SELECT push_rev, receipt_hash, status, NULL, updated_at FROM board WHERE push_rev > ? "
                "UNION ALL SELECT push_rev, receipt_hash, body, uid, created_at FROM board_messages "
                "WHERE push_rev > ? AND uid IS NOT NULL ORDER BY 1 LIMIT ?",
                (after, after, limit),
            ).fetchall()
        return [(int(r), bytes(h), str(v), None if u is None else str(u), int(t)) for r, h, v, u, t in rows]

    def board_pushed(self, push_rev: int) -> None:
        """The remote intake committed every board change up to ``push_rev``."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = CAST(max(CAST(meta.value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
                (PUSHED_REV, str(int(push_rev))),
            )

    def unpushed_outbox(self, limit: int = 100) -> list[tuple[int, str, str, bytes, bytes]]:
        """SMS a paired desk queued for the remote intake to send: ``(id, uid, provider, recipient, body)``."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, uid, provider, recipient, body FROM outbox WHERE uid IS NOT NULL ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        return [(int(i), str(u), str(p), bytes(r), bytes(b)) for i, u, p, r, b in rows]

    def take_pushed(
        self,
        *,
        statuses: Sequence[tuple[bytes, BoardStatus]] = (),
        messages: Sequence[tuple[str, bytes, str, int]] = (),
        outbox: Sequence[tuple[str, str, bytes, bytes]] = (),
    ) -> int:
        """On the intake: store what a paired desk pushed, in one transaction; return how many rows
        are new. ``messages`` are ``(uid, receipt_hash, text, unix time)``, ``outbox`` rows ``(uid,
        provider, recipient, body)``. A uid already taken is skipped, so a retried push (its answer
        lost on the way) stores nothing twice, even after the SMS went out and its row is gone."""
        now = int(clock.time())
        new = 0
        with self._write() as conn:
            for receipt_hash, status in statuses:
                new += conn.execute(
                    "INSERT INTO board (receipt_hash, status, updated_at) VALUES (?, ?, ?) ON CONFLICT(receipt_hash) "
                    "DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at "
                    "WHERE board.status != excluded.status",
                    (receipt_hash, status.value, now),
                ).rowcount
            for uid, receipt_hash, text, at in messages:
                conn.execute(
                    "INSERT OR IGNORE INTO board (receipt_hash, status, updated_at) VALUES (?, ?, ?)",
                    (receipt_hash, BoardStatus.IN_REVIEW.value, now),
                )
                new += conn.execute(
                    "INSERT OR IGNORE INTO board_messages (receipt_hash, created_at, body, uid) VALUES (?, ?, ?, ?)",
                    (receipt_hash, min(at, now), text, uid),
                ).rowcount
            for uid, provider, recipient, body in outbox:
                taken = conn.execute("INSERT OR IGNORE INTO pushed_ids (uid, created_at) VALUES (?, ?)", (uid, now))
                if taken.rowcount:
                    conn.execute(
                        "INSERT INTO outbox (provider, recipient, body, created_at, next_at) VALUES (?, ?, ?, ?, ?)",
                        (provider, recipient, body, now, now),
                    )
                    new += 1
        return new


@dataclass(frozen=True)
class SealedFile:
    """One file sealed as a stream to the node key (crypto/stream.py), ready to store."""

    n: int
    chunks: list[bytes]  # [header, chunk1, ...]


def arrival_day() -> int:
    """An item's ``received_at``: the start of its UTC day, enough for retention (intake/retention.py)
    and no finer, so a seized inbox does not time each report to the second."""
    return int(clock.time()) // 86400 * 86400


def insert_item(conn: Connection, item_id: str, blob: bytes, files: Sequence[SealedFile] = ()) -> None:
    """Insert a sealed item and its sealed files, inside the caller's transaction."""
    conn.execute("INSERT INTO items (id, blob, received_at) VALUES (?, ?, ?)", (item_id, blob, arrival_day()))
    for f in files:
        conn.executemany(
            "INSERT INTO attachments (item_id, n, seq, chunk) VALUES (?, ?, ?, ?)",
            [(item_id, f.n, seq, chunk) for seq, chunk in enumerate(f.chunks)],
        )


def _next_push_rev(conn: Connection) -> int:
    """The next board revision: above every one stored and above what was pushed already."""
    row = conn.execute(
        "SELECT max(coalesce((SELECT max(push_rev) FROM board), 0), coalesce((SELECT max(push_rev) FROM "
        "board_messages), 0), coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?), 0))",
        (PUSHED_REV,),
    ).fetchone()
    return int(row[0]) + 1
