"""The worker-facing web channel: no-JS pages, a JSON API, strict headers."""

from channels.web.app import create_intake_app

__all__ = ["create_intake_app"]
