"""``intake doctor``'s checks of a node: each says ok, warn or FAIL and, for a problem, what to do.

Pure results (:class:`Finding`), no printing: the CLI (intake/cli/doctor.py) prints them and the
desk can show them later. A node is healthy when no check FAILs; a warning is worth a look but
does not make the node unhealthy. The checks read no case's content: modes, sizes, counts, times.

Backups (decided for issue 17): ``intake backup`` notes its time in ``last-backup``
(intake/backup_record.py). A node with no backup FAILs, even a fresh empty one: its keyring
alone is what a lost laptop takes with it, so "healthy" starts with the first backup. A backup
older than :attr:`Limits.backup_days` FAILs too.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlcipher3

from crypto import NodeKeys
from crypto.keyring import public_record
from i18n import d_, dn_
from intake import alerts, clock, whatsapp
from intake.backup_record import last_backup
from intake.errors import IntakeError
from intake.node import IntakeKeys, check_stores, load_keyring
from intake.panic import panicked_at
from intake.retention import last_run
from intake.settings import Settings
from intake.store.db import _connect, check_store

GiB = 1024**3
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    """One check's result: ``check`` is a stable id (for scripts), ``message`` what was found and
    ``fix`` what to do about it ("" when ok)."""

    check: str
    level: Level
    message: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "level": str(self.level)}


@dataclass(frozen=True)
class Limits:
    backup_days: int = 7  # a backup older than this FAILs
    max_backlog: int = 100  # undrained inbox items above this FAIL
    outbox_attempts: int = 5  # an outgoing message tried more often than this is stuck
    outbox_late: timedelta = timedelta(hours=24)  # or one due longer ago than this
    whatsapp_late: timedelta = timedelta(days=7)  # a WhatsApp reply waiting for its worker longer than this WARNs
    free_bytes: int = GiB  # warn below this much free disk, or below free_share of it
    free_share: float = 0.10
    clock_slack: timedelta = timedelta(minutes=5)  # file times this far ahead of the clock are fine


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(f.level is not Level.FAIL for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "checks": [f.as_dict() for f in self.findings]}

    def add(self, check: str, level: Level, message: str, fix: str = "") -> None:
        self.findings.append(Finding(check, level, message, fix))


def diagnose(
    home: Path | None,
    *,
    load: Callable[[], Settings],
    unlock: Callable[[Settings], NodeKeys] | None,
    limits: Limits | None = None,
) -> Report:
    """Run every check on the node at ``home`` (None: the default folder ``load`` finds).

    ``load`` builds the settings (a SettingsError is a finding); ``unlock`` gives the node's keys
    (None: the checks that need them are skipped and say so). Modes are read before any store is
    opened: opening one would quietly make it private again and hide the finding.
    """
    limits = limits or Limits()
    report = Report()
    settings = _settings(report, home, load)
    if settings is None:
        return report
    if not settings.keyring_path.exists() and not settings.cases_path.exists():  # no node (a lost keyring: below)
        report.add(
            "node",
            Level.FAIL,
            d_("No node at {home}.").format(home=settings.home),
            d_("Run 'intake init', or give the node's folder with --home."),
        )
        return report
    if _panicked(report, settings):  # one clear finding, not a cascade of keyring and store failures
        return report
    _modes(report, settings.home)
    ring_ok = _keyring(report, settings)
    keys = unlock(settings) if unlock is not None and ring_ok else None
    _stores(report, settings, keys, skipped=unlock is None)
    _public_url(report, settings)
    _twilio(report, settings)
    _clock(report, settings, limits)
    _disk(report, settings.home, limits)
    _backup(report, settings, limits)
    _retention(report, settings)
    _inbox(report, settings, limits)
    _outboxes(report, settings, keys, limits, skipped=unlock is None)
    _alerts(report, settings)
    return report


def _settings(report: Report, home: Path | None, load: Callable[[], Settings]) -> Settings | None:
    try:
        settings = load()
    except IntakeError as exc:  # SettingsError: names the setting and, for the file, the file
        fix = d_("Correct the setting in settings.toml or the environment (see docs/settings.md).")
        report.add("settings", Level.FAIL, d_("Settings are not valid: {reason}").format(reason=exc.detail), fix)
        # The other checks need only the folder's files: go on with the defaults when it is known.
        return Settings(home=Path(home).expanduser()) if home is not None else None
    report.add("settings", Level.OK, d_("Settings are valid."))
    return settings


def _panicked(report: Report, settings: Settings) -> bool:
    """A node whose keys a panic destroyed (its ``panicked`` marker, or a keyring holding no user's
    key, only ``destroyed_at``): nothing on this machine opens it, so no other check is worth saying."""
    at = panicked_at(settings.home)
    record = public_record(settings.keyring_path)
    destroyed = record is not None and bool(record["destroyed_at"]) and not record["users"]
    if at is None and not destroyed:
        return False
    if (at is None or at == "?") and record is not None and record["destroyed_at"]:
        at = str(record["destroyed_at"])
    report.add(
        "panic",
        Level.FAIL,
        d_(
            "This node's keys were destroyed by panic on {at}: its stores cannot be opened on this machine, "
            "not even with a passphrase."
        ).format(at=at or "?"),
        d_(
            "Recover with 'intake keys recover KIT --identity FILE --backup FILE' (a recovery kit, its "
            "holder's key and a backup), into a new folder with --home."
        ),
    )
    return True


def _modes(report: Report, home: Path) -> None:
    loose: list[Finding] = []
    if home.stat().st_mode & 0o077:
        loose.append(
            Finding(
                "modes",
                Level.FAIL,
                d_("{path} can be read by other users of this machine (mode {mode:o}).").format(
                    path=home, mode=home.stat().st_mode & 0o777
                ),
                d_("Run 'chmod 700 {path}'.").format(path=home),
            )
        )
    for path in sorted(p for p in home.iterdir() if p.is_file() and not p.is_symlink()):
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:  # stores, keys, settings (Twilio's token), counters: all 0600
            loose.append(
                Finding(
                    "modes",
                    Level.FAIL,
                    d_("{path} can be read by other users of this machine (mode {mode:o}).").format(
                        path=path, mode=mode
                    ),
                    d_("Run 'chmod 600 {path}'.").format(path=path),
                )
            )
    report.findings.extend(loose)
    if not loose:
        report.add("modes", Level.OK, d_("The node folder and its files are private (0700 and 0600)."))


def _keyring(report: Report, settings: Settings) -> bool:
    try:
        ring = load_keyring(settings)
    except IntakeError as exc:
        report.add(
            "keyring",
            Level.FAIL,
            d_("The keyring does not load: {reason}").format(reason=exc.detail or exc.code),
            d_(
                "Restore the node from a backup into a new folder ('intake restore FILE --home NEW_FOLDER') "
                "and use that folder."
            ),
        )
        return False
    report.add("keyring", Level.OK, d_("The keyring of node {node} loads.").format(node=ring.node_id))
    return True


def _stores(report: Report, settings: Settings, keys: NodeKeys | None, *, skipped: bool) -> None:
    restore = d_(
        "Keep a copy of the damaged file, then restore the node from a backup "
        "('intake restore FILE --home NEW_FOLDER') and run 'intake doctor' there."
    )
    if keys is not None:
        found = check_stores(settings, keys)
    else:
        found = {}
        if settings.inbox_path.exists():  # the inbox opens with intake.key: no passphrase needed
            try:
                found[settings.inbox_path] = check_store(
                    settings.inbox_path, IntakeKeys.load(settings.intake_key_path).inbox_db.reveal()
                )
            except IntakeError as exc:
                found[settings.inbox_path] = [exc.detail or exc.code]
        if skipped:
            report.add(
                "stores",
                Level.WARN,
                d_("{path} was not checked (--no-unlock).").format(path=settings.cases_path),
                d_("Run 'intake doctor' without --no-unlock to check it."),
            )
    for path, problems in found.items():
        if problems:  # SQLite's or our own words: pages, tables, files; never a case's content
            report.add(
                "stores",
                Level.FAIL,
                d_("{path} is damaged or does not open: {problem}").format(path=path, problem=problems[0]),
                restore,
            )
        else:
            report.add("stores", Level.OK, d_("{path} opens and is intact.").format(path=path))


def _public_url(report: Report, settings: Settings) -> None:
    url = settings.public_url
    if not url:
        if _twilio_used(settings):
            report.add(
                "public_url",
                Level.FAIL,
                d_("public_url is not set, and Twilio cannot reach the node's webhooks without it."),
                d_("Set public_url to the node's https:// address (e.g. https://intake.example.org)."),
            )
        else:
            report.add("public_url", Level.OK, d_("public_url is not set (no Twilio webhooks to serve)."))
        return
    problem = _url_problem(url)
    if problem:
        report.add(
            "public_url",
            Level.FAIL,
            d_("public_url {url} is not usable: {problem}").format(url=url, problem=problem),
            d_("Set public_url to the bare https:// address of the node (e.g. https://intake.example.org)."),
        )
    else:
        report.add("public_url", Level.OK, d_("public_url {url} is well formed.").format(url=url))


def _url_problem(url: str) -> str:
    """What is wrong with ``url`` as the node's public base address ("" when nothing is)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return d_("it is not a URL")
    if any(c.isspace() for c in url):
        return d_("it contains spaces")
    if not host:
        return d_("it has no host name")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOOPBACK):
        return d_("it must start with https:// (http:// only on this machine)")
    if parts.username or parts.password:
        return d_("it must not contain a user name or password")
    if parts.path not in ("", "/"):
        # Twilio signs the whole URL; the node appends each request's own path to this base.
        return d_("it must not have a path (the node adds /twilio/... itself)")
    if parts.query or parts.fragment or url.rstrip("/").endswith(("?", "#")):
        return d_("it must not have a query (?) or fragment (#)")
    return ""


