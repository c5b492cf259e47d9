"""``intake demo``: a throwaway node on loopback, seeded through the real web code path."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from rich.text import Text
from twilio.request_validator import RequestValidator

from i18n import d_, dn_
from intake.backup import write_backup
from intake.demo.data import SAMPLE_REPORTS, SAMPLE_SMS, demo_photo
from intake.demo.servers import listen, start_server
from intake.demo.voice import DEMO_ACCOUNT, MediaStandIn, simulate_call
from intake.drain import drain
from intake.errors import PortInUse
from intake.logs import setup_logging
from intake.node import init_node, open_cases, open_inbox, unlock
from intake.settings import Settings

DEMO_USER = "demo"
INTAKE_PORT = 8000  # the README's addresses: the intake on 8000, the desk on 8001


def intake_command() -> str:
    """How the user runs this same ``intake`` again: its name when PATH finds this very program,
    else its path (``.venv/bin/intake`` run from a checkout), else ``python -m intake.cli``."""
    script = sys.argv[0] if sys.argv else ""
    name = os.path.basename(script)
    if not script or name in ("__main__.py", "-c") or not os.path.isfile(script):
        return f"{shlex.quote(sys.executable)} -m intake.cli"
    found = shutil.which(name)
    if found and os.path.samefile(found, script):
        return name
    return shlex.quote(os.path.abspath(script))


def seed(base: str) -> list[str]:
    """Send every sample report as a worker would: the form (with its CSRF cookie) or the API."""
    receipts = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for sample in SAMPLE_REPORTS:
            data = {k: v for k, v in sample.items() if k != "form"}
            if sample["form"]:
                page = client.get("/report", params={"lang": data["locale"]})
                token = re.search(r'name="csrf" value="([^"]+)"', page.text)
                if token is None:
                    raise RuntimeError("report form has no CSRF token")
                form = {**data, "csrf": token.group(1), "lang": data.pop("locale")}
                resp = client.post("/report", data=form)
                match = re.search(r'id="receipt">([0-9-]+)<', resp.text)
                if resp.status_code != 200 or match is None:
                    raise RuntimeError(f"demo form report refused: HTTP {resp.status_code}")
                receipts.append(match.group(1))
            elif data.pop("photo", False):  # multipart, with a phone photo whose GPS the intake strips
                fields = {k: [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in data.items()}
                files = [("attachments", ("IMG_0001.jpg", demo_photo(), "image/jpeg"))]
                resp = client.post("/api/v1/reports", data=fields, files=files)
                if resp.status_code != 201 or resp.json().get("attachments") != 1:
                    raise RuntimeError(f"demo API report with a photo refused: HTTP {resp.status_code}")
                receipts.append(resp.json()["receipt"])
            else:
                resp = client.post("/api/v1/reports", json=data)
                if resp.status_code != 201:
                    raise RuntimeError(f"demo API report refused: HTTP {resp.status_code}")
                receipts.append(resp.json()["receipt"])
    return receipts


def seed_sms(base: str, auth_token: str) -> list[str]:
    """Each sample conversation as Twilio would deliver it: signed form posts to /twilio/sms."""
    import i18n
    from channels.sms import texts

    validator = RequestValidator(auth_token)
    receipts: list[str] = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for n, convo in enumerate(SAMPLE_SMS):
            words = {
                k: i18n.translations(convo["locale"]).gettext(texts.KEYWORDS[k]).split("|")[0] for k in ("done", "no")
            }
            reply = ""
            for i, body in enumerate(convo["messages"]):
                params = {
                    "MessageSid": f"SM{n:02d}{i:030d}", "AccountSid": "AC" + "0" * 32, "From": convo["from"],
                    "To": "+15550000000", "Body": body.format(**words),
                }  # fmt: skip
                signature = validator.compute_signature(f"{base}/twilio/sms", params)
                resp = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
                if resp.status_code != 200:
                    raise RuntimeError(f"demo SMS refused: HTTP {resp.status_code}")
                reply = resp.text
            match = re.search(r"\d{4}-\d{4}-\d{4}-\d{4}", reply)
            if match is None:
                raise RuntimeError("demo SMS conversation ended without a receipt")
            receipts.append(match.group())
    return receipts


def run_demo(*, port: int | None, desk_port: int | None, once: bool, home: Path | None, console: Console) -> None:
    from channels.server import create_intake_app

    # Both ports first: a taken one is said before the demo makes a node or sends anything.
    sock = listen(port, INTAKE_PORT, "--port", console)
    real_port = sock.getsockname()[1]
    desk_sock = None
    if not once:
        # The desk's default is the next port: 8001 beside the default 8000, any with --port 0.
        base_port = INTAKE_PORT if port is None else port
        try:
            desk_sock = listen(desk_port, base_port + 1 if 0 < base_port < 65535 else 0, "--desk-port", console)
        except PortInUse:
            sock.close()
            raise
    home = home or Path(tempfile.mkdtemp(prefix="intake-demo-"))
    passphrase = "-".join(secrets.token_hex(3) for _ in range(4))
    base = f"http://127.0.0.1:{real_port}"
    # A demo-only Twilio token: the webhooks below are signed with it exactly as Twilio signs them.
    media = MediaStandIn()  # stands in for Twilio's recording URL (intake/demo/voice.py)
    settings = Settings.load(
        home, env={}, rate_limit_per_minute=0, port=real_port, public_url=base,
        twilio_auth_token=secrets.token_hex(16), smssync_secret=secrets.token_hex(8),
        twilio_account_sid=DEMO_ACCOUNT, twilio_api_base=media.base,
    )  # fmt: skip
    setup_logging("WARNING")
    init_node(settings, user=DEMO_USER, passphrase=passphrase, profile="interactive")
    web = create_intake_app(settings)
    server, thread = start_server(web, sock)
    try:
        console.print(d_("Demo node in {home}").format(home=home))
        receipts = seed(base)
        console.print(d_("Sent {n} sample reports through the web form and the JSON API.").format(n=len(receipts)))
        sms_receipts = seed_sms(base, settings.twilio_auth_token)
        console.print(d_("Ran {n} SMS conversations through the signed Twilio webhook.").format(n=len(sms_receipts)))
        simulate_call(base, settings.twilio_auth_token, media.base)
        web.state.voice_fetcher.join()
        console.print(
            d_(
                "Took one phone call through the hotline; its recording was sealed and deleted at Twilio: {deleted}."
            ).format(deleted=d_("yes") if media.deleted else d_("no"))
        )

        keys = unlock(settings, DEMO_USER, passphrase)
        inbox, cases = open_inbox(settings), open_cases(settings, keys)
        try:
            result = drain(inbox, cases, keys)
            rows = cases.list_cases()
        finally:
            inbox.close()
            cases.close()
        console.print(d_("Drained {n} reports into the encrypted cases store.").format(n=result.cases))
        table = Table(d_("ID"), d_("Factory"), d_("Categories"), d_("What happened"))
        for c in rows:
            table.add_row(
                str(c.id),
                Text(c.factory),
                ", ".join(x.value for x in c.categories),
                Text(c.description[:48] + "…"),
            )
        console.print(table)
        from intake.demo.relay import run_relay_demo

        partner = run_relay_demo(settings, keys, passphrase, console)
        from intake.demo.remedy import resolve_one

        resolved = resolve_one(settings, keys, receipts[0])  # issue 15: the worker is asked whether it happened
        if resolved:
            console.print(
                d_(
                    "Case {id} went from new to remedy to resolved, with back pay; the status page of receipt "
                    "{receipt} now asks the worker whether it happened."
                ).format(id=resolved, receipt=receipts[0])
            )
            from intake.demo.confirm import confirm_and_relay

            confirmed = confirm_and_relay(settings, keys, passphrase, partner, base, receipts[0], resolved)
            if confirmed:
                console.print(
                    d_("The worker of case {id} answered on the status page: yes, it happened.").format(id=resolved)
                )
                console.print(
                    d_(
                        "A coordinator approved its changed summary and the node pushed it: the partner lists case "
                        "{ref} as {state}, and its remedy record counts it as confirmed by the worker "
                        "({factory}: {shown}; counts under 5 show as <5)."
                    ).format(ref=confirmed.case_ref, state=confirmed.remedy_state, factory=confirmed.factory,
                             shown=confirmed.shown),
                    highlight=False,
                    markup=False,  # a factory's name may hold [brackets]
                )  # fmt: skip
        from intake.demo.remedy import retaliation_check_in

        closed, opened = retaliation_check_in(settings, keys, base, receipts[1])
        if opened:
            console.print(
                d_(
                    "The worker of case {id} answered a retaliation check-in: yes, punished for reporting. "
                    "Urgent case {new} was opened, linked to it."
                ).format(id=closed, new=opened)
            )
        # A node is healthy only with a backup (intake doctor): the demo's sits beside its folder.
        backup = write_backup(settings, keys, home.parent / f"{home.name}.backup")
        console.print(
            dn_(
                "Backup written to {path}: {cases} case, {size} bytes.",
                "Backup written to {path}: {cases} cases, {size} bytes.",
                backup.cases,
            ).format(path=home.parent / f"{home.name}.backup", cases=backup.cases, size=backup.size)
        )
        console.print()
        console.print(d_("Try it:"))
        console.print("  " + d_("Report form: {url}").format(url=f"{base}/report"))
        console.print("  " + d_("In Chinese: {url}").format(url=f"{base}/?lang=zh_Hans"))
        console.print(
            "  "
            + d_("Status page, with the receipt {receipt}: {url}").format(receipt=receipts[0], url=f"{base}/status")
        )
        console.print("  " + d_("API schema: {url}").format(url=f"{base}/openapi.json"))
        command = intake_command()
        console.print(
            "  "
            + d_("Cases (passphrase {p}): {intake} --home {home} cases list --user {user}").format(
                p=passphrase, intake=command, home=shlex.quote(str(home)), user=DEMO_USER
            ),
            highlight=False,
            markup=False,  # a folder may hold [brackets]
        )
        console.print(
            "  "
            + d_("Partner's cases: {intake} partner --home {home} cases list --user {user}").format(
                intake=command, home=shlex.quote(str(partner.partner_home)), user="analyst"
            ),
            highlight=False,
            markup=False,  # a folder may hold [brackets]
        )
        console.print(
            "  "
            + d_("Partner's remedy record: {intake} partner --home {home} report --remedy --user {user}").format(
                intake=command, home=shlex.quote(str(partner.partner_home)), user="analyst"
            ),
            highlight=False,
            markup=False,  # a folder may hold [brackets]
        )
        console.print("  " + d_("Demo passphrase for user {user}: {p}").format(user=DEMO_USER, p=passphrase))
        if desk_sock is None:
            return
        from intake.desk import create_desk_app

        desk_url = f"http://127.0.0.1:{desk_sock.getsockname()[1]}"
        desk_server, desk_thread = start_server(create_desk_app(settings), desk_sock)
        console.print(
            d_("Caseworkers' desk: {url} (unlock as {user} with the passphrase above)").format(
                url=desk_url, user=DEMO_USER
            )
        )
        console.print(d_("Serving on {url}. Press Ctrl-C to stop.").format(url=base))
        try:
            while thread.is_alive():
                thread.join(0.5)
        finally:
            desk_server.should_exit = True
            desk_thread.join(10)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        thread.join(10)
        media.close()
        if desk_sock is not None:
            desk_sock.close()
