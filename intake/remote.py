"""A desk draining an intake on another host: the inbox's read-and-delete surface over HTTPS.

:class:`RemoteInbox` offers what :func:`intake.services.drain` needs (``items`` and ``delete``),
so the drain's guarantee holds across hosts: an item is acknowledged (deleted at the intake) only
after its case is committed here.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from intake.errors import IntakeError
from intake.node import open_inbox
from intake.settings import Settings
from intake.store.inbox import Inbox


class RemoteUnavailable(IntakeError):
    """The intake could not be reached or refused the token; nothing was lost (try again later)."""

    status = 503
    code = "remote_unavailable"


class RemoteInbox:
    def __init__(self, url: str, token: str, *, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self._client = client or httpx.Client(timeout=30)
        self._headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self._client.request(method, self.url + path, headers=self._headers, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteUnavailable(f"intake unreachable ({type(exc).__name__})") from None
        if resp.status_code != 200:
            raise RemoteUnavailable(f"intake answered HTTP {resp.status_code}")
        return resp.json()

    def items(self, limit: int = 200, after_seq: int = 0) -> list[tuple[int, str, bytes]]:
        data = self._call("GET", "/desk/v1/items", params={"after": after_seq, "limit": min(limit, 200)})
        return [(int(i["seq"]), str(i["id"]), base64.b64decode(i["blob"])) for i in data["items"]]

    def delete(self, item_ids: list[str]) -> None:
        for start in range(0, len(item_ids), 200):
            self._call("POST", "/desk/v1/items/ack", json={"ids": item_ids[start : start + 200]})

    def close(self) -> None:
        self._client.close()


def item_source(settings: Settings) -> RemoteInbox | Inbox:
    """The remote intake when this desk is paired with one, else the local inbox. Close it after."""
    if settings.desk_remote_url:
        return RemoteInbox(settings.desk_remote_url, settings.desk_remote_token)
    return open_inbox(settings)
