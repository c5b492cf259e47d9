"""``intake sms`` and ``intake voice``: the Twilio REST side of the SMS and hotline channels."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from i18n import d_
from intake.cli.common import PassEnvOpt, PassFileOpt, UserOpt, _state, console, fail, unlock_node, unlocked_cases
from intake.errors import GatewayError
from intake.node import open_cases

sms_app = typer.Typer(help=d_("SMS through Twilio's REST API (for a node no webhook can reach)."), no_args_is_help=True)
voice_app = typer.Typer(help=d_("Hotline recordings at Twilio."), no_args_is_help=True)


@sms_app.command("pull")
def sms_pull(
    every: Annotated[
        float | None, typer.Option("--every", min=5, help=d_("Keep pulling, every this many seconds (default: once)."))
    ] = None,
) -> None:
    """Take in SMS waiting at Twilio, send queued replies, then delete them at Twilio. No passphrase needed."""
    from channels.sms.pull import pull
    from channels.sms.service import SmsChannel
    from channels.sms.twilio_rest import TwilioGateway
    from intake.logs import setup_logging
    from intake.services import IntakeService

    settings = _state.node()
    setup_logging(settings.log_level)
    try:
        gateway = TwilioGateway(settings)
    except GatewayError as exc:
        fail(str(exc))
    service = IntakeService.open(settings)
    try:
        desk = SmsChannel(service)
        while True:
            r = pull(desk, gateway)
            console.print(
                d_(
                    "Received {received}, deleted at Twilio {deleted}, redacted {redacted}; replies sent {sent}, "
                    "waiting to retry {retrying}, given up {dropped}; old replies deleted {cleaned}."
                ).format(**{k: v for k, v in vars(r).items() if k != "offline"})
            )
            if r.media or r.media_missing or r.media_later:  # MMS / WhatsApp files (issue 16)
                console.print(
                    d_(
                        "Messages with files: stored {media}, a file not served by Twilio {missing}, "
                        "left at Twilio for the next pull {later}."
                    ).format(media=r.media, missing=r.media_missing, later=r.media_later)
                )
            if r.offline:
                console.print(d_("Twilio could not be reached; everything waits for the next pull."))
            if r.whatsapp_waiting:
                console.print(
                    d_(
                        "{n} WhatsApp replies wait: the worker last wrote more than 24 hours ago, and WhatsApp "
                        "then takes only an approved template (see docs/sms.md). They go out when the worker writes again."
                    ).format(n=r.whatsapp_waiting)
                )
            if every is None:
                break
            time.sleep(every)
    finally:
        service.close()


@voice_app.command("pull")
def voice_pull(
    static_flow: Annotated[
        bool,
        typer.Option(
            "--static-flow", help=d_("Calls come from a static Twilio flow: make a report for each recording.")
        ),
    ] = False,
    keep_calls: Annotated[
        bool,
        typer.Option("--keep-calls", help=d_("Leave the hotline's call records (callers' numbers) at Twilio.")),
    ] = False,
) -> None:
    """Take in recordings waiting at Twilio (missed callbacks, or a node behind NAT), then delete them there.

    Then delete the records of finished calls to the hotline (each holds a caller's number), except
    calls whose recording is still at Twilio (not taken in yet).
    """
    from channels.sms.twilio_rest import RecordingsGateway
    from channels.voice.recordings import RecordingFetcher
    from intake.domain import Channel, Report
    from intake.logs import setup_logging
    from intake.services import IntakeService, seal_report

    settings = _state.node()
    setup_logging(settings.log_level)
    try:
        gateway = RecordingsGateway(settings)
        found = gateway.recordings()
    except GatewayError as exc:
        fail(str(exc))
    service = IntakeService.open(settings)
    fetcher = RecordingFetcher(service)
    counts: dict[str, int] = {}
    try:
        for rec in found:
            if rec.status != "completed":
                continue
            outcome = fetcher.process(rec.sid, gateway.media_url(rec.sid))
            if static_flow and outcome in ("stored", "missing"):
                report = Report(channel=Channel.VOICE, locale=settings.default_locale)
                item_id, blob, _receipt, _board = seal_report(service, report, recording_sid=rec.sid)
                service.inbox.put(item_id, blob)
            counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        fetcher.close()
        service.close()
    console.print(
        d_(
            "Recordings stored and deleted at Twilio: {stored}; already taken in: {duplicate}; could not download: {missing}."
        ).format(stored=counts.get("stored", 0), duplicate=counts.get("duplicate", 0), missing=counts.get("missing", 0))
    )
    if keep_calls or not settings.twilio_number:
        return
    try:
        waiting = {rec.call_sid for rec in gateway.recordings()}  # their recordings are still needed
        finished = gateway.finished_calls(settings.twilio_number)
        deleted = sum(gateway.delete_call(sid) for sid in finished if sid not in waiting)
    except GatewayError as exc:
        fail(str(exc))
    console.print(
        d_("Call records deleted at Twilio: {deleted}; kept for now: {kept}.").format(
            deleted=deleted, kept=len(finished) - deleted
        )
    )


@voice_app.command("retry")
def voice_retry(user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None) -> None:
    """Download again the recordings that went missing, into the cases store, then delete them at Twilio."""
    from channels.sms.twilio_rest import RecordingsGateway
    from channels.voice.recordings import BadAudio, NotReady, RecordingFetcher
    from intake.services import IntakeService

    settings = _state.settings()
    keys = unlock_node(settings, user, passphrase_file, passphrase)
    try:
        gateway = RecordingsGateway(settings)
    except GatewayError as exc:
        fail(str(exc))
    store = open_cases(settings, keys)
    service = IntakeService.open(settings)
    fetcher = RecordingFetcher(service, delays=(1.0, 2.0))  # a person is waiting: fail fast, run again later
    got = failed = 0
    try:
        for sid, _case_id, _reason in store.missing_recordings():
            try:
                fetched = fetcher.fetch(gateway.media_url(sid))
            except (BadAudio, NotReady, OSError, ValueError):
                failed += 1
                continue
            store.set_recording_audio(sid, fetched.audio, fetched.content_type)
            fetcher.delete_at_twilio(sid)
            got += 1
    finally:
        fetcher.close()
        service.close()
        store.close()
    console.print(d_("Recordings recovered: {got}; still missing: {failed}.").format(got=got, failed=failed))
    if failed:
        raise typer.Exit(2)


@voice_app.command("export")
def voice_export(
    case_id: Annotated[int, typer.Argument(help=d_("Case number."))],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Write a case's recording to standard output, to pipe into a player (e.g. '| mpv -'); never to a file here."""
    with unlocked_cases(user, passphrase_file, passphrase) as (_settings, _keys, store):
        found = store.recording_audio(case_id)
    if not found:
        fail(d_("Case {id} has no recording.").format(id=case_id))
    if sys.stdout.isatty():
        fail(d_("Pipe this into an audio player, e.g. 'intake voice export {id} | mpv -'.").format(id=case_id))
    sys.stdout.buffer.write(found[0][2])
    sys.stdout.buffer.flush()
