"""Evidence files on the desk's relay page (issue 16 item 7): the copy that would leave is shown from
memory with the desk's headers, a coordinator approves one file for one partner, bound to that copy."""

from __future__ import annotations

import hashlib
import html
import io
import re

from fastapi.testclient import TestClient
from PIL import Image

from crypto import Keyring, Role
from i18n import d_
from intake.desk.app import create_desk_app
from relay.files import MAX_SIDE
from tests.conftest import TEST_PROFILE, Node
from tests.intake.desk import cases_store, csrf_of, login
from tests.intake.desk.test_relay_desk import add_partner, consented_case, desk  # noqa: F401 - fixture
from tests.relay.test_relay_files import EXIF_MARKER, add_file, pdf, photo


def approvals(node: Node) -> list[tuple[object, ...]]:
    with cases_store(node) as store:
        return [
            tuple(r) for r in store._conn.execute("SELECT case_id, n, partner_id, sha256 FROM relay_file_approvals")
        ]


def test_the_page_shows_the_copy_that_would_leave_and_approves_it(node: Node, desk: TestClient) -> None:  # noqa: F811
    add_partner(node)
    case_id = consented_case(node)
    with cases_store(node) as store:
        n = add_file(store, case_id, photo(), keep_original=True)
        doc = add_file(store, case_id, pdf())
    page = desk.get(f"/cases/{case_id}/relay")
    assert page.status_code == 200
    assert f'src="/cases/{case_id}/relay/files/{n}"' in page.text
    assert f"/relay/files/{doc}" not in page.text
    why = "Documents (PDF, office files) cannot be sent to partners in this version: they may carry their author's details."
    assert d_(why) in html.unescape(page.text)
    copy = desk.get(f"/cases/{case_id}/relay/files/{n}")
    assert copy.status_code == 200 and copy.headers["content-type"] == "image/jpeg"
    assert copy.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in copy.headers["content-security-policy"]
    assert copy.headers["content-disposition"].startswith("inline; filename=")
    assert max(Image.open(io.BytesIO(copy.content)).size) == MAX_SIDE and EXIF_MARKER not in copy.content
    digest = hashlib.sha256(copy.content).hexdigest()
    assert digest in page.text, "the page names the copy it shows"
    assert desk.get(f"/cases/{case_id}/relay/files/{doc}").status_code == 404
    token = csrf_of(page.text)
    partner = re.search(r'name="partner" value="(\d+)"', page.text)
    assert partner
    stale = desk.post(
        f"/cases/{case_id}/relay/files/{n}/approve", data={"csrf": token, "partner": partner[1], "sha256": "0" * 64}
    )
    assert stale.status_code == 409 and approvals(node) == []
    forged = desk.post(
        f"/cases/{case_id}/relay/files/{n}/approve", data={"csrf": "forged", "partner": partner[1], "sha256": digest}
    )
    assert forged.status_code == 403 and approvals(node) == []
    ok = desk.post(
        f"/cases/{case_id}/relay/files/{n}/approve", data={"csrf": token, "partner": partner[1], "sha256": digest}
    )
    assert ok.status_code == 200
    assert approvals(node) == [(case_id, n, int(partner[1]), digest)]
    with cases_store(node) as store:
        seen = store._conn.execute(
            "SELECT count(*) FROM audit WHERE action = 'relay_file_view' AND case_id = ?", (case_id,)
        ).fetchone()[0]
    assert seen >= 1, "looking at the copy is audited"


def test_only_a_coordinator_sees_or_approves_a_file(node: Node) -> None:
    add_partner(node)
    case_id = consented_case(node)
    with cases_store(node) as store:
        n = add_file(store, case_id, photo(400, 300))
    ring = Keyring.load(node.settings.keyring_path)
    ring.add_user(node.keys, "worker1", "caseworker passphrase 1", role=Role.CASEWORKER, profile=TEST_PROFILE)
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as client:
        assert login(client, node, "worker1", "caseworker passphrase 1").status_code == 303
        assert client.get(f"/cases/{case_id}/relay/files/{n}").status_code == 403
        token = csrf_of(client.get("/cases").text)
        r = client.post(
            f"/cases/{case_id}/relay/files/{n}/approve", data={"csrf": token, "partner": "1", "sha256": "0"}
        )
        assert r.status_code == 403
    assert approvals(node) == []
