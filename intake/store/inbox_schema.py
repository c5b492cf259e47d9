"""Every migration of ``inbox.db`` (the intake's store), in order; ``cases.db``'s are in
intake/store/schema.py, which re-exports these. The same rule: a released migration is never edited
or reordered; a change is a new one at the end (:func:`intake.store.db.migrate`).
"""

from __future__ import annotations

INBOX_MIGRATIONS: list[list[str]] = [
    # 1: sealed items, in arrival order
    [
        """CREATE TABLE items (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            blob BLOB NOT NULL
        )""",
    ],
    # 2: the status board a worker reads with their receipt code
    [
        """CREATE TABLE board (
            receipt_hash BLOB PRIMARY KEY,
            status TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE board_messages (
            id INTEGER PRIMARY KEY,
            receipt_hash BLOB NOT NULL REFERENCES board(receipt_hash) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX board_messages_by_receipt ON board_messages(receipt_hash, id)",
    ],
    # 3: SMS conversations (no free text in clear: parts are sealed), de-duplication, outbox
    [
        """CREATE TABLE sms_sessions (
            reporter BLOB PRIMARY KEY,
            state TEXT NOT NULL,
            parts BLOB NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE seen_messages (
            key BLOB PRIMARY KEY,
            replies BLOB NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            recipient BLOB NOT NULL,
            body BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at INTEGER NOT NULL
        )""",
        "CREATE INDEX outbox_due ON outbox(provider, next_at)",
    ],
    # 4: small key-value state (the Twilio polling cursor)
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ],
    # 5: a desk paired with an intake on another host writes here first (offline-first) and pushes
    # later (intake/remote.py): board changes carry a push revision, replies and queued SMS a stable
    # id the intake dedupes on; ``pushed_ids`` remembers SMS ids the intake took (sent rows go away)
    [
        "ALTER TABLE board ADD COLUMN push_rev INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX board_by_push_rev ON board(push_rev)",
        "ALTER TABLE board_messages ADD COLUMN uid TEXT",
        "ALTER TABLE board_messages ADD COLUMN push_rev INTEGER NOT NULL DEFAULT 0",
        "CREATE UNIQUE INDEX board_messages_by_uid ON board_messages(uid)",
        "CREATE INDEX board_messages_by_push_rev ON board_messages(push_rev)",
        "ALTER TABLE outbox ADD COLUMN uid TEXT",
        "CREATE UNIQUE INDEX outbox_by_uid ON outbox(uid)",
        "CREATE TABLE pushed_ids (uid TEXT PRIMARY KEY, created_at INTEGER NOT NULL) WITHOUT ROWID",
    ],
    # 6 (issue 15): questions for the worker on the status board ("did it happen?", retaliation
    # check-ins), shown once due (intake/answers.py). No answer is kept here: an answer is a sealed
    # item; answered_at only stops the question being shown again. ``reporter`` (the SMS session's
    # keyed hash of the number) and ``locale`` (the SMS's language) are set only while a question sent
    # by SMS to a worker who agreed to contact waits for its reply; the number is forgotten at
    # reporter_until
    [
        """CREATE TABLE board_questions (
            id TEXT PRIMARY KEY,
            receipt_hash BLOB NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            due_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            answered_at INTEGER,
            withdrawn INTEGER NOT NULL DEFAULT 0,
            reporter BLOB,
            reporter_until INTEGER NOT NULL DEFAULT 0,
            locale TEXT NOT NULL DEFAULT '',
            push_rev INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
        "CREATE INDEX board_questions_by_receipt ON board_questions(receipt_hash, due_at)",
        "CREATE INDEX board_questions_by_reporter ON board_questions(reporter) WHERE reporter IS NOT NULL",
        "CREATE INDEX board_questions_by_push_rev ON board_questions(push_rev)",
    ],
    # 7 (issue 16): files a worker attached, sealed in chunks (crypto/stream.py) and stored in the
    # same transaction as their item; seq 0 is the stream's header. Deleted with the item. A rowid
    # table: a 64 KiB chunk is 16 pages, and WITHOUT ROWID (meant for rows under ~1/20 of a page)
    # took twice the time to store a 10 MiB file (bench/bench_files.py).
    [
        """CREATE TABLE attachments (
            item_id TEXT NOT NULL,
            n INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            chunk BLOB NOT NULL,
            PRIMARY KEY (item_id, n, seq)
        )""",
    ],
    # 8 (issue 16): when each WhatsApp worker (the SMS session's keyed hash of "whatsapp:+number")
    # last wrote: Twilio sends free text to them only within 24 hours of it (channels/sms/whatsapp.py).
    # Rows older than that mean nothing and are deleted by the SMS sweep.
    [
        "CREATE TABLE whatsapp_window (reporter BLOB PRIMARY KEY, last_at INTEGER NOT NULL) WITHOUT ROWID",
    ],
    # 9 (issue 17 item 4): when an item arrived (unix seconds), so an item never drained can be
    # destroyed after inbox_retention_days (intake/retention.py). 0: stored by an earlier release;
    # retention counts such an item from when it first sees it.
    [
        "ALTER TABLE items ADD COLUMN received_at INTEGER NOT NULL DEFAULT 0",
    ],
    # 10 (issue 17 item 3): content-free alerts (intake/alerts.py). ``alert_counts`` holds how many
    # urgent reports / overdue CAP steps arrived since the last notice was composed: counts only, no
    # row per report, no time of any report. ``alert_outbox`` holds composed notices per recipient
    # (a coordinator's address from settings), their counts summed while one waits to be retried.
    [
        "CREATE TABLE alert_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
        """CREATE TABLE alert_outbox (
            id INTEGER PRIMARY KEY,
            transport TEXT NOT NULL,
            recipient TEXT NOT NULL,
            urgent INTEGER NOT NULL DEFAULT 0,
            overdue INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at INTEGER NOT NULL,
            UNIQUE (transport, recipient)
        )""",
    ],
]
