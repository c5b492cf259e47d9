"""The worker web channel: no-JS pages, a JSON API, strict headers (the server is channels/server.py)."""