def _twilio_used(settings: Settings) -> bool:
    """Twilio routes in use: any of its settings given (channels/sms/twilio_rest.py,
    channels/twilio_signature.py and channels/voice read them)."""
    return bool(settings.twilio_account_sid or settings.twilio_auth_token or settings.twilio_number)


def _twilio(report: Report, settings: Settings) -> None:
    if not _twilio_used(settings):
        report.add("twilio", Level.OK, d_("Twilio is not set up (no Twilio SMS or voice)."))
        return
    # Names of the settings only: a secret's value is never printed.
    missing = [
        name
        for name, value in (
            ("twilio_account_sid", settings.twilio_account_sid),
            ("twilio_auth_token", settings.twilio_auth_token),
            ("twilio_number", settings.twilio_number),
        )
        if not value
    ]
    if missing:
        report.add(
            "twilio",
            Level.FAIL,
            d_("Twilio is partly set up: {names} missing.").format(names=", ".join(missing)),
            d_("Set {names} (from the Twilio console) in settings.toml or the environment.").format(
                names=", ".join(missing)
            ),
        )
    else:
        report.add("twilio", Level.OK, d_("Twilio's account, token and number are set."))


def _clock(report: Report, settings: Settings, limits: Limits) -> None:
    """The clock is not behind the newest time the node wrote (a dead RTC battery sends a box back
    to 1970 or 2000: sessions, deadlines and backups would all be wrong)."""
    times: list[float] = []
    for path in settings.home.iterdir():
        with contextlib.suppress(OSError):
            times.append(path.stat().st_mtime)
    backed_up = last_backup(settings.home)
    if backed_up is not None:
        times.append(backed_up.timestamp())
    now = clock.now()
    newest = max(times, default=0.0)
    if newest > now.timestamp() + limits.clock_slack.total_seconds():
        when = datetime.fromtimestamp(newest, tz=now.tzinfo).isoformat(timespec="seconds")
        report.add(
            "clock",
            Level.FAIL,
            d_("The clock says {now}, before the node last wrote its files ({newest}).").format(
                now=now.isoformat(timespec="seconds"), newest=when
            ),
            d_("Set the system clock right (e.g. 'timedatectl set-ntp true'), then run 'intake doctor' again."),
        )
    else:
        ok = d_("The clock ({now}) is not behind the node's files.")
        report.add("clock", Level.OK, ok.format(now=now.isoformat(timespec="seconds")))


