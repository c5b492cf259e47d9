"""The transports of content-free alerts (intake/alerts.py): Twilio SMS, SMTP e-mail, ntfy push.

Each is a :data:`intake.alerts.Send`, ``send(recipient, subject, body)``, that raises on any
failure (the sender retries with back-off) and has its own timeout, so a service that hangs holds
the sender's thread for at most that long and never a worker's request. Only the settings named
in docs/alerts.md are read; no address or text is ever logged here.
"""

from __future__ import annotations

import smtplib
import ssl
from email.header import Header
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from channels.sms.twilio_rest import RewritingHttpClient, TwilioGateway
from intake.alerts import Send
from intake.errors import GatewayError
from intake.settings import Settings

TIMEOUT = 20.0  # seconds, per connection and per read


def transports(
    settings: Settings,
    *,
    ssl_context: ssl.SSLContext | None = None,
    twilio_http: RewritingHttpClient | None = None,
    timeout: float = TIMEOUT,
) -> dict[str, Send]:
    """The transports ``settings`` sets up, by name (``sms``, ``email``, ``ntfy``).

    ``ssl_context`` verifies the SMTP server's certificate (default: the system's trust store);
    ``twilio_http`` is the Twilio client's HTTP client (tests pass one that records what it sent).
    """
    out: dict[str, Send] = {}
    if settings.alert_sms_to.strip():
        out["sms"] = twilio_sms(settings, twilio_http, timeout)
    if settings.alert_email_to.strip():
        out["email"] = smtp_mail(settings, ssl_context, timeout)
    if settings.alert_ntfy_url.strip():
        out["ntfy"] = ntfy_push(settings, timeout)
    return out


def twilio_sms(settings: Settings, http: RewritingHttpClient | None = None, timeout: float = TIMEOUT) -> Send:
    """A text from the node's Twilio number, through the same gateway as the SMS replies."""
    holder: list[TwilioGateway] = []

    def send(recipient: str, subject: str, body: str) -> None:
        if not holder:  # built at the first notice: a node with no notice to send makes no client
            holder.append(
                TwilioGateway(settings, http or RewritingHttpClient(settings.twilio_api_base, timeout=timeout))
            )
        holder[0].send(recipient, body)

    return send


def smtp_mail(settings: Settings, ssl_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT) -> Send:
    """A plain-text mail through ``smtp_host``, upgraded with STARTTLS (``smtp_starttls`` = 1,
    refused if the server does not offer it), logged in when ``smtp_user`` is set."""

    def send(recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = settings.smtp_from
        message["To"] = recipient
        message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
        message.set_content(body)  # no Date header: a notice carries no time of anything
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                if not smtp.has_extn("starttls"):
                    raise GatewayError("the SMTP server does not offer STARTTLS", retry=True)
                smtp.starttls(context=ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)

    return send


def ntfy_push(settings: Settings, timeout: float = TIMEOUT) -> Send:
    """An HTTP POST of the text to an ntfy-style topic URL (``Title`` encoded per RFC 2047, as ntfy reads it)."""

    def send(recipient: str, subject: str, body: str) -> None:
        headers = {"Title": Header(subject, "utf-8").encode(), "Content-Type": "text/plain; charset=utf-8"}
        if settings.alert_ntfy_token:
            headers["Authorization"] = f"Bearer {settings.alert_ntfy_token}"
        response = httpx.post(recipient, content=body.encode("utf-8"), headers=headers, timeout=timeout)
        if response.status_code >= 300:
            raise GatewayError(f"ntfy: HTTP {response.status_code}", retry=True, http_status=response.status_code)

    return send
