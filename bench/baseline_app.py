"""The bare baseline the intake is measured against (bench/README.md).

A minimal FastAPI app with the same durability as the intake's inbox and none of its protections:
each report is inserted as it came (raw JSON, or the form fields as JSON; for ``POST /twilio/sms``
the webhook's form fields as JSON, answered with a fixed TwiML message) into one SQLCipher table,
raw 256-bit key, ``journal_mode = WAL``, ``synchronous = FULL``, one connection behind a lock, in
plain ``def`` endpoints (FastAPI runs them in its thread pool, as the intake runs ``accept_report``).

No sealing, no receipt hash, no validation model, no CSRF, no security headers, no rate limit, no
body limit, no request log; for SMS no signature check, no de-duplication, no conversation state.

Run: ``python bench/baseline_app.py --db /tmp/x/baseline.db --port 8765`` (loopback only).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import threading
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

import sqlcipher3
import uvicorn
from fastapi import FastAPI, Form
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

TWIML_OK = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


class Store:
    """One SQLCipher connection and one lock, like ``intake.store.inbox.Inbox``."""

    def __init__(self, path: Path, key: bytes) -> None:
        self._conn = sqlcipher3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS reports (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        self._lock = threading.Lock()

    def insert(self, body: str) -> int:
        with self._lock:
            cur = self._conn.execute("INSERT INTO reports (body) VALUES (?)", (body,))  # autocommit, fsync'd
            return int(cur.lastrowid)

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM reports").fetchone()[0])


def create_app(db: Path) -> FastAPI:
    store = Store(db, secrets.token_bytes(32))  # throwaway database: the key dies with the process
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/reports", status_code=201)
    def post_report(report: dict[str, Any]) -> JSONResponse:
        row = store.insert(json.dumps(report, ensure_ascii=False))
        return JSONResponse({"id": row}, status_code=201)

    @app.post("/report")
    def post_form(
        description: Annotated[str, Form()] = "",
        factory: Annotated[str, Form()] = "",
        location: Annotated[str, Form()] = "",
        categories: Annotated[list[str] | None, Form()] = None,
        consent: Annotated[str, Form()] = "0",
        name: Annotated[str, Form()] = "",
        phone: Annotated[str, Form()] = "",
        contact_ok: Annotated[str, Form()] = "",
    ) -> JSONResponse:
        fields = {
            "description": description,
            "factory": factory,
            "location": location,
            "categories": categories or [],
            "consent": consent,
            "name": name,
            "phone": phone,
            "contact_ok": contact_ok,
        }
        row = store.insert(json.dumps(fields, ensure_ascii=False))
        return JSONResponse({"id": row}, status_code=201)

    @app.post("/twilio/sms")
    async def twilio_sms(request: Request) -> Response:
        # The least a durable SMS webhook does: parse the form as the intake does, store it, answer
        # TwiML. The insert runs in the thread pool, as the intake runs handle_inbound.
        body = await request.body()
        fields = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace"))
        await run_in_threadpool(store.insert, json.dumps(fields, ensure_ascii=False))
        return Response(TWIML_OK, media_type="application/xml")

    @app.get("/count")
    def count() -> dict[str, int]:
        return {"count": store.count()}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("the baseline listens on loopback only")
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the SIGINT it shut down on
        uvicorn.run(create_app(args.db), host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