def _disk(report: Report, home: Path, limits: Limits) -> None:
    usage = shutil.disk_usage(home)
    free_gib = usage.free / GiB
    message = d_("{free:.1f} GiB free on the node's disk ({share:.0%}).").format(
        free=free_gib, share=usage.free / usage.total if usage.total else 0.0
    )
    if usage.free < limits.free_bytes or (usage.total and usage.free / usage.total < limits.free_share):
        # A full disk stops intake: an acknowledged report must be written before the worker is told so.
        report.add("disk", Level.WARN, message, d_("Free some space on that disk, or move the node to a bigger one."))
    else:
        report.add("disk", Level.OK, message)


def _backup(report: Report, settings: Settings, limits: Limits) -> None:
    when = last_backup(settings.home)
    backup = d_("Run 'intake backup --to FILE' (to a USB stick or another machine) and keep the file safe.")
    if when is None:
        report.add("backup", Level.FAIL, d_("The node has never been backed up."), backup)
        return
    age = clock.now() - when
    days = max(0, int(age.total_seconds() // 86400))
    if age > timedelta(days=limits.backup_days):
        report.add(
            "backup",
            Level.FAIL,
            dn_(
                "The last backup is {days} day old (more than {limit}).",
                "The last backup is {days} days old (more than {limit}).",
                days,
            ).format(days=days, limit=limits.backup_days),
            backup,
        )
    else:
        report.add("backup", Level.OK, d_("Last backup: {when}.").format(when=when.isoformat(timespec="seconds")))


def _retention(report: Report, settings: Settings) -> None:
    """Whether retention is on and, when it destroyed words after the last backup, that the backups
    still hold them (intake/retention.py): a warning, since only the group can destroy those copies."""
    days = settings.retention_days
    if days == 0:
        report.add(
            "retention",
            Level.OK,
            d_("Retention is off (retention_days = 0): closed cases keep their words until deleted by hand."),
        )
        return
    destroyed = last_run(settings.home)
    backed_up = last_backup(settings.home)
    if destroyed is not None and backed_up is not None and backed_up < destroyed:
        report.add(
            "retention",
            Level.WARN,
            d_(
                "Retention destroyed closed cases' words on {date}, after the last backup ({when}): "
                "that backup and every older one still hold them."
            ).format(date=destroyed.date().isoformat(), when=backed_up.isoformat(timespec="seconds")),
            d_("Make a new backup ('intake backup --to FILE'), then destroy the backups made before {date}.").format(
                date=destroyed.date().isoformat()
            ),
        )
        return
    report.add(
        "retention",
        Level.OK,
        dn_(
            "Retention is on: closed cases' words are destroyed {days} day after closing; destroy backups "
            "older than that, which still hold them.",
            "Retention is on: closed cases' words are destroyed {days} days after closing; destroy backups "
            "older than that, which still hold them.",
            days,
        ).format(days=days),
    )


def _read(path: Path, key: bytes, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]] | None:
    """Rows of a read-only query on a connection of its own (nothing migrated, nothing written);
    None when the store does not open or lacks the table (the stores check says why)."""
    try:
        conn = _connect(path, key)
    except IntakeError:
        return None
    try:
        conn.execute("PRAGMA query_only = ON")
        return [tuple(r) for r in conn.execute(sql, args).fetchall()]
    except sqlcipher3.Error:  # damage or an older schema, reported by the stores check
        return None
    finally:
        conn.close()


def _inbox_key(settings: Settings) -> bytes | None:
    try:
        return IntakeKeys.load(settings.intake_key_path).inbox_db.reveal()
    except IntakeError:
        return None


def _inbox(report: Report, settings: Settings, limits: Limits) -> None:
    key = _inbox_key(settings)
    rows = (
        _read(settings.inbox_path, key, "SELECT count(*) FROM items") if key and settings.inbox_path.exists() else None
    )
    if rows is None:
        return  # no inbox (a desk-only node), or one the stores check already FAILed
    waiting = int(rows[0][0])
    message = dn_(
        "{n} report waits in the inbox to be drained.", "{n} reports wait in the inbox to be drained.", waiting
    ).format(n=waiting)
    if waiting > limits.max_backlog:
        report.add(
            "inbox",
            Level.FAIL,
            message,
            d_("Run 'intake drain' or unlock the desk: reports wait there unread (more than {limit}).").format(
                limit=limits.max_backlog
            ),
        )
    else:
        report.add("inbox", Level.OK, message)


def _outboxes(report: Report, settings: Settings, keys: NodeKeys | None, limits: Limits, *, skipped: bool) -> None:
    now = clock.now()
    late = now - limits.outbox_late
    key = _inbox_key(settings)
    if key and settings.inbox_path.exists():
        rows = _read(
            settings.inbox_path,
            key,
            "SELECT count(*) FROM outbox WHERE attempts > ? OR next_at < ?",
            (limits.outbox_attempts, int(late.timestamp())),
        )
        if rows is not None:
            stuck = int(rows[0][0])
            fix = d_(
                "Check the SMS gateway (the Twilio settings, or the SMSSync phone) and the node's network; "
                "'intake serve' sends the outbox."
            )
            _outbox_finding(report, "sms_outbox", stuck, fix)
        _whatsapp(report, settings, key, limits)
    if keys is None:
        if skipped:
            report.add("relay_outbox", Level.WARN, d_("The relay outbox was not checked (--no-unlock)."))
        return
    rows = _read(
        settings.cases_path,
        keys.cases_db_key,
        "SELECT count(*) FROM relay_outbox WHERE delivered_at = '' AND cancelled = '' AND exported_at = '' "
        "AND (attempts > ? OR next_at < ?)",
        (limits.outbox_attempts, late.isoformat(timespec="seconds")),
    )
    if rows is not None:
        fix = d_(
            "See 'intake relay outbox' for the errors; check the partner's address and the network, "
            "then run 'intake relay push' (or 'intake relay export' to carry them)."
        )
        _outbox_finding(report, "relay_outbox", int(rows[0][0]), fix)


def _whatsapp(report: Report, settings: Settings, key: bytes, limits: Limits) -> None:
    """Replies to WhatsApp workers whose 24-hour window closed (intake/whatsapp.py): not stuck, they
    go when the worker writes again; a WARN once the oldest has waited longer than whatsapp_late."""
    outbox = _read(settings.inbox_path, key, "SELECT recipient, body, created_at FROM outbox WHERE provider = 'twilio'")
    windows = _read(settings.inbox_path, key, "SELECT reporter, last_at FROM whatsapp_window")
    if not outbox or windows is None:
        return
    now = clock.time()
    try:
        since = whatsapp.waiting_since(IntakeKeys.load(settings.intake_key_path), outbox, dict(windows), now)
    except IntakeError:
        return  # the keyring check says why
    if not since:
        return
    message = dn_(
        "{n} WhatsApp reply waits for the worker to write again; WhatsApp allows only approved templates "
        "after 24 hours.",
        "{n} WhatsApp replies wait for the worker to write again; WhatsApp allows only approved templates "
        "after 24 hours.",
        len(since),
    ).format(n=len(since))
    days = int((now - min(since)) // 86400)
    fix = dn_(
        "The oldest has waited {days} day: reach the worker another way, or ask them to write (see docs/sms.md).",
        "The oldest has waited {days} days: reach the worker another way, or ask them to write (see docs/sms.md).",
        days,
    ).format(days=days)
    late = days > limits.whatsapp_late.days
    report.add("whatsapp", Level.WARN if late else Level.OK, message, fix if late else "")


def _outbox_finding(report: Report, check: str, stuck: int, fix: str) -> None:
    if stuck:
        message = dn_(
            "{n} outgoing message is stuck (tried many times or long overdue).",
            "{n} outgoing messages are stuck (tried many times or long overdue).",
            stuck,
        ).format(n=stuck)
        report.add(check, Level.FAIL, message, fix)
    else:
        report.add(check, Level.OK, d_("No outgoing message is stuck."))


def _alerts(report: Report, settings: Settings) -> None:
    """Whether content-free alerts are set up (intake/alerts.py), sent, and sent to no worker."""
    if not settings.alerts_on:
        report.add("alerts", Level.OK, d_("Alerts are off (no alert_sms_to, alert_email_to or alert_ntfy_url)."))
        return
    ways = [name for name, value in (("SMS", settings.alert_sms_to), ("e-mail", settings.alert_email_to),
                                     ("ntfy", settings.alert_ntfy_url)) if value.strip()]  # fmt: skip
    key = _inbox_key(settings)
    problems = 0
    if key and settings.inbox_path.exists():
        sql = (
            "SELECT 1 FROM sms_sessions WHERE reporter = ? UNION SELECT 1 FROM board_questions WHERE reporter = ? "
            "UNION SELECT 1 FROM whatsapp_window WHERE reporter = ?"
        )
        for n, hashes in alerts.entry_hashes(settings):
            if any(_read(settings.inbox_path, key, sql, (h, h, h)) for h in hashes):
                problems += 1
                fix = d_("Put a coordinator's own number there, never a number that reports to the node.")
                report.add("alerts", Level.FAIL, alerts.refusal(n), fix)
        late = int(clock.time()) - alerts.STUCK_AFTER
        rows = _read(
            settings.inbox_path, key, "SELECT count(*) FROM alert_outbox WHERE attempts > ? OR next_at < ?",
            (alerts.STUCK_ATTEMPTS, late),
        )  # fmt: skip
        if rows and int(rows[0][0]):
            problems += 1
            fix = d_(
                "Check the alert settings (Twilio, the SMTP server, the ntfy address) and the network; "
                "'intake serve' sends the alerts and logs why one failed."
            )
            report.add("alerts", Level.FAIL, d_("Alerts are queued but not going out."), fix)
    if not problems:
        report.add("alerts", Level.OK, d_("Alerts go out by {ways}.").format(ways=", ".join(ways)))
