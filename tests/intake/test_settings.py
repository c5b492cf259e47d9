"""Settings: environment > settings.toml > defaults, and errors that name the setting."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from intake.errors import SettingsError
from intake.settings import Settings, default_home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def _toml(home: Path, text: str) -> Path:
    path = home / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(home: Path) -> None:
    s = Settings.load(home, env={})
    assert s.home == home
    assert s.host == "127.0.0.1"  # the desk and intake bind to loopback unless told otherwise
    assert s.port == 8000
    assert s.kdf_profile == "moderate"
    assert s.rate_limit_per_minute > 0
    assert s.keyring_path == home / "keyring.json"
    assert s.intake_key_path == home / "intake.key"
    assert s.inbox_path == home / "inbox.db"
    assert s.cases_path == home / "cases.db"
    assert s.settings_path == home / "settings.toml"


def test_file_overrides_defaults(home: Path) -> None:
    _toml(home, 'port = 9000\nhost = "192.0.2.10"\nrate_limit_per_minute = 0\n')
    s = Settings.load(home, env={})
    assert (s.port, s.host, s.rate_limit_per_minute) == (9000, "192.0.2.10", 0)
    assert s.kdf_profile == "moderate"  # untouched settings keep their defaults


def test_env_overrides_file(home: Path) -> None:
    _toml(home, 'port = 9000\nhost = "192.0.2.10"\n')
    s = Settings.load(home, env={"INTAKE_PORT": "9100", "INTAKE_KDF_PROFILE": "sensitive"})
    assert s.port == 9100
    assert s.host == "192.0.2.10"  # from the file: the env did not set it
    assert s.kdf_profile == "sensitive"


def test_explicit_overrides_beat_env(home: Path) -> None:
    _toml(home, "port = 9000\n")
    s = Settings.load(home, env={"INTAKE_PORT": "9100"}, port=9200)
    assert s.port == 9200
    assert Settings.load(home, env={"INTAKE_PORT": "9100"}, port=None).port == 9100


def test_only_the_given_env_is_read(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_PORT", "1234")
    assert Settings.load(home, env={}).port == 8000
    assert Settings.load(home).port == 1234


def test_unprefixed_env_is_ignored(home: Path) -> None:
    assert Settings.load(home, env={"PORT": "1", "port": "2"}).port == 8000


def test_home_from_env_and_default(tmp_path: Path) -> None:
    assert Settings.load(env={"INTAKE_HOME": str(tmp_path / "x")}).home == tmp_path / "x"
    assert Settings.load(env={"XDG_DATA_HOME": str(tmp_path / "data")}).home == tmp_path / "data" / "grievance-intake"
    assert default_home({}) == Path.home() / ".local" / "share" / "grievance-intake"
    # an explicit home wins over INTAKE_HOME
    assert Settings.load(tmp_path / "y", env={"INTAKE_HOME": str(tmp_path / "x")}).home == tmp_path / "y"


@pytest.mark.parametrize("value", ["abc", "", "80.5", "8000 tcp", "0x1F90"])
def test_bad_int_in_env_names_the_setting(home: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="port"):
        Settings.load(home, env={"INTAKE_PORT": value})


@pytest.mark.parametrize("value", ['"abc"', "true", "80.5", "[8000]", "{ a = 1 }"])
def test_bad_int_in_file_names_the_setting(home: Path, value: str) -> None:
    _toml(home, f"rate_limit_per_minute = {value}\n")
    with pytest.raises(SettingsError, match="rate_limit_per_minute"):
        Settings.load(home, env={})


def test_int_from_text(home: Path) -> None:
    _toml(home, 'port = "9001"\n')
    assert Settings.load(home, env={}).port == 9001


def test_unknown_key_in_file(home: Path) -> None:
    path = _toml(home, 'port = 9000\nprot = 9001\nsecret_backdoor = "yes"\n')
    with pytest.raises(SettingsError) as info:
        Settings.load(home, env={})
    message = str(info.value)
    assert "prot" in message
    assert "secret_backdoor" in message
    assert str(path) in message


def test_home_is_not_a_file_setting(home: Path) -> None:
    _toml(home, 'home = "/elsewhere"\n')
    with pytest.raises(SettingsError, match="home"):
        Settings.load(home, env={})


@pytest.mark.parametrize("text", ["port = ", "port = 9000\nport = 9001\n", "[unclosed", "host = 'a\n", "= 1"])
def test_invalid_toml(home: Path, text: str) -> None:
    path = _toml(home, text)
    with pytest.raises(SettingsError, match="not valid TOML") as info:
        Settings.load(home, env={})
    assert str(path) in str(info.value)


def test_settings_file_not_utf8(home: Path) -> None:
    (home / "settings.toml").write_bytes(b'host = "\xff\xfe"\n')
    with pytest.raises(SettingsError, match=r"settings\.toml"):
        Settings.load(home, env={})


@pytest.mark.parametrize(
    ("env", "word"),
    [
        ({"INTAKE_PORT": "70000"}, "port"),
        ({"INTAKE_PORT": "-1"}, "port"),
        ({"INTAKE_RATE_LIMIT_PER_MINUTE": "-5"}, "rate_limit_per_minute"),
        ({"INTAKE_MAX_REQUEST_BYTES": "100"}, "max_request_bytes"),
        ({"INTAKE_KDF_PROFILE": "turbo"}, "kdf_profile"),
        ({"INTAKE_PUBLIC_URL": "ftp://example.org"}, "public_url"),
    ],
)
def test_out_of_range_values(home: Path, env: dict[str, str], word: str) -> None:
    with pytest.raises(SettingsError, match=word):
        Settings.load(home, env=env)


def test_settings_are_frozen(home: Path) -> None:
    s = Settings.load(home, env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.port = 1  # type: ignore[misc]


def test_settings_error_is_a_value_error() -> None:
    assert issubclass(SettingsError, ValueError)
