"""Schema-driven fuzzing of the JSON API: every operation in ``/openapi.json``, valid and invalid data.

Schemathesis reads the schema the intake itself serves, generates requests from it (its coverage
cases: boundaries, missing and wrong-typed fields, other content types; then hypothesis-drawn
positive data the schema allows and negative data it forbids) and sends them over real HTTP to the
intake app under uvicorn on 127.0.0.1. Each response must be no 5xx, a documented status with the
documented content type, headers and body, and data the schema forbids must be refused with a 4xx.
No response and no log line (every logger at DEBUG) may contain the text that was submitted or any
receipt code, and nothing may be logged at ERROR.

(Schemathesis' own pytest plugin, ``from_fixture``, does not run under pytest 9, so the operations
are driven here through its public ``as_strategy`` and coverage-case API.)
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from channels.server import create_intake_app
from intake.receipts import parse_receipt
from tests.conftest import Node
from tests.fuzz.conftest import LogWatch, distinctive, fuzz_settings, receipts_in

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

# Operation -> hypothesis examples (positive and negative drawn together). The bodies that store
# something get the most; a new operation in the schema fails test_every_operation_is_fuzzed.
OPERATIONS = {
    "POST /api/v1/reports": 300,
    "POST /api/v1/followups": 100,
    "POST /api/v1/status": 100,
    "POST /api/v1/answers": 100,  # issue 15: a worker's answer to a status-board question
    "GET /healthz": 5,
}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    # Data the schema forbids is refused with a 4xx. Not its twin positive_data_acceptance: data the
    # schema allows may still be refused on purpose (an unknown locale, a receipt failing its check
    # digit, contact_ok without a phone, an Idempotency-Key reused with another body), each a
    # documented 400 or 422.
    negative_data_rejection,
]


@pytest.fixture
def live_api(fuzz_node: Node) -> Iterator[str]:
    """The intake app under a real uvicorn on 127.0.0.1 (a free port), in this process so that its
    log records reach caplog."""
    from intake.demo.servers import start_server

    app = create_intake_app(fuzz_node.settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server, thread = start_server(app, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


# Refusals that count as rejecting data the schema forbids: schemathesis' own list, plus 413. A
# multipart body with more files than the node takes (issue 16) is refused with 413 while it arrives,
# before any other field is looked at, so a case breaking some other rule may get 413 first.
REJECTED = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]


@pytest.fixture
def api_schema(live_api: str) -> Any:
    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REJECTED}}})
    return schemathesis.openapi.from_url(f"{live_api}/openapi.json", config=config)


def submitted_secrets(case: Any) -> tuple[list[str], list[str]]:
    """(texts, receipt codes) the request carried: they must come back nowhere."""
    body = case.body if isinstance(case.body, dict) else {}
    texts: list[str] = []
    for name in ("description", "text", "factory", "location", "name", "phone"):
        texts += distinctive(body.get(name))
    codes = []
    typed = body.get("receipt")
    if isinstance(typed, str):
        texts += distinctive(typed, at_least=16)
        code = parse_receipt(typed)
        if code is not None:
            codes.append(str(code))
    return texts, codes


def call_and_check(case: Any, logs: LogWatch) -> int:
    logs.start()
    response = case.call_and_validate(checks=CHECKS, timeout=30)
    texts, codes = submitted_secrets(case)
    for text in texts:
        assert text not in response.text, "the response echoes what was submitted"
    for code in codes:
        assert code not in response.text.replace("-", ""), "the response echoes the receipt code"
    logs.check(secrets=texts, codes=[*codes, *receipts_in(response.text)])
    return int(response.status_code)


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS), "give each operation in the schema an example budget in OPERATIONS"


@pytest.mark.parametrize("label", list(OPERATIONS))
def test_every_operation_holds_its_schema_and_keeps_quiet(label: str, api_schema: Any, logs: LogWatch) -> None:
    operation = api_schema.find_operation_by_label(label)
    has_input = bool(operation.body) or any(True for _ in operation.iter_parameters())
    modes = list(GenerationMode) if has_input else [GenerationMode.POSITIVE]
    statuses: Counter[int] = Counter()

    # 1. Schemathesis' coverage cases: deterministic boundaries and violations of every keyword.
    config = api_schema.config.generation_for(operation=operation)
    for case in api_schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=config):
        statuses[call_and_check(case, logs)] += 1

    # 2. Hypothesis-drawn data, both sides of the schema.
    @fuzz_settings(OPERATIONS[label])
    @given(case=st.one_of([operation.as_strategy(generation_mode=mode) for mode in modes]))
    def fuzz(case: Any) -> None:
        statuses[call_and_check(case, logs)] += 1

    fuzz()
    assert logs.saw_lines(), "no log line was captured: the log checks checked nothing"
    # The fuzzer got past validation as well as being refused by it: it tested the handlers too.
    assert any(200 <= s < 300 for s in statuses), statuses
    if has_input:
        assert any(400 <= s < 500 for s in statuses), statuses


# Found by this tier (negative_data_rejection): pydantic's lax mode turns JSON values the schema
# forbids into a consent decision. `"consent": true` is a boolean, not one of 0, 1, 2, yet it became 1
# (a summary shared with partners), and "2" became 2 (shared with the worker's name). Consent must
# never be guessed from a value of the wrong type: refuse it, as the schema says.
@pytest.mark.parametrize(
    "field",
    [
        {"consent": True},
        {"consent": False},
        {"consent": "2"},
        {"consent": 1.0},
        {"contact_ok": 1, "phone": "+15550002222"},
        {"contact_ok": "yes", "phone": "+15550002222"},
    ],
    ids=repr,
)
def test_the_api_refuses_json_types_its_schema_forbids(fuzz_client: Any, field: dict[str, Any]) -> None:
    inbox = fuzz_client.app.state.service.inbox
    response = fuzz_client.post("/api/v1/reports", json={"description": "Synthetic: wages unpaid.", **field})
    assert response.status_code == 400, f"{field} was taken as {response.status_code}: {response.text}"
    assert inbox.count() == 0
