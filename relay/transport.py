"""Getting queued envelopes to partners: HTTPS push with retries, or files for a USB stick.

Push: ``POST {url}/relay/v1/envelopes`` with the partner's bearer token, the envelope as the
body and the node's push signature over it (``Intake-Push-Signature``, crypto/push.py). The partner's inbox answers 200 with a receipt signed by its receipt key; only a receipt that
verifies (for this envelope id, under the receipt key registered with the partner) marks the
envelope delivered. Sending is idempotent by envelope id, so a retry after a lost answer is safe.
Failures back off exponentially with jitter (30 s doubling to 6 h); a refusal that will not heal by
itself (401/403/404/413/422) waits the longest. Before each send the case is checked again: an
envelope whose worker withdrew consent since approval is cancelled, never sent.

Each push then collects what the partners wrote back (``relay.inbound.collect``): messages about
cases, verified and stored in cases.db, each acknowledged to the partner's inbox.

Export: every envelope not yet delivered is written as ``<envelope id>.envelope`` (sealed; safe on
a USB stick); the partner's ``intake partner import DIR`` reads them. A partner that takes both
routes sees a duplicate as a replay and keeps one copy.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from nacl.signing import VerifyKey

from crypto.envelope import EnvelopeError, verify_receipt
from crypto.files import write_private_file
from crypto.push import HEADER as PUSH_HEADER
from crypto.push import sign_push
from intake import clock
from relay.inbound import CollectReport, Inbound, collect
from relay.outbox import Outbox

log = logging.getLogger("intake.relay")
PATH = "/relay/v1/envelopes"
FIRST_RETRY = 30.0
MAX_RETRY = 6 * 3600.0
PERMANENT = {401, 403, 404, 413, 422}
SUFFIX = ".envelope"


@dataclass
class PushReport:
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    cancelled: dict[str, str] = field(default_factory=dict)
    waiting: int = 0  # not due yet (backing off) or partner without a URL
    messages: CollectReport = field(default_factory=CollectReport)  # what the partners sent back


def backoff(attempts: int, *, permanent: bool = False, rand: Callable[[], float] = random.random) -> timedelta:
    """Exponential back-off with full jitter between half and all of the step."""
    step = MAX_RETRY if permanent else min(MAX_RETRY, FIRST_RETRY * 2 ** min(attempts, 20))
    return timedelta(seconds=step * (0.5 + 0.5 * rand()))


def push(outbox: Outbox, client: httpx.Client, *, now: datetime | None = None, force: bool = False) -> PushReport:
    """Send every due envelope once. ``force`` ignores the back-off schedule (an operator's retry)."""
    now = now or clock.now()
    report = PushReport()
    for row in outbox.rows(pending_only=True):
        partner, data, case_id = outbox.envelope(row.envelope_id)
        why_not = outbox.still_allowed(case_id)
        if why_not:
            outbox.cancel(row.envelope_id, why_not)
            report.cancelled[row.envelope_id] = why_not
            continue
        if not partner.url or not partner.token:
            report.waiting += 1
            continue
        if not force and datetime.fromisoformat(row.next_at) > now:
            report.waiting += 1
            continue
        try:
            response = client.post(
                partner.url + PATH,
                content=data,
                headers={
                    "Authorization": f"Bearer {partner.token}",
                    "Content-Type": "application/octet-stream",
                    # Proves to the inbox that this token's node sends it (crypto/push.py).
                    PUSH_HEADER: sign_push(data, key=outbox.keys.signing_key),
                },
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: the partner's inbox could not be reached"
            outbox.failed(row.envelope_id, error, backoff(row.attempts))
            report.failed[row.envelope_id] = error
            continue
        if response.status_code != 200:
            error = f"HTTP {response.status_code}: {_reason(response)}"
            outbox.failed(row.envelope_id, error, backoff(row.attempts, permanent=response.status_code in PERMANENT))
            report.failed[row.envelope_id] = error
            continue
        try:
            received_at = verify_receipt(
                response.content, envelope_id=row.envelope_id, key=VerifyKey(partner.receipt_key)
            )
        except EnvelopeError as exc:
            error = f"the partner's receipt does not verify ({exc.reason})"
            outbox.failed(row.envelope_id, error, backoff(row.attempts))
            report.failed[row.envelope_id] = error
            continue
        outbox.delivered(row.envelope_id, response.content, received_at)
        report.delivered.append(row.envelope_id)
    # The same exchange brings the partners' messages back: a node behind NAT is reachable only now.
    report.messages = collect(Inbound(outbox.store, outbox.keys), client)
    log.info(
        "relay push: %d delivered, %d failed, %d cancelled, %d waiting",
        len(report.delivered), len(report.failed), len(report.cancelled), report.waiting,
    )  # fmt: skip
    return report


def _reason(response: httpx.Response) -> str:
    try:
        doc = response.json()
    except ValueError:
        return "no reason given"
    reason = doc.get("reason") or doc.get("error") if isinstance(doc, dict) else None
    return str(reason)[:200] if reason else "no reason given"


def export(outbox: Outbox, folder: Path, *, partner: str | None = None) -> list[Path]:
    """Write every undelivered, still-allowed envelope into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    ids: list[str] = []
    for row in outbox.rows(pending_only=True):
        if partner and row.partner != partner:
            continue
        _p, data, case_id = outbox.envelope(row.envelope_id)
        why_not = outbox.still_allowed(case_id)
        if why_not:
            outbox.cancel(row.envelope_id, why_not)
            continue
        path = folder / f"{row.envelope_id}{SUFFIX}"
        write_private_file(path, data)
        written.append(path)
        ids.append(row.envelope_id)
    if ids:  # each file was fsynced with its folder: a stick pulled now holds every one
        outbox.exported(ids)
    return written
