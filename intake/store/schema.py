"""Every migration of the node's two stores, in order: ``cases.db`` (the desk's) and ``inbox.db``
(the intake's).

Migration N is applied once, in its own transaction, to a store at version N-1
(:func:`intake.store.db.migrate`); a store made by any earlier release upgrades by running the ones
it lacks. So a released migration is never edited or reordered: a change is a new one at the end.
"""

from __future__ import annotations

CASES_MIGRATIONS: list[list[str]] = [
    # 1: cases, follow-ups, and the drained-item ledger that makes draining idempotent
    [
        """CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            locale TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new',
            factory TEXT NOT NULL DEFAULT '',
            location TEXT NOT NULL DEFAULT '',
            categories TEXT NOT NULL DEFAULT '[]',
            description TEXT NOT NULL DEFAULT '',
            consent INTEGER NOT NULL DEFAULT 0,
            contact_ok INTEGER NOT NULL DEFAULT 0,
            receipt_hash BLOB UNIQUE,
            reporter_link BLOB,
            contact_key BLOB,
            contact BLOB
        )""",
        """CREATE TABLE followups (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            received_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            locale TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
        """CREATE TABLE drained_items (
            item_id TEXT PRIMARY KEY,
            case_id INTEGER REFERENCES cases(id) ON DELETE SET NULL,
            drained_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        ) WITHOUT ROWID""",
    ],
    # 2: severity for triage, and the indexes the case list needs
    [
        "ALTER TABLE cases ADD COLUMN severity TEXT NOT NULL DEFAULT 'normal'",
        "CREATE INDEX cases_by_status ON cases(status, created_at)",
        "CREATE INDEX cases_by_reporter ON cases(reporter_link) WHERE reporter_link IS NOT NULL",
        "CREATE INDEX followups_by_case ON followups(case_id, id)",
    ],
    # 3: call recordings (audio kept only here, encrypted with the store); either the report or
    # the recording may be drained first, so a recording may wait for its case
    [
        """CREATE TABLE recordings (
            id INTEGER PRIMARY KEY,
            recording_sid TEXT NOT NULL UNIQUE,
            case_id INTEGER REFERENCES cases(id) ON DELETE CASCADE,
            content_type TEXT NOT NULL DEFAULT '',
            audio BLOB,
            missing TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX recordings_by_case ON recordings(case_id)",
    ],
    # 4: case work (desk): who holds a case, an edit version, notes, replies to the worker, the
    # hash-chained audit log, and full-text search (trigram: works for Chinese too)
    [
        "ALTER TABLE cases ADD COLUMN assignee TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE cases ADD COLUMN updated_at TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
        """CREATE TABLE replies (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            text TEXT NOT NULL,
            sms INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            action TEXT NOT NULL,
            case_id INTEGER,
            detail TEXT NOT NULL DEFAULT '{}',
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        )""",
        "CREATE INDEX audit_by_case ON audit(case_id, id)",
        """CREATE VIRTUAL TABLE cases_fts USING fts5(
            factory, location, description, content='cases', content_rowid='id', tokenize='trigram'
        )""",
        """CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
            INSERT INTO cases_fts(rowid, factory, location, description)
            VALUES (new.id, new.factory, new.location, new.description);
        END""",
        """CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
            INSERT INTO cases_fts(cases_fts, rowid, factory, location, description)
            VALUES ('delete', old.id, old.factory, old.location, old.description);
        END""",
        """CREATE TRIGGER cases_fts_update AFTER UPDATE OF factory, location, description ON cases BEGIN
            INSERT INTO cases_fts(cases_fts, rowid, factory, location, description)
            VALUES ('delete', old.id, old.factory, old.location, old.description);
            INSERT INTO cases_fts(rowid, factory, location, description)
            VALUES (new.id, new.factory, new.location, new.description);
        END""",
        "INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')",
        "CREATE INDEX cases_by_assignee ON cases(assignee)",
    ],
    # 5: stage timing (deadlines, time to first response / resolution), the factories register,
    # and corrective action plans
    [
        "ALTER TABLE cases ADD COLUMN status_since TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN first_response_at TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN closed_at TEXT NOT NULL DEFAULT ''",
        "UPDATE cases SET status_since = created_at WHERE status_since = ''",
        """CREATE TABLE factories (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            country TEXT NOT NULL DEFAULT '',
            parent_company TEXT NOT NULL DEFAULT '',
            brands TEXT NOT NULL DEFAULT '[]',
            buyers TEXT NOT NULL DEFAULT '[]',
            osh_id TEXT UNIQUE,
            merged_into INTEGER REFERENCES factories(id),
            created_at TEXT NOT NULL
        )""",
        "ALTER TABLE cases ADD COLUMN factory_id INTEGER REFERENCES factories(id)",
        "CREATE INDEX cases_by_factory ON cases(factory_id)",
        """CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            action TEXT NOT NULL,
            who TEXT NOT NULL,
            due TEXT NOT NULL,
            evidence TEXT NOT NULL DEFAULT '',
            done_at TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            user TEXT NOT NULL
        )""",
        "CREATE INDEX actions_by_case ON actions(case_id)",
    ],
    # 6: the desk's default order (urgent first, then newest) served from an index, not a sort
    # of every case (bench/bench_desk.py: 586 ms -> an index walk at 100,000 cases)
    [
        "CREATE INDEX cases_by_rank ON cases("
        "(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC)",
        "CREATE INDEX cases_by_status_rank ON cases(status, "
        "(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC)",
    ],
    # 7: the relay (issue: relay and partner): partners (each with this node's sequence counter for
    # it, so a partner can spot a gap), the coordinator's review of each case's summary, and the
    # durable outbox of sealed envelopes
    [
        "ALTER TABLE cases ADD COLUMN workers_affected INTEGER NOT NULL DEFAULT 1",
        """CREATE TABLE relay_partners (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            box_key BLOB NOT NULL,
            receipt_key BLOB NOT NULL,
            url TEXT NOT NULL DEFAULT '',
            token TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL,
            added_by TEXT NOT NULL,
            removed_at TEXT NOT NULL DEFAULT '',
            sequence INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE relay_reviews (
            case_id INTEGER PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            narrative TEXT,
            names TEXT NOT NULL DEFAULT '[]',
            named_confirmed INTEGER NOT NULL DEFAULT 0,
            approved_hash TEXT NOT NULL DEFAULT '',
            approved_by TEXT NOT NULL DEFAULT '',
            approved_at TEXT NOT NULL DEFAULT '',
            approved_inputs TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE relay_outbox (
            envelope_id TEXT PRIMARY KEY,
            partner_id INTEGER NOT NULL REFERENCES relay_partners(id),
            case_id INTEGER REFERENCES cases(id) ON DELETE SET NULL,
            sequence INTEGER NOT NULL,
            summary_hash TEXT NOT NULL,
            envelope BLOB NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at TEXT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            exported_at TEXT NOT NULL DEFAULT '',
            delivered_at TEXT NOT NULL DEFAULT '',
            receipt BLOB,
            cancelled TEXT NOT NULL DEFAULT '',
            UNIQUE (partner_id, sequence)
        ) WITHOUT ROWID""",
        "CREATE INDEX relay_outbox_pending ON relay_outbox(delivered_at, cancelled, next_at)",
        "CREATE INDEX relay_outbox_by_case ON relay_outbox(case_id)",
    ],
    # 8: the overdue filter, one stage at a time, walks this index in the desk's order and reads
    # status_since from it, stopping at the page's limit (bench/bench_desk.py); it replaces the
    # index of migration 6 it extends
    [
        "UPDATE cases SET status_since = created_at WHERE status_since = ''",
        "DROP INDEX cases_by_status_rank",
        "CREATE INDEX cases_by_stage_rank ON cases(status, "
        "(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC, status_since)",
    ],
    # 9: the severity, channel and language filters walk their own part of the desk's order
    # (at 1,000,000 cases severity + channel took 558 ms p95 through the rank index alone)
    [
        f"CREATE INDEX cases_by_{column}_rank ON cases({column}, "
        "(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC)"
        for column in ("severity", "channel", "locale")
    ],
    # 10 (issue 15): remedy outcomes in countable columns, on each CAP step (set when it is marked
    # done; remedy_kind '' = none) and on the case (case_outcomes, several per case); and the
    # worker's answer to "did it happen?" (NULL until the worker confirmation fills it)
    [
        "ALTER TABLE actions ADD COLUMN remedy_kind TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE actions ADD COLUMN remedy_amount TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE actions ADD COLUMN remedy_currency TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE actions ADD COLUMN remedy_workers INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE actions ADD COLUMN remedy_verified_by TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE case_outcomes (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            amount TEXT NOT NULL DEFAULT '',
            currency TEXT NOT NULL DEFAULT '',
            workers_covered INTEGER NOT NULL,
            verified_by TEXT NOT NULL,
            at TEXT NOT NULL,
            user TEXT NOT NULL
        )""",
        "CREATE INDEX case_outcomes_by_case ON case_outcomes(case_id, id)",
        "ALTER TABLE cases ADD COLUMN worker_confirmation TEXT "
        "CHECK (worker_confirmation IS NULL OR worker_confirmation IN ('yes', 'partly', 'no'))",
    ],
    # 11 (issue 15, the partner answers): messages partners sent about this node's cases, verified
    # (relay/inbound.py). Replay is judged per partner key and sequence, and per envelope id, so a
    # partner removed and added again cannot be replayed into. created_at is the partner's clock,
    # received_at this node's; passed_on_* records the reply a caseworker made of it for the worker
    [
        """CREATE TABLE partner_messages (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            partner_id INTEGER REFERENCES relay_partners(id) ON DELETE SET NULL,
            partner TEXT NOT NULL,
            partner_key BLOB NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            envelope_id TEXT NOT NULL UNIQUE,
            sequence INTEGER NOT NULL,
            via TEXT NOT NULL,
            passed_on_at TEXT NOT NULL DEFAULT '',
            passed_on_by TEXT NOT NULL DEFAULT '',
            passed_on_template TEXT NOT NULL DEFAULT '',
            UNIQUE (partner_key, sequence)
        )""",
        "CREATE INDEX partner_messages_by_case ON partner_messages(case_id, id)",
    ],
    # 12 (issue 14, every filter at 1,000,000 cases; intake/store/caselist.py): each filter field
    # gets an index in the desk's order that carries the other filter fields, so a combination is
    # checked in the index and not in each case's row; categories get a table in that order
    # (walking json_each along the rank index took 75 ms at 100,000 cases); case_counts says how
    # many cases hold each value, so a query walks its rarest filter. Triggers keep both right
    # for every writer (the drain, case work, factory links and merges, bench loaders).
    [
        """CREATE TABLE case_categories (
            category TEXT NOT NULL,
            rank INTEGER NOT NULL,
            case_id INTEGER NOT NULL,
            status TEXT NOT NULL,
            severity TEXT NOT NULL,
            channel TEXT NOT NULL,
            locale TEXT NOT NULL,
            factory_id INTEGER,
            status_since TEXT NOT NULL,
            PRIMARY KEY (category, rank, case_id DESC)
        ) WITHOUT ROWID""",
        # in the table's order, and OR IGNORE for a category listed twice: a DISTINCT over a million
        # cases' rows, or inserting them in the order of cases, took minutes
        """INSERT OR IGNORE INTO case_categories (category, rank, case_id, status, severity, channel, locale,
                factory_id, status_since)
            SELECT j.value, (CASE c.severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), c.id,
                c.status, c.severity, c.channel, c.locale, c.factory_id, c.status_since
            FROM cases c, json_each(CASE WHEN json_valid(c.categories) THEN c.categories ELSE '[]' END) j
            WHERE j.type = 'text'
            ORDER BY 1, 2, 3 DESC""",
        "CREATE INDEX case_categories_by_case ON case_categories(case_id)",
        """CREATE TABLE case_counts (
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (field, value)
        ) WITHOUT ROWID""",
        *[
            f"INSERT INTO case_counts (field, value, n) SELECT '{field}', CAST({field} AS TEXT), count(*) "  # noqa: S608
            f"FROM cases WHERE {field} IS NOT NULL GROUP BY {field}"
            for field in ("status", "severity", "channel", "locale", "factory_id")
        ],
        "INSERT INTO case_counts (field, value, n) "
        "SELECT 'category', category, count(*) FROM case_categories GROUP BY category",
        """CREATE TRIGGER case_categories_insert AFTER INSERT ON cases BEGIN
            INSERT INTO case_categories (category, rank, case_id, status, severity, channel, locale, factory_id,
                status_since)
            SELECT DISTINCT j.value, (CASE new.severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END),
                new.id, new.status, new.severity, new.channel, new.locale, new.factory_id, new.status_since
            FROM json_each(CASE WHEN json_valid(new.categories) THEN new.categories ELSE '[]' END) j
            WHERE j.type = 'text';
            INSERT INTO case_counts (field, value, n)
            SELECT * FROM (SELECT 'status' AS f, new.status AS v, 1 AS d UNION ALL SELECT 'severity', new.severity, 1
                UNION ALL SELECT 'channel', new.channel, 1 UNION ALL SELECT 'locale', new.locale, 1
                UNION ALL SELECT 'factory_id', CAST(new.factory_id AS TEXT), 1)
            WHERE v IS NOT NULL
            ON CONFLICT (field, value) DO UPDATE SET n = n + excluded.n;
        END""",
        """CREATE TRIGGER case_categories_update AFTER UPDATE OF id, categories, status, severity, channel, locale,
            factory_id, status_since ON cases BEGIN
            DELETE FROM case_categories WHERE case_id = old.id;
            INSERT INTO case_categories (category, rank, case_id, status, severity, channel, locale, factory_id,
                status_since)
            SELECT DISTINCT j.value, (CASE new.severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END),
                new.id, new.status, new.severity, new.channel, new.locale, new.factory_id, new.status_since
            FROM json_each(CASE WHEN json_valid(new.categories) THEN new.categories ELSE '[]' END) j
            WHERE j.type = 'text';
            INSERT INTO case_counts (field, value, n)
            SELECT * FROM (SELECT 'status' AS f, old.status AS v, -1 AS d UNION ALL SELECT 'severity', old.severity, -1
                UNION ALL SELECT 'channel', old.channel, -1 UNION ALL SELECT 'locale', old.locale, -1
                UNION ALL SELECT 'factory_id', CAST(old.factory_id AS TEXT), -1
                UNION ALL SELECT 'status', new.status, 1 UNION ALL SELECT 'severity', new.severity, 1
                UNION ALL SELECT 'channel', new.channel, 1 UNION ALL SELECT 'locale', new.locale, 1
                UNION ALL SELECT 'factory_id', CAST(new.factory_id AS TEXT), 1)
            WHERE v IS NOT NULL
            ON CONFLICT (field, value) DO UPDATE SET n = n + excluded.n;
        END""",
        """CREATE TRIGGER case_categories_delete AFTER DELETE ON cases BEGIN
            DELETE FROM case_categories WHERE case_id = old.id;
            INSERT INTO case_counts (field, value, n)
            SELECT * FROM (SELECT 'status' AS f, old.status AS v, -1 AS d UNION ALL SELECT 'severity', old.severity, -1
                UNION ALL SELECT 'channel', old.channel, -1 UNION ALL SELECT 'locale', old.locale, -1
                UNION ALL SELECT 'factory_id', CAST(old.factory_id AS TEXT), -1)
            WHERE v IS NOT NULL
            ON CONFLICT (field, value) DO UPDATE SET n = n + excluded.n;
        END""",
        """CREATE TRIGGER case_counts_category_in AFTER INSERT ON case_categories BEGIN
            INSERT INTO case_counts (field, value, n) VALUES ('category', new.category, 1)
            ON CONFLICT (field, value) DO UPDATE SET n = n + 1;
        END""",
        """CREATE TRIGGER case_counts_category_out AFTER DELETE ON case_categories BEGIN
            UPDATE case_counts SET n = n - 1 WHERE field = 'category' AND value = old.category;
        END""",
        "DROP INDEX cases_by_stage_rank",
        "DROP INDEX cases_by_severity_rank",
        "DROP INDEX cases_by_channel_rank",
        "DROP INDEX cases_by_locale_rank",
        "DROP INDEX cases_by_factory",
        *[
            f"CREATE INDEX cases_by_{field}_filter ON cases({field}, "
            f"(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC, {others})"
            for field, others in (
                ("status", "severity, channel, locale, factory_id, status_since"),
                ("severity", "status, channel, locale, factory_id, status_since"),
                ("channel", "status, severity, locale, factory_id, status_since"),
                ("locale", "status, severity, channel, factory_id, status_since"),
                ("factory_id", "status, severity, channel, locale, status_since"),
            )
        ],
        # A search checks the filters of each match here, not in the case's row
        "CREATE INDEX cases_by_id_filter ON cases(id, status, severity, channel, locale, factory_id, status_since)",
    ],
    # 13 (issue 15, the worker confirms; retaliation watch): the questions the desk put on a worker's
    # status board (intake/desk/asking.py) and what the worker answered (drained from sealed "answer"
    # items, intake/store/answers.py). A retaliation "yes" opens a case, linked here by opened_case_id
    [
        """CREATE TABLE worker_questions (
            id TEXT PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            action_id INTEGER REFERENCES actions(id) ON DELETE SET NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            due_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            user TEXT NOT NULL,
            withdrawn_at TEXT NOT NULL DEFAULT '',
            answered_at TEXT NOT NULL DEFAULT '',
            answer TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL DEFAULT '',
            opened_case_id INTEGER REFERENCES cases(id) ON DELETE SET NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX worker_questions_by_case ON worker_questions(case_id, due_at)",
        "CREATE INDEX worker_questions_by_opened ON worker_questions(opened_case_id) WHERE opened_case_id IS NOT NULL",
    ],
    # 14 (issue 14): a case page read every note and reply of the store to find its own (299 ms at
    # 1,000,000 cases with 686,000 notes and 387,000 replies, bench/bench_scale.py)
    [
        "CREATE INDEX notes_by_case ON notes(case_id, id)",
        "CREATE INDEX replies_by_case ON replies(case_id, id)",
    ],
    # 15 (issue 16): evidence files, cleaned of metadata at intake (intake/evidence.py), from the
    # worker (web, API, MMS, WhatsApp) or a caseworker (a CAP item's evidence). ``n`` numbers a
    # case's files from 1; a file sent by MMS/WhatsApp may be drained before its report, so it
    # waits with case_id NULL until ``media_links`` names its case. ``data`` and ``original`` come
    # last so listing a case's files reads no file (intake/store/attachments.py).
    [
        """CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            case_id INTEGER REFERENCES cases(id) ON DELETE CASCADE,
            n INTEGER,
            source TEXT NOT NULL DEFAULT 'worker',
            action_id INTEGER,
            item_id TEXT NOT NULL DEFAULT '',
            media_sid TEXT,
            type TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            warning TEXT NOT NULL DEFAULT '',
            missing TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            data BLOB,
            original BLOB
        )""",
        "CREATE UNIQUE INDEX attachments_by_case ON attachments(case_id, n)",
        "CREATE INDEX attachments_by_media ON attachments(media_sid) WHERE media_sid IS NOT NULL",
        "CREATE INDEX attachments_by_action ON attachments(action_id) WHERE action_id IS NOT NULL",
        """CREATE TABLE media_links (
            media_sid TEXT PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE
        ) WITHOUT ROWID""",
    ],
    # 16 (issue 16 item 7): a coordinator's approval of ONE file for ONE partner (relay/files.py),
    # bound to the SHA-256 of the downscaled copy the desk showed; envelope_id names the envelope
    # that carries it ('' while it waits for an approved summary to travel with)
    [
        """CREATE TABLE relay_file_approvals (
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            n INTEGER NOT NULL,
            partner_id INTEGER NOT NULL REFERENCES relay_partners(id) ON DELETE CASCADE,
            sha256 TEXT NOT NULL,
            type TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            approved_by TEXT NOT NULL,
            approved_at TEXT NOT NULL,
            envelope_id TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (case_id, n, partner_id)
        ) WITHOUT ROWID""",
    ],
    # 17 (issue 17 item 4, intake/retention.py): when a closed case's words were destroyed under the
    # retention policy ('' = never). FTS5's secure-delete takes a changed row's terms out of the
    # search index at once, not at some later merge: a description's trigrams must not outlive it.
    [
        "ALTER TABLE cases ADD COLUMN expired_at TEXT NOT NULL DEFAULT ''",
        "INSERT INTO cases_fts(cases_fts, rank) VALUES ('secure-delete', 1)",
    ],
    # 18 (issue 14): the cases a partner waits on (intake/store/remedy.py, on every GET /cases) read
    # every CAP step of the store (43 ms at 1,000,000 cases); now only the open steps, in the query's
    # GROUP BY order, each carrying what the query reads (its due date and who must act)
    [
        "CREATE INDEX actions_open_by_case ON actions(case_id, due, who) WHERE done_at = ''",
    ],
]

# inbox.db's migrations live in their own module (this one passed 600 lines); importable from here.
from intake.store.inbox_schema import INBOX_MIGRATIONS  # noqa: E402

__all__ = ["CASES_MIGRATIONS", "INBOX_MIGRATIONS"]
