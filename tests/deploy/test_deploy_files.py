"""Every file in deploy/ is checked by the program that will read it (issue 17): the systemd units by
`systemd-analyze verify`, the Caddyfile by `caddy validate` and by a real Caddy in front of a real
intake, the torrc snippet by `tor --verify-config`, the desk launcher by starting a real desk.

A missing program skips its test with the reason, unless INTAKE_REQUIRE_TIERS names "deploy" (CI).
"""

from __future__ import annotations

import configparser
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from intake import clock
from intake.settings import Settings
from tests.conftest import free_port, make_node, require_tier

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALLED_BIN = "/opt/grievance-intake/.venv/bin/intake"
INTAKE_BIN = Path(sys.executable).parent / "intake"
UNITS = sorted(p.name for p in DEPLOY.iterdir() if p.suffix in (".service", ".timer"))
SERVICES = [u for u in UNITS if u.endswith(".service")]
DESK_PORT = 8001  # `intake desk`'s default port: never published
CSP_HEADER = "content-security-policy"
# Hardening every service must keep (key, value); a value of None means "present, any value".
HARDENING = [
    ("NoNewPrivileges", "yes"),
    ("ProtectSystem", "strict"),
    ("ProtectHome", "yes"),
    ("PrivateTmp", "yes"),
    ("PrivateDevices", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectKernelLogs", "yes"),
    ("ProtectControlGroups", "yes"),
    ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
    ("MemoryDenyWriteExecute", "yes"),
    ("CapabilityBoundingSet", ""),
    ("ReadWritePaths", "/var/lib/grievance-intake"),
    ("UMask", "0077"),
    ("SystemCallFilter", "@system-service"),
    ("User", "intake"),
]


def program(name: str, package: str) -> str:
    """The path of a program, or skip (fail in CI) saying how to install it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin")
    if not found:
        require_tier("deploy", f"{name} is not installed (apt-get install {package})")
    return str(found)


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def unit_lines(name: str) -> list[tuple[str, str]]:
    """(key, value) of every setting in a unit file, in order (systemd allows a key many times)."""
    out = []
    for line in (DEPLOY / name).read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith(("#", ";", "[")) and "=" in line:
            key, _, value = line.partition("=")
            out.append((key.strip(), value.strip()))
    return out


def intake_port() -> int:
    """The port intake.service serves on (INTAKE_PORT), which Caddy and Tor must point at."""
    env = dict(v.split("=", 1) for k, v in unit_lines("intake.service") if k == "Environment")
    return int(env["INTAKE_PORT"])


def test_the_intake_service_serves_loopback_on_the_default_port() -> None:
    env = dict(v.split("=", 1) for k, v in unit_lines("intake.service") if k == "Environment")
    assert env["INTAKE_HOST"] == "127.0.0.1"
    assert intake_port() == Settings.port != DESK_PORT


# -- systemd ----------------------------------------------------------------------------------------
def verify_units(folder: Path, names: list[str]) -> list[str]:
    """Problems `systemd-analyze verify` finds in these units: a failing exit, or any complaint that
    names one of them (it only warns, exit 0, on an unknown key or a value it cannot parse)."""
    analyze = program("systemd-analyze", "systemd")
    proc = run([analyze, "verify", "--man=no", *(str(folder / n) for n in names)], cwd=folder,
               env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})  # fmt: skip
    complaints = [line for line in (proc.stdout + proc.stderr).splitlines() if any(n in line for n in names)]
    if proc.returncode != 0 and not complaints:
        complaints = [f"exit {proc.returncode}: {proc.stderr.strip()}"]
    return complaints


def installed_copy(tmp_path: Path, edit: Any = None) -> Path:
    """The units as they would be installed, with ExecStart pointing at this checkout's intake
    (systemd-analyze refuses a program that does not exist)."""
    folder = tmp_path / "units"
    folder.mkdir()
    for name in UNITS:
        text = (DEPLOY / name).read_text("utf-8").replace(INSTALLED_BIN, str(INTAKE_BIN))
        (folder / name).write_text(edit(name, text) if edit else text, "utf-8")
    return folder


@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verifies_each_unit(name: str, tmp_path: Path) -> None:
    assert INTAKE_BIN.exists(), f"{INTAKE_BIN} is missing: pip install -e ."
    assert verify_units(installed_copy(tmp_path), [name]) == []


def test_systemd_analyze_verifies_the_units_together(tmp_path: Path) -> None:
    assert verify_units(installed_copy(tmp_path), UNITS) == []


DROP_IN = DEPLOY / "intake.service.d" / "outbound.conf"


def test_the_outbound_drop_in_verifies_with_its_unit_and_lifts_the_deny(tmp_path: Path) -> None:
    """deploy/intake.service.d/outbound.conf (Twilio media, alerts): systemd-analyze reads the drop-in
    beside the unit; a misspelt key in it is caught too, so the check sees the drop-in at all."""
    assert [(k, v) for k, v in unit_lines("intake.service") if k.startswith("IPAddress")] == [
        ("IPAddressDeny", "any"), ("IPAddressAllow", "localhost"),
    ]  # fmt: skip
    lines = [ln.strip() for ln in DROP_IN.read_text("utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines == ["[Service]", "IPAddressDeny="]
    folder = installed_copy(tmp_path)
    (folder / "intake.service.d").mkdir()
    (folder / "intake.service.d" / "outbound.conf").write_text(DROP_IN.read_text("utf-8"), "utf-8")
    assert verify_units(folder, ["intake.service"]) == []
    (folder / "intake.service.d" / "outbound.conf").write_text("[Service]\nIPAddressDenyy=\n", "utf-8")
    assert any("outbound.conf" in c for c in verify_units(folder, ["intake.service"]))


def test_the_check_catches_a_misspelt_or_bad_hardening_line(tmp_path: Path) -> None:
    def spoil(name: str, text: str) -> str:
        return text.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes").replace(
            "ProtectSystem=strict", "ProtectSystem=stricter"
        )

    problems = verify_units(installed_copy(tmp_path, spoil), ["intake.service"])
    assert any("NoNewPrivilege" in p for p in problems), problems
    assert any("stricter" in p for p in problems), problems


def test_the_check_catches_a_missing_program(tmp_path: Path) -> None:
    folder = tmp_path / "units"
    folder.mkdir()
    shutil.copy(DEPLOY / "intake.service", folder)  # ExecStart=/opt/... does not exist here
    assert verify_units(folder, ["intake.service"]) != []


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_keeps_its_hardening(name: str) -> None:
    lines = unit_lines(name)
    for key, value in HARDENING:
        values = [v for k, v in lines if k == key]
        assert values, f"{name} lacks {key}="
        assert value in values, f"{name}: {key}={values}, expected {value!r}"
    assert not any(k.startswith("SystemCallFilter") and "@privileged" in v and not v.startswith("~") for k, v in lines)
    assert ("LimitCORE", "0") in lines, f"{name} allows core dumps (reports in memory)"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_a_command_that_exists(name: str) -> None:
    execs = [v for k, v in unit_lines(name) if k == "ExecStart"]
    assert len(execs) == 1 and execs[0].startswith(INSTALLED_BIN + " "), execs
    command = execs[0][len(INSTALLED_BIN) :].split()
    proc = run([str(INTAKE_BIN), *command, "--help"])
    assert proc.returncode == 0, f"{name}: `intake {' '.join(command)}` does not exist: {proc.stderr}"


@pytest.mark.parametrize("name", [u for u in UNITS if u.endswith(".timer")])
def test_each_timer_starts_a_service_that_is_here(name: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / name)
    service = parser.get("Timer", "Unit", fallback=name.removesuffix(".timer") + ".service")
    assert (DEPLOY / service).is_file(), f"{name} starts {service}, which deploy/ does not hold"


# -- Caddy ------------------------------------------------------------------------------------------
def caddy_env(tmp_path: Path, domain: str = "report.example.org", admin: str = "off") -> dict[str, str]:
    """Caddy's environment: the site's domain, and its own folders in tmp_path (never ~/.local)."""
    home = tmp_path / "caddy-home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home),
            "INTAKE_DOMAIN": domain, "CADDY_ADMIN": admin}  # fmt: skip


def caddy_json(tmp_path: Path) -> dict[str, Any]:
    caddy = program("caddy", "caddy")
    proc = run(
        [caddy, "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"], env=caddy_env(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def handlers(node: Any) -> Iterator[dict[str, Any]]:
    """Every handler object anywhere in Caddy's JSON config."""
    if isinstance(node, dict):
        if "handler" in node:
            yield node
        for value in node.values():
            yield from handlers(value)
    elif isinstance(node, list):
        for value in node:
            yield from handlers(value)


def paths_matched(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "path" and isinstance(value, list):
                yield from value
            else:
                yield from paths_matched(value)
    elif isinstance(node, list):
        for value in node:
            yield from paths_matched(value)


def allowed_body_bytes() -> int:
    """The largest request the intake's default settings accept: the form, plus its files (issue 16:
    by default 5 files of 10 MB each; counted from the settings once they exist)."""
    files = int(getattr(Settings, "max_files", 5)) * int(getattr(Settings, "max_file_bytes", 10 * 1024 * 1024))
    return Settings.max_request_bytes + files


def test_caddy_validates_the_caddyfile(tmp_path: Path) -> None:
    caddy = program("caddy", "caddy")
    proc = run([caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
               env=caddy_env(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Valid configuration" in proc.stdout + proc.stderr
    assert "not formatted" not in proc.stderr, "run `caddy fmt --overwrite deploy/Caddyfile`"


def test_caddy_refuses_the_caddyfile_without_a_domain(tmp_path: Path) -> None:
    caddy = program("caddy", "caddy")
    proc = run([caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
               env=caddy_env(tmp_path, domain=""))  # fmt: skip
    assert proc.returncode != 0  # INTAKE_DOMAIN unset: no site, no certificate for a placeholder


def test_the_body_cap_lets_the_largest_allowed_report_through(tmp_path: Path) -> None:
    caps = [h["max_size"] for h in handlers(caddy_json(tmp_path)) if h["handler"] == "request_body"]
    assert caps, "the Caddyfile sets no request_body max_size"
    assert all(cap >= allowed_body_bytes() for cap in caps), (caps, allowed_body_bytes())
    assert all(cap <= 2 * allowed_body_bytes() for cap in caps), "the cap is far above what the intake takes"


def test_caddy_proxies_the_intake_only_never_the_desk(tmp_path: Path) -> None:
    config = caddy_json(tmp_path)
    dials = [u["dial"] for h in handlers(config) if h["handler"] == "reverse_proxy" for u in h["upstreams"]]
    assert dials and set(dials) == {f"127.0.0.1:{intake_port()}"}, dials
    assert all(not d.endswith(f":{DESK_PORT}") for d in dials)
    paths = set(paths_matched(config))
    assert "/desk/v1/*" in paths  # the paired laptop's pull API, token-authenticated
    assert not {"/*", "*", "/desk/*", "/desk*"} & paths, paths
    assert any(h["handler"] == "static_response" and h.get("status_code") == 404 for h in handlers(config))


def test_caddy_logs_no_address_and_keeps_the_intakes_headers(tmp_path: Path) -> None:
    config = caddy_json(tmp_path)
    assert "access_logs" not in json.dumps(config) and '"logs": {"default"' in json.dumps(config["logging"]).replace(
        "\n", ""
    )
    deleted = config["logging"]["logs"]["default"]["encoder"]["fields"]
    assert {"request>remote_ip", "request>client_ip", "request>headers"} <= set(deleted)
    headers = [h for h in handlers(config) if h["handler"] == "headers"]
    assert not any(CSP_HEADER in json.dumps(h).lower() for h in headers), "the intake sets its own CSP"
    required = {k for h in headers for k in h.get("response", {}).get("require", {}).get("headers", {})}
    assert {"Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} <= required
    proxy = next(h for h in handlers(config) if h["handler"] == "reverse_proxy")
    assert {"X-Forwarded-For", "X-Real-IP", "Forwarded"} <= set(proxy["headers"]["request"]["delete"])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until_up(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = clock.monotonic() + 60
    while not answers(port):
        assert proc.poll() is None, f"{proc.args!r} exited {proc.returncode}"
        assert clock.monotonic() < deadline, f"nothing answers on 127.0.0.1:{port}"
        time.sleep(0.1)


@contextmanager
def started(args: list[str], port: int, **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    """A real process, up and answering on ``port``; stopped (and reaped) afterwards."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **kwargs)  # fmt: skip
    try:
        wait_until_up(port, proc)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def get(port: int, path: str, method: str = "GET", body: bytes = b"") -> tuple[int, dict[str, list[str]], str, int]:
    """One request through a fresh connection: status, headers (lower-case, every value), body, and
    the client's own port (which no log may name)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.connect()
        client_port = conn.sock.getsockname()[1]
        conn.request(method, path, body=body or None, headers={"Content-Type": "application/x-www-form-urlencoded"})
        res = conn.getresponse()
        headers: dict[str, list[str]] = {}
        for name, value in res.getheaders():
            headers.setdefault(name.lower(), []).append(value)
        return res.status, headers, res.read().decode("utf-8", "replace"), client_port
    finally:
        conn.close()


def test_a_real_caddy_in_front_of_a_real_intake(tmp_path: Path) -> None:
    """The Caddyfile as shipped (only its upstream port and plain HTTP changed, for a test on
    loopback): public routes reach the intake, the desk and everything else get Caddy's 404, the
    intake's headers come through once and unchanged, and Caddy's error log names no client."""
    caddy = program("caddy", "caddy")
    node = make_node(tmp_path / "node")
    intake, front = free_port(), free_port()
    caddyfile = tmp_path / "Caddyfile"
    text = (DEPLOY / "Caddyfile").read_text("utf-8")
    assert f"127.0.0.1:{intake_port()}" in text
    caddyfile.write_text(text.replace(f"127.0.0.1:{intake_port()}", f"127.0.0.1:{intake}"), "utf-8")
    env = caddy_env(tmp_path, domain=f"http://127.0.0.1:{front}")
    serve = [str(INTAKE_BIN), "--home", str(node.home), "serve", "--host", "127.0.0.1", "--port", str(intake)]
    with (
        started([caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"], front, env=env) as proxy,
        started(serve, intake) as server,
    ):
        status, headers, body, _ = get(front, "/report")
        assert status == 200 and 'name="csrf"' in body
        direct = get(intake, "/report")[1]
        assert headers[CSP_HEADER] == direct[CSP_HEADER], "Caddy changed the intake's CSP"
        for name in (CSP_HEADER, "referrer-policy", "x-frame-options", "x-content-type-options"):
            assert len(headers[name]) == 1, f"{name} sent twice: {headers[name]}"
        assert headers.get("strict-transport-security") == ["max-age=31536000"], headers
        assert "server" not in headers and "via" not in headers
        for path in ("/", "/status", "/healthz", "/static/style.css"):
            assert get(front, path)[0] == 200, path
        # Public POST routes reach the intake, which answers them itself (never Caddy's 404).
        for path in ("/twilio/sms", "/twilio/voice", "/twilio/whatsapp", "/smssync", "/api/v1/reports"):
            status, _, body, _ = get(front, path, "POST", b"x=1")
            assert status != 502 and body != "Not found", (path, status, body)
        assert get(front, "/desk/v1/items")[0] in (401, 403)  # the intake's token check
        # Everything else is Caddy's own 404: the desk's pages, the API schema, made-up paths.
        for path in ("/desk", "/desk/", "/unlock", "/cases", "/openapi.json", "/../desk", "/reportx"):
            status, _, body, _ = get(front, path)
            assert (status, body) == (404, "Not found"), path
        server.terminate()
        served, _ = server.communicate(timeout=30)
        assert "GET /report" in served, served
        assert not re.search(rf"127\.0\.0\.1:(?!{intake}\b)\d+", served), served  # no peer's address
        status, _, _, client_port = get(front, "/report")
        assert status == 502  # logged by Caddy as an error, with the request stripped
        proxy.terminate()
        log, _ = proxy.communicate(timeout=30)
    assert "reverse_proxy" in log or "dial tcp" in log, log  # the 502 was logged
    assert "remote_ip" not in log and "client_ip" not in log and f":{client_port}" not in log, log
    assert "User-Agent" not in log, log


# -- Tor --------------------------------------------------------------------------------------------
def torrc_lines() -> list[list[str]]:
    text = (DEPLOY / "torrc").read_text("utf-8")
    return [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def tor_verify(tmp_path: Path, snippet: str) -> tuple[int, str]:
    """`tor --verify-config` on a torrc that includes this snippet, as Debian's /etc/tor/torrc
    would, with its folders in tmp_path; returns the exit status and what tor warned about."""
    tor = program("tor", "tor")
    data, hidden = tmp_path / "tor-data", tmp_path / "tor-hs"
    for folder in (data, hidden):
        folder.mkdir(mode=0o700)
    (tmp_path / "intake.conf").write_text(snippet.replace("/var/lib/tor/intake/", f"{hidden}/"), "utf-8")
    torrc = tmp_path / "torrc"
    torrc.write_text(f"DataDirectory {data}\nSocksPort 0\n%include {tmp_path / 'intake.conf'}\n", "utf-8")
    proc = run([tor, "--verify-config", "-f", str(torrc), "--defaults-torrc", os.devnull])
    warnings = [
        line for line in proc.stdout.splitlines() if "[warn]" in line or "[err]" in line
        if "running Tor as root" not in line
    ]  # fmt: skip
    return proc.returncode, "\n".join(warnings) if proc.returncode == 0 else proc.stdout


def test_tor_verifies_the_torrc_snippet(tmp_path: Path) -> None:
    snippet = (DEPLOY / "torrc").read_text("utf-8")
    assert "/var/lib/tor/intake/" in snippet
    assert tor_verify(tmp_path, snippet) == (0, "")


def test_the_tor_check_catches_a_bad_line(tmp_path: Path) -> None:
    status, output = tor_verify(tmp_path, (DEPLOY / "torrc").read_text("utf-8") + "HiddenServicePortt 80\n")
    assert status != 0 and "HiddenServicePortt" in output


def test_the_onion_service_publishes_the_intake_only() -> None:
    ports = [words[1:] for words in torrc_lines() if words[0] == "HiddenServicePort"]
    assert ports == [["80", f"127.0.0.1:{intake_port()}"]], ports
    assert not any(str(DESK_PORT) in " ".join(words) for words in torrc_lines())


# -- the desk launcher ------------------------------------------------------------------------------
def test_the_desktop_entry_is_valid() -> None:
    validate = program("desktop-file-validate", "desktop-file-utils")
    proc = run([validate, str(DEPLOY / "intake-desk.desktop")])
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    assert "deploy/intake-desk.sh" in (DEPLOY / "intake-desk.desktop").read_text("utf-8")


def fake_browser(tmp_path: Path) -> tuple[Path, Path]:
    """A 'browser' that fetches the page it is asked to open and writes down what it got."""
    seen = tmp_path / "browser-saw"
    script = tmp_path / "browser"
    script.write_text(
        f"#!{sys.executable}\nimport sys, urllib.request\n"
        f"with urllib.request.urlopen(sys.argv[1], timeout=30) as r:\n"
        f"    open({str(seen)!r}, 'w').write(sys.argv[1] + ' ' + str(r.status))\n",
        "utf-8",
    )
    script.chmod(0o755)
    return script, seen


def test_the_launcher_starts_the_desk_on_loopback_and_stops_it(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    browser, seen = fake_browser(tmp_path)
    port = free_port()
    env = {**os.environ, "INTAKE_HOME": str(node.home), "INTAKE_BIN": str(INTAKE_BIN),
           "INTAKE_DESK_PORT": str(port), "BROWSER": str(browser)}  # fmt: skip
    launcher = subprocess.Popen([str(DEPLOY / "intake-desk.sh")], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = clock.monotonic() + 60
        while not seen.exists():
            assert launcher.poll() is None, launcher.communicate()[0]
            assert clock.monotonic() < deadline, "the launcher never opened the browser"
            time.sleep(0.1)
        assert seen.read_text("utf-8") == f"http://127.0.0.1:{port}/ 200"
        listening = run(["ss", "-Hltn", f"sport = :{port}"]).stdout if shutil.which("ss") else ""
        assert all("127.0.0.1:" in line for line in listening.splitlines()), listening
        # A second launch while the desk runs only opens the browser again.
        seen.unlink()
        again = run([str(DEPLOY / "intake-desk.sh")], env=env)
        assert again.returncode == 0 and seen.read_text("utf-8").endswith(" 200"), again.stdout + again.stderr
    finally:
        launcher.send_signal(signal.SIGTERM)
        output = launcher.communicate(timeout=60)[0]
    assert not answers(port), f"the desk still runs after its launcher stopped:\n{output}"


def test_the_launcher_refuses_a_folder_without_a_node(tmp_path: Path) -> None:
    browser, seen = fake_browser(tmp_path)
    env = {**os.environ, "INTAKE_HOME": str(tmp_path / "empty"), "INTAKE_BIN": str(INTAKE_BIN),
           "INTAKE_DESK_PORT": str(free_port()), "BROWSER": str(browser)}  # fmt: skip
    proc = run([str(DEPLOY / "intake-desk.sh")], env=env)
    assert proc.returncode == 1 and "holds no node" in proc.stderr and not seen.exists()
