"""The unlock form's guard: refused from another site before any passphrase is tried, and one
unlock attempt at a time.

Before unlocking there is no session, so the session's form token cannot protect ``POST /login``.
Without this guard any web page a caseworker opens could post passphrase guesses to the desk on
127.0.0.1; each counts as a failure and grows the delay that everyone on this node then waits,
which locks the team out (issue 12). So the form carries a token signed with a key that lives only
in this process, and a browser's ``Origin`` and ``Sec-Fetch-Site`` headers, where sent, must name
the desk itself. Tries are queued here, so waiting ones hold no worker thread; the counter file's
lock (``intake.node.unlock_keyring``) serialises them with a CLI in another process too.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from intake import clock

MAX_AGE = 12 * 3600.0  # an unlock page left open longer is refused once, then shown afresh
SAME_SITE = ("same-origin", "none")  # Sec-Fetch-Site of the desk's own form, or a typed address
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def host_name(header: str | None) -> str:
    """The name in a ``Host`` header, without its port; IPv6 brackets removed; lower case."""
    value = (header or "").strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(header: str | None, extra: frozenset[str] = frozenset()) -> bool:
    """Whether a request names the desk by an address it listens on.

    DNS rebinding: a page on attacker.example whose name is made to resolve to 127.0.0.1 is
    "same-origin" with the desk in the browser's eyes, so neither the form token nor Origin stops
    it from posting guesses. Its requests carry ``Host: attacker.example``, so the desk answers
    only to loopback names and to the address it was told to listen on (``intake desk --host``).
    """
    name = host_name(header)
    return name in LOOPBACK_NAMES or name in extra


class LoginGuard:
    def __init__(self, *, now: Callable[[], float] = clock.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._key = secrets.token_bytes(32)
        self._now = now
        self.sleep = sleep  # how an unlock waits out its delay (tests record it instead)
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._queues_lock = threading.Lock()

    def token(self) -> str:
        """A token for one rendering of the unlock form."""
        issued = str(max(0, int(self._now())))
        return f"{issued}.{self._mac(issued)}"

    def valid(self, token: str) -> bool:
        issued, _, mac = token.partition(".")
        if len(token) > 100 or not issued.isdigit() or not 0 <= self._now() - int(issued) <= MAX_AGE:
            return False
        return hmac.compare_digest(mac.encode(), self._mac(issued).encode())

    @staticmethod
    def cross_site(headers: Mapping[str, str]) -> bool:
        """True when the browser says the form was sent from a page that is not the desk's own.

        No page can set these headers. ``Sec-Fetch-Site`` must say the desk's own origin (or an
        address typed by hand), and an ``Origin`` must name this host. ``Origin: null`` proves
        nothing either way (the desk's own ``Referrer-Policy: no-referrer`` makes Chromium send it
        for the desk's own form); the form token decides then, as it does for a browser sending
        neither header.
        """
        site = headers.get("sec-fetch-site")
        if site is not None and site.strip().lower() not in SAME_SITE:
            return True
        origin = (headers.get("origin") or "null").strip().lower()
        if origin == "null":
            return False
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:
            return True
        return netloc != (headers.get("host") or "").strip().lower()

    def queue(self) -> asyncio.Lock:
        """The lock unlock attempts take turns on (first come, first served), one per event loop."""
        loop = asyncio.get_running_loop()
        with self._queues_lock:
            found = self._queues.get(loop)
            if found is None:
                found = self._queues[loop] = asyncio.Lock()
            return found

    def _mac(self, issued: str) -> str:
        return hmac.new(self._key, b"intake/v1/desk-login\x00" + issued.encode(), hashlib.sha256).hexdigest()
