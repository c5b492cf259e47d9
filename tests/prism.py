"""The Twilio contract tier: Stoplight Prism serving Twilio's own OpenAPI spec on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, require_tier

ROOT = Path(__file__).resolve().parents[1]
SPEC_REL = "@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json"


def _find() -> tuple[str, Path] | None:
    roots = [ROOT / ".ci" / "node" / "node_modules", ROOT / "node_modules"]
    for r in roots:
        prism, spec = r / ".bin" / "prism", r / SPEC_REL
        if prism.exists() and spec.exists():
            return str(prism), spec
    prism_path = shutil.which("prism")
    for r in roots:
        if prism_path and (r / SPEC_REL).exists():
            return prism_path, r / SPEC_REL
    return None


@pytest.fixture(scope="session")
def prism() -> Iterator[str]:
    if not shutil.which("node"):
        require_tier("contract", "Node.js is not installed")
    found = _find()
    if found is None:
        require_tier(
            "contract", "Prism and Twilio's spec are not installed (see .ci/run: npm install --prefix .ci/node)"
        )
        raise AssertionError("unreachable")
    binary, spec = found
    port = free_port()
    proc = subprocess.Popen(
        [binary, "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("Prism did not start", pytrace=False)
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
