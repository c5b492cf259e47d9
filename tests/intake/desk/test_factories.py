"""The factories register: Open Supply Hub CSV import (all or nothing, row-level errors),
re-import, search, merge, linking cases, through the store, the desk and the CLI.

Real SQLCipher stores of a throwaway node; synthetic factories (no real OS IDs or addresses).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from intake.desk.app import create_desk_app
from intake.desk.factories import row_messages
from intake.errors import CsvRejected, FactoryNotFound
from intake.store.factories import Factories, parse_csv
from tests.conftest import PASSPHRASE, Node, drain_node
from tests.intake.desk import audit_rows, cases_store, csrf_of, login, report, verify

HEADER = "os_id,contribution_date,name,address,country_code,country_name,parent_company,contributors\n"
GOOD = (
    HEADER
    + "CN2020000AAAAAA,2023-01-01,Synthetic Garment Co. One,1 Test Road,cn,China,Example Holdings,Brand A|Brand B\n"
    + 'CN2020000BBBBBB,2023-01-01,"Synthetic Shoes, Two",2 Test Road,CN,China,,Brand C\n'
    + ",2023-01-01,合成电子厂,3 Test Road,CN,China,,\n"
)


def rows(node: Node) -> list[tuple[Any, ...]]:
    with cases_store(node) as store:
        return [
            tuple(r)
            for r in store._conn.execute(
                "SELECT id, name, address, country, parent_company, brands, osh_id, merged_into FROM factories ORDER BY id"
            ).fetchall()
        ]


@pytest.fixture
def register(node: Node) -> Iterator[Factories]:
    with cases_store(node) as store:
        yield Factories(store, node.keys)


def one_case(node: Node, description: str) -> int:
    report(node, description)
    _result, cases = drain_node(node)
    return int(max(c.id for c in cases if c.description == description))


def case_factory(node: Node, case_id: int) -> Any:
    with cases_store(node) as store:
        return store._conn.execute("SELECT factory_id FROM cases WHERE id = ?", (case_id,)).fetchone()[0]


# -- import -----------------------------------------------------------------------------------------


def test_a_valid_open_supply_hub_csv_is_imported_and_audited(node: Node, register: Factories) -> None:
    result = register.import_csv(GOOD.encode())
    assert (result.added, result.updated) == (3, 0)
    got = rows(node)
    assert [r[1] for r in got] == ["Synthetic Garment Co. One", "Synthetic Shoes, Two", "合成电子厂"]
    assert got[0][3] == "CN" and got[0][4] == "Example Holdings" and got[0][6] == "CN2020000AAAAAA"
    assert register.get(got[0][0]).brands == ("Brand A", "Brand B")
    assert got[2][6] is None, "a row without os_id is added without one"
    entries = [r for r in audit_rows(node) if r[3] == "factory.import"]
    assert len(entries) == 1 and '"added":3' in str(entries[0])
    assert "Synthetic" not in str(audit_rows(node)), "no names in the audit log"
    assert verify(node).ok


def test_column_names_are_matched_leniently(register: Factories) -> None:
    csv = "\ufeffOS ID,Facility Name,Address,Country,Brands\nBD2021000CCCCCC,Synthetic Knit,4 Test Lane,BD,X;Y\n"
    assert register.import_csv(csv.encode()).added == 1
    (f,) = register.find()
    assert (f.osh_id, f.name, f.country, f.brands) == ("BD2021000CCCCCC", "Synthetic Knit", "BD", ("X", "Y"))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not_text"),
        (b"", "no_header"),
        (b'os_id,name\n"CN2020000AAAAAA,unterminated', "not_csv"),
        (b"os_id,address,country_code\nCN2020000AAAAAA,1 Test Road,CN\n", "no_name_column"),
        (b"os_id,name\n\n\n", "no_rows"),
    ],
)
def test_a_malformed_csv_is_refused_whole(node: Node, register: Factories, data: bytes, problem: str) -> None:
    with pytest.raises(CsvRejected) as caught:
        register.import_csv(data)
    assert [e.problem for e in caught.value.errors] == [problem]
    assert row_messages(caught.value.errors)[0]
    assert rows(node) == []
    assert not [r for r in audit_rows(node) if r[3] == "factory.import"]


def test_a_partly_valid_csv_imports_nothing_and_names_every_bad_row(node: Node, register: Factories) -> None:
    register.import_csv(GOOD.encode())
    before = rows(node)
    bad = (
        HEADER
        + "CN2020000DDDDDD,2023-01-01,Synthetic New Factory,5 Test Road,CN,China,,\n"  # row 2: fine
        + "CN2020000AAAAAA,2023-01-01,Renamed One,1 Test Road,CN,China,,\n"  # row 3: fine (an update)
        + "CN2020000EEEEEE,2023-01-01,,6 Test Road,CN,China,,\n"  # row 4: no name
        + "CN2020000DDDDDD,2023-01-01,Synthetic Again,7 Test Road,CN,China,,\n"  # row 5: repeats row 2
        + "not an id!,2023-01-01,Synthetic Bad Id,8 Test Road,CN,China,,\n"  # row 6: malformed id
        + "CN2020000FFFFFF,2023-01-01,"
        + "x" * 400
        + ",9 Test Road,CN,China,,\n"  # row 7: name too long
        + "CN2020000GGGGGG,2023-01-01,Extra,9 Test Road,CN,China,,,surplus\n"  # row 8: extra field
    )
    with pytest.raises(CsvRejected) as caught:
        register.import_csv(bad.encode())
    messages = row_messages(caught.value.errors)
    assert messages == [
        "row 4: name is empty",
        "row 5: os_id CN2020000DDDDDD repeats row 2",
        "row 6: os_id NOT AN ID! is not an Open Supply Hub id",
        "row 7: name is too long",
        "row 8: more fields than the header has columns",
    ]
    assert rows(node) == before, "nothing half-imported: not even the good rows or the update"


def test_reimport_updates_by_os_id(node: Node, register: Factories) -> None:
    register.import_csv(GOOD.encode())
    again = HEADER + "CN2020000AAAAAA,2024-01-01,Synthetic Garment Co. One Ltd,10 New Road,CN,China,,Brand D\n"
    result = register.import_csv(again.encode())
    assert (result.added, result.updated) == (0, 1)
    got = rows(node)
    assert len(got) == 3
    assert got[0][1:3] == ("Synthetic Garment Co. One Ltd", "10 New Road")
    assert register.get(got[0][0]).brands == ("Brand D",)


def test_size_limit(register: Factories, monkeypatch: pytest.MonkeyPatch) -> None:
    import intake.store.factories as mod

    monkeypatch.setattr(mod, "MAX_CSV_BYTES", 100)
    with pytest.raises(CsvRejected) as caught:
        parse_csv(GOOD.encode())
    assert caught.value.errors[0].problem == "too_large"


# -- search, merge, link -------------------------------------------------------------------------------


def test_search(register: Factories) -> None:
    register.import_csv(GOOD.encode())
    assert [f.name for f in register.find("shoes")] == ["Synthetic Shoes, Two"]
    assert [f.name for f in register.find("Brand A")] == ["Synthetic Garment Co. One"]
    assert [f.name for f in register.find("电子")] == ["合成电子厂"]
    assert [f.name for f in register.find("cn2020000bb")] == ["Synthetic Shoes, Two"]
    assert register.find("100%_") == []


def test_merge_relinks_cases_hides_the_duplicate_and_is_audited(node: Node, register: Factories) -> None:
    case_a, case_b = one_case(node, "Synthetic report one."), one_case(node, "Synthetic report two.")
    keep = register.add("Synthetic Mill")
    drop = register.add("Synthetic Mill (duplicate)", osh_id="PK2020000HHHHHH")
    register.link(case_a, keep)
    register.link(case_b, drop)
    assert register.merge(keep, drop) == 1
    assert case_factory(node, case_b) == keep
    assert register.get(drop).merged_into == keep
    assert [f.id for f in register.find("Synthetic Mill")] == [keep], "the duplicate is hidden"
    assert register.get(keep).osh_id == "PK2020000HHHHHH", "the OS ID moves to the kept factory"
    assert register.cases_of(keep)[0][0] in (case_a, case_b) and len(register.cases_of(keep)) == 2
    actions = [(r[3], r[4]) for r in audit_rows(node)]
    assert ("factory.merge", None) in actions and ("factory.link", case_b) in actions
    assert verify(node).ok
    # Linking to the merged one lands on the kept one; merging again is refused.
    register.link(case_a, drop)
    assert case_factory(node, case_a) == keep
    with pytest.raises(Exception, match="merged"):
        register.merge(keep, drop)
    with pytest.raises(FactoryNotFound):
        register.link(case_a, 9999)


# -- the desk -------------------------------------------------------------------------------------------


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as c:
        assert login(c, node).status_code == 303
        yield c


def test_desk_import_list_and_search(node: Node, client: TestClient) -> None:
    page = client.get("/factories")
    assert page.status_code == 200 and 'href="/factories"' in page.text
    token = csrf_of(page.text)
    response = client.post(
        "/factories/import", data={"csrf": token}, files={"file": ("osh.csv", GOOD.encode(), "text/csv")}
    )
    assert response.status_code == 200 and "Synthetic Shoes, Two" in response.text
    assert len(rows(node)) == 3
    found = client.get("/factories", params={"q": "garment"}).text
    assert "Synthetic Garment Co. One" in found and "Synthetic Shoes" not in found
    bad = HEADER + "CN2020000JJJJJJ,2023-01-01,Fine,1 Road,CN,China,,\nCN2020000KKKKKK,2023-01-01,,2 Road,CN,China,,\n"
    response = client.post(
        "/factories/import", data={"csrf": token}, files={"file": ("osh.csv", bad.encode(), "text/csv")}
    )
    assert response.status_code == 400 and "row 3: name is empty" in response.text
    assert len(rows(node)) == 3
    # Without the token: refused, nothing imported.
    response = client.post(
        "/factories/import", data={"csrf": "wrong"}, files={"file": ("osh.csv", bad.encode(), "text/csv")}
    )
    assert response.status_code == 403 and len(rows(node)) == 3


def test_desk_link_needs_csrf(node: Node, client: TestClient) -> None:
    case_id = one_case(node, "Synthetic report for linking.")
    with cases_store(node) as store:
        factory_id = Factories(store, node.keys).add("Synthetic Linked Factory")
    before = audit_rows(node)
    response = client.post(f"/cases/{case_id}/factory", data={"factory_id": str(factory_id)}, follow_redirects=False)
    assert response.status_code == 403
    response = client.post(
        f"/cases/{case_id}/factory", data={"factory_id": str(factory_id), "csrf": "forged"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert case_factory(node, case_id) is None and audit_rows(node) == before
    token = csrf_of(client.get("/factories").text)
    response = client.post(
        f"/cases/{case_id}/factory", data={"factory_id": str(factory_id), "csrf": token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case_id}"
    assert case_factory(node, case_id) == factory_id
    assert [r for r in audit_rows(node) if r[3] == "factory.link" and r[4] == case_id]
    page = client.get(f"/factories/{factory_id}").text
    assert f'href="/cases/{case_id}"' in page
    assert client.get("/factories/9999").status_code == 404
    # The factory page's own link form does the same.
    other = client.post("/factories", data={"csrf": token, "name": "Synthetic Other"}, follow_redirects=False)
    assert other.status_code == 303
    other_id = int(other.headers["location"].rsplit("/", 1)[1])
    assert client.post(f"/factories/{other_id}/link", data={"csrf": token, "case_id": str(case_id)}).status_code == 200
    assert case_factory(node, case_id) == other_id
    assert client.post(f"/factories/{other_id}/link", data={"csrf": token, "case_id": "x"}).status_code == 400
    # The case page offers the register, with the linked factory selected.
    case_page = client.get(f"/cases/{case_id}").text
    assert f'action="/cases/{case_id}/factory"' in case_page
    assert f'<option value="{other_id}" selected>Synthetic Other</option>' in case_page
    assert f'<option value="{factory_id}">Synthetic Linked Factory</option>' in case_page


def test_desk_edit_and_merge(node: Node, client: TestClient) -> None:
    with cases_store(node) as store:
        reg = Factories(store, node.keys)
        keep, drop = reg.add("Synthetic A"), reg.add("Synthetic A duplicate")
    token = csrf_of(client.get(f"/factories/{keep}").text)
    response = client.post(
        f"/factories/{keep}/update",
        data={"csrf": token, "name": "Synthetic A Ltd", "country": "VN", "brands": "One\nTwo"},
    )
    assert response.status_code == 200 and "Synthetic A Ltd" in response.text
    response = client.post(f"/factories/{keep}/merge", data={"csrf": token, "other": str(drop)})
    assert response.status_code == 200
    assert "Synthetic A duplicate" not in client.get("/factories").text
    assert client.post(f"/factories/{keep}/merge", data={"csrf": token, "other": str(keep)}).status_code == 400


# -- the CLI --------------------------------------------------------------------------------------------


def intake(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(INTAKE_PASSPHRASE=PASSPHRASE, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", "--home", str(node.settings.home), *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60, check=False,
    )  # fmt: skip


def test_cli_import(node: Node, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(HEADER + ",2023-01-01,,1 Road,CN,China,,\n", encoding="utf-8")
    done = intake(node, "factories", "import", str(bad))
    assert done.returncode == 1 and "row 2: name is empty" in done.stderr and rows(node) == []
    done = intake(node, "factories", "import", str(good))
    assert done.returncode == 0, done.stderr
    assert "3 new factories" in done.stdout and len(rows(node)) == 3
