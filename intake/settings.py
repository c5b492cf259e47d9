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

from crypto.kdf import DEFAULT_PROFILE, PROFILES
from intake.errors import SettingsError


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
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            raise SettingsError("public_url must start with https:// (or http:// on loopback)")


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
