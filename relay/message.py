"""What a partner says to a node about one case: the payload of a partner message (``crypto.message``).

Schema ``grievance-intake/partner-message/v1``, canonical JSON (sorted keys, no spaces, UTF-8):

- ``kind``: ``question``, ``brand_response``, ``buyer_response``, ``escalation_decision`` or
  ``update_request``;
- ``case_ref``: the case reference the partner received with the summary (16 base32 letters), which
  only the node that sent it can map back to a case;
- ``text``: 1 to :data:`MAX_TEXT` characters, for the caseworker (never shown to the worker as it is);
- ``created_at``: the partner's clock, ``YYYY-MM-DDTHH:MM:SSZ``, the same second as the sealed
  message's own time. Information only: the node records its own ``received_at`` beside it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

FORMAT = "grievance-intake/partner-message/v1"
KINDS = ("question", "brand_response", "buyer_response", "escalation_decision", "update_request")
Kind = Literal["question", "brand_response", "buyer_response", "escalation_decision", "update_request"]
MAX_TEXT = 4000
CASE_REF = r"^[a-z2-7]{16}$"
_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"


class PartnerMessage(BaseModel):
    """One message from a partner about one case (schema ``grievance-intake/partner-message/v1``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["grievance-intake/partner-message/v1"] = "grievance-intake/partner-message/v1"
    kind: Kind
    case_ref: Annotated[str, StringConstraints(pattern=CASE_REF)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
    created_at: Annotated[str, StringConstraints(pattern=_TIME)]

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text is empty")
        return value

    @field_validator("created_at")
    @classmethod
    def _real_time(cls, value: str) -> str:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")  # a real date and time, or ValueError
        return value

    @property
    def created(self) -> datetime:
        return datetime.strptime(self.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

    def to_bytes(self) -> bytes:
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()


def stamp(when: datetime) -> str:
    """``created_at`` for a message sealed at ``when`` (whole seconds, UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
