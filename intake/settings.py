"""One frozen settings object, built once from ``INTAKE_*`` environment variables and the node's
``settings.toml``. Nothing else in the project reads ``os.environ`` (except i18n's CLI locale,
which follows the usual gettext variables LANGUAGE/LC_ALL/LC_MESSAGES/LANG).

Precedence: environment > ``$INTAKE_HOME/settings.toml`` > defaults. Every setting is listed in
``docs/settings.md`` (a test checks that).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crypto.kdf import DEFAULT_PROFILE, PROFILES
from intake.errors import SettingsError

_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_EMAIL = re.compile(r"[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def default_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "grievance-intake"


# The twilio library's own variable names, so one .env serves both.
_ENV_NAMES = {"twilio_account_sid": "TWILIO_ACCOUNT_SID", "twilio_auth_token": "TWILIO_AUTH_TOKEN"}


def env_name(setting: str) -> str:
    return _ENV_NAMES.get(setting, f"INTAKE_{setting.upper()}")


class HomePaths:
    """The files a home folder shares, named once: a node's (``Settings``) and a partner's
    (``relay.partner.home.PartnerHome``); each adds its own."""

    home: Path

    @property
    def keyring_path(self) -> Path:
        return self.home / "keyring.json"

    @property
    def inbox_path(self) -> Path:
        return self.home / "inbox.db"

    @property
    def unlock_failures_path(self) -> Path:
        return self.home / "unlock-failures"


@dataclass(frozen=True)
class Settings(HomePaths):
    home: Path
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    rate_limit_per_minute: int = 10
    max_request_bytes: int = 64 * 1024
    default_locale: str = "en"
    kdf_profile: str = DEFAULT_PROFILE
    log_level: str = "INFO"
    # SMS and voice providers (issue: SMS channel). Secrets never appear in repr().
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    twilio_number: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    smssync_secret: str = field(default="", repr=False)
    # A desk draining an intake on another host (made with `intake desk pair` there).
    desk_remote_url: str = ""
    desk_remote_token: str = field(default="", repr=False)
    # Hours a desk session lasts after unlocking, however busy (the idle lock comes sooner).
    desk_session_hours: int = 12
    # Target days per case stage (UNGP 31: predictable); a case past its stage's target is overdue.
    stage_deadlines: str = "new=2,triaged=7,investigating=30,remedy=90"
    # Extra regular expressions (one per line) for worker/badge numbers the relay must redact.
    relay_redact_patterns: str = ""
    # Days after a case closes when the worker is asked whether they were punished for reporting (issue 15).
    retaliation_checkin_days: str = "30,90"
    # 1: a "did it happen?" question is also asked by a Twilio call-back where the worker agreed to contact.
    voice_callback: int = 0
    # Evidence files (issue 16): per report or follow-up, on every channel; images are re-encoded
    # without metadata (intake/evidence.py). keep_originals=1 also keeps the untouched file, sealed,
    # never relayed.
    max_files: int = 5
    max_file_bytes: int = 10 * 1024 * 1024
    keep_originals: int = 0
    # The WhatsApp sender Twilio gave the group ("whatsapp:+..."); empty: WhatsApp is off.
    twilio_whatsapp_from: str = ""
    # Retention (issue 17; intake/retention.py): days after a case closes when its words, recordings,
    # files and contact are destroyed and only its statistics kept (0: never, the default: a labour
    # group's cases are evidence for years); days after which an inbox item never drained is destroyed.
    retention_days: int = 0
    inbox_retention_days: int = 90
    # Content-free alerts (issue 17 item 3; intake/alerts.py, docs/alerts.md): counts only ("2 urgent
    # reports are waiting"), to the group's coordinators. All three recipients empty: alerts are off.
    alert_sms_to: str = ""  # comma-separated E.164 numbers, texted through Twilio
    alert_email_to: str = ""  # comma-separated addresses, mailed through smtp_host
    alert_ntfy_url: str = ""  # an ntfy-style topic URL: a plain text POST
    alert_ntfy_token: str = field(default="", repr=False)
    alert_every_minutes: int = 15  # at most one notice per this many minutes; counts in between are summed
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = ""
    smtp_starttls: int = 1
    # Backups the desk makes while unlocked (issue 17; intake/desk/backups.py): full backups, rotated
    # like `intake backup --to FOLDER --keep N`, into a folder or USB stick. Empty: off.
    backup_dir: str = ""
    backup_keep: int = 14  # generations kept in backup_dir
    backup_every_hours: int = 24  # a new one when the newest there is older than this

    # Paths inside the node home (and HomePaths) ---------------------------------------------
    @property
    def intake_key_path(self) -> Path:
        return self.home / "intake.key"

    @property
    def cases_path(self) -> Path:
        return self.home / "cases.db"

    @property
    def settings_path(self) -> Path:
        return self.home / "settings.toml"

    def backup_folder(self) -> Path | None:
        """``backup_dir`` as a path (None: the desk makes no backups)."""
        return Path(self.backup_dir).expanduser() if self.backup_dir.strip() else None

    def deadlines(self) -> dict[str, int]:
        """``stage_deadlines`` as {status: days}; a malformed value is a SettingsError."""
        out: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in self.stage_deadlines.split(","))):
            stage, _, days = part.partition("=")
            if stage.strip() not in ("new", "triaged", "investigating", "remedy") or not days.strip().isdigit():
                raise SettingsError(
                    f"stage_deadlines: {part!r} is not stage=days (stages: new, triaged, investigating, remedy)"
                )
            out[stage.strip()] = int(days)
        return out

    def checkin_days(self) -> list[int]:
        """``retaliation_checkin_days`` as sorted whole days (1 to 3650, at most 10); empty: no check-ins."""
        parts = [p.strip() for p in self.retaliation_checkin_days.split(",") if p.strip()]
        if len(parts) > 10 or not all(p.isascii() and p.isdigit() and 1 <= int(p) <= 3650 for p in parts):
            raise SettingsError(
                f"retaliation_checkin_days: {self.retaliation_checkin_days!r} is not up to 10 day counts "
                "from 1 to 3650, comma-separated (e.g. 30,90)"
            )
        return sorted({int(p) for p in parts})

    def relay_patterns(self) -> list[str]:
        """``relay_redact_patterns`` as a list of regular expressions; a bad one is a SettingsError."""
        out = [line.strip() for line in self.relay_redact_patterns.splitlines() if line.strip()]
        for pattern in out:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SettingsError(f"relay_redact_patterns: {pattern!r} is not a regular expression ({exc})") from None
        return out

    # Alerts (intake/alerts.py) ----------------------------------------------------------------
    @property
    def alerts_on(self) -> bool:
        return bool(self.alert_sms_to.strip() or self.alert_email_to.strip() or self.alert_ntfy_url.strip())

    def alert_numbers(self) -> list[str]:
        """``alert_sms_to`` as E.164 numbers; a malformed one is a SettingsError (the number is not
        repeated in the message: it names the setting and the position)."""
        out = [p.strip() for p in self.alert_sms_to.split(",") if p.strip()]
        for n, number in enumerate(out, start=1):
            if not _E164.fullmatch(number):
                raise SettingsError(
                    f"alert_sms_to: entry {n} is not a number in international form (+ and 8 to 15 digits)"
                )
        return out

    def alert_emails(self) -> list[str]:
        out = [p.strip() for p in self.alert_email_to.split(",") if p.strip()]
        for address in out:
            if not _EMAIL.fullmatch(address):
                raise SettingsError(f"alert_email_to: {address!r} is not an e-mail address")
        return out

    def validate_alerts(self) -> None:
        self.alert_numbers()
        emails = self.alert_emails()
        if not 1 <= self.alert_every_minutes <= 1440:
            raise SettingsError("alert_every_minutes must be from 1 to 1440")
        if self.alert_sms_to.strip() and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_number
        ):
            raise SettingsError("alert_sms_to needs twilio_account_sid, twilio_auth_token and twilio_number")
        if emails and not (self.smtp_host and self.smtp_from):
            raise SettingsError("alert_email_to needs smtp_host and smtp_from")
        if self.smtp_from and not _EMAIL.fullmatch(self.smtp_from):
            raise SettingsError(f"smtp_from: {self.smtp_from!r} is not an e-mail address")
        if not 1 <= self.smtp_port <= 65535:
            raise SettingsError("smtp_port must be from 1 to 65535")
        if self.smtp_starttls not in (0, 1):
            raise SettingsError("smtp_starttls must be 1 (STARTTLS, the default) or 0 (plain, on this machine only)")
        if self.smtp_starttls == 0 and self.smtp_host and self.smtp_host not in _LOOPBACK:
            raise SettingsError("smtp_starttls may be 0 only for an SMTP server on this machine (127.0.0.1)")
        url = self.alert_ntfy_url.strip()
        if url:
            parts = urlsplit(url)
            local = parts.scheme == "http" and parts.hostname in _LOOPBACK
            if not (parts.scheme == "https" or local) or not parts.hostname or parts.path in ("", "/"):
                raise SettingsError(
                    "alert_ntfy_url must be a topic address like https://ntfy.sh/TOPIC (http:// only on this machine)"
                )
            if parts.username or parts.password:
                raise SettingsError("alert_ntfy_url must not contain a user name or password (use alert_ntfy_token)")

    # Loading ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, home: Path | str | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        home_path = Path(home or env.get("INTAKE_HOME") or default_home(env)).expanduser()
        values: dict[str, Any] = {}
        file = home_path / "settings.toml"
        if file.is_file():
            try:
                values.update(tomllib.loads(file.read_text("utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise SettingsError(f"{file}: not valid TOML ({exc})") from None
        known = {f.name: f for f in fields(cls) if f.name != "home"}
        unknown = set(values) - set(known)
        if unknown:
            raise SettingsError(f"{file}: unknown settings: {', '.join(sorted(unknown))}")
        for name in known:
            env_value = env.get(_ENV_NAMES.get(name, f"INTAKE_{name.upper()}"))
            if env_value is not None:
                values[name] = env_value
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name, value in list(values.items()):
            values[name] = _coerce(name, value, known[name].type)
        settings = cls(home=home_path, **values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port {self.port} is out of range")
        if self.rate_limit_per_minute < 0:
            raise SettingsError("rate_limit_per_minute must be 0 (off) or more")
        if self.max_request_bytes < 1024:
            raise SettingsError("max_request_bytes must be at least 1024")
        if not 1 <= self.desk_session_hours <= 24 * 7:
            raise SettingsError("desk_session_hours must be from 1 to 168")
        if self.kdf_profile not in PROFILES:
            raise SettingsError(f"kdf_profile must be one of {', '.join(PROFILES)}")
        self.deadlines()
        self.relay_patterns()
        self.checkin_days()
        if self.voice_callback not in (0, 1):
            raise SettingsError("voice_callback must be 0 (off) or 1 (on)")
        if not 0 <= self.max_files <= 20:
            raise SettingsError("max_files must be from 0 (no files) to 20")
        if not 1024 <= self.max_file_bytes <= 100 * 1024 * 1024:
            raise SettingsError("max_file_bytes must be from 1024 to 104857600 (100 MiB)")
        if self.retention_days != 0 and not 30 <= self.retention_days <= 36500:
            raise SettingsError("retention_days must be 0 (keep closed cases) or from 30 to 36500")
        if self.inbox_retention_days != 0 and not 7 <= self.inbox_retention_days <= 3650:
            raise SettingsError("inbox_retention_days must be 0 (keep) or from 7 to 3650")
        if self.keep_originals not in (0, 1):
            raise SettingsError("keep_originals must be 0 (off) or 1 (on)")
        if self.twilio_whatsapp_from and not self.twilio_whatsapp_from.startswith("whatsapp:+"):
            raise SettingsError("twilio_whatsapp_from must look like whatsapp:+14155238886")
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            raise SettingsError("public_url must start with https:// (or http:// on loopback)")
        self.validate_alerts()
        self.validate_backups()

    def validate_backups(self) -> None:
        if not 1 <= self.backup_keep <= 1000:
            raise SettingsError("backup_keep must be from 1 to 1000")
        if not 1 <= self.backup_every_hours <= 8760:
            raise SettingsError("backup_every_hours must be from 1 to 8760 (a year)")
        folder = self.backup_folder()
        if folder is not None and not folder.is_absolute():
            raise SettingsError(f"backup_dir must be a full path such as /media/usb/backups, not {self.backup_dir!r}")
        home = self.home.resolve()
        if folder is not None and (folder.resolve() == home or home in folder.resolve().parents):
            raise SettingsError("backup_dir must be outside the node folder (a backup beside the node is lost with it)")


def _coerce(name: str, value: Any, type_name: Any) -> Any:
    type_text = str(type_name)
    try:
        if type_text == "int":
            if isinstance(value, bool | float):  # int(8000.9) would silently become 8000
                raise ValueError
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"setting {name} must be a whole number, not {value!r}") from None
