#!/usr/bin/env python3
"""Build a small node with the code it is run with, for tests/intake/test_upgrades.py (issue 17).

    .venv/bin/python scripts/make_release_fixture.py                 # tests/fixtures/releases/<version>/
    .venv/bin/python scripts/make_release_fixture.py --out DIR       # elsewhere

Run it once per release, from that release's checkout, so later releases are tested against stores
their predecessor really made. For an older commit, run it from a worktree of that commit with that
commit's code first on the path (the script itself may be newer than the commit):

    git worktree add /tmp/old <commit>
    cp scripts/make_release_fixture.py /tmp/old/scripts/
    (cd /tmp/old && PYTHONPATH=/tmp/old /work/main/.venv/bin/python scripts/make_release_fixture.py \\
        --out /work/main/tests/fixtures/releases/<name>)
    git worktree remove --force /tmp/old

What it makes (synthetic data only; keys made with the "insecure-test-only" KDF profile and the
documented test passphrase, so these are test fixtures, never a real node's keys):
  node/        keyring.json, intake.key, cases.db (DRAINED cases, with case work and audit entries),
               inbox.db (PENDING reports not yet drained; one with an evidence file when this release
               has intake/evidence.py)
  backup.ibk   an `intake backup` of the node, made after the drain and before the pending reports
  expected.json what a later release must find: node id, case factories, pending count, schema versions
  README.md    the passphrase and how it was made
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER, PASSPHRASE, PROFILE = "admin", "correct horse battery staple", "insecure-test-only"
DRAINED = [("Glimmerwick Garments", "Overtime without pay for three months"),
           ("Zanzibarquux Shoes", "宿舍漏水, 拖欠工资"),
           ("Quokka Electronics", "Locked fire exit on the second floor")]  # fmt: skip
PENDING = [("Xiomara Textiles", "Wages cut after the audit"), ("Frobnicate Toys", "No contract given")]


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def commit() -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "unknown"


def submit(settings, reports, *, with_file: bool) -> int:  # type: ignore[no-untyped-def]
    from intake.domain import Channel, Report
    from intake.services import IntakeService, accept_report

    files = 0
    service = IntakeService.open(settings)
    try:
        for n, (factory, text) in enumerate(reports):
            report = Report(channel=Channel.WEB, factory=factory, description=text)
            if with_file and n == 0:
                try:
                    from intake.evidence import Evidence
                except ImportError:  # a release before evidence files (issue 16)
                    accept_report(service, report)
                    continue
                pdf = b"%PDF-1.4\n% synthetic payslip for a test fixture\n%%EOF\n"
                accept_report(service, report, files=[Evidence("application/pdf", pdf)])
                files += 1
            else:
                accept_report(service, report)
    finally:
        service.close()
    return files


def build(out: Path) -> dict[str, object]:
    from intake import backup
    from intake.drain import drain
    from intake.node import init_node, open_cases, open_inbox
    from intake.settings import Settings
    from intake.store.db import schema_version

    home = out / "node"
    settings = Settings.load(home, env={}, rate_limit_per_minute=0)
    _ring, keys = init_node(settings, user=USER, passphrase=PASSPHRASE, profile=PROFILE)
    submit(settings, DRAINED, with_file=True)
    inbox, cases = open_inbox(settings), open_cases(settings, keys)
    try:
        drain(inbox, cases, keys)
        drained = sorted(c.factory for c in cases.list_cases())
    finally:
        inbox.close()
        cases.close()
    info = backup.write_backup(settings, keys, out / "backup.ibk")
    files = submit(settings, PENDING, with_file=True)
    inbox, cases = open_inbox(settings), open_cases(settings, keys)
    try:
        versions = {"cases.db": schema_version(cases._conn), "inbox.db": schema_version(inbox._conn)}
        pending = inbox.count()
    finally:
        inbox.close()
        cases.close()
    for leftover in home.iterdir():  # nothing a later release must not find: WAL files, notes
        if leftover.name not in ("keyring.json", "intake.key", "cases.db", "inbox.db"):
            leftover.unlink()
    return {
        "version": version(),
        "commit": commit(),
        "node_id": keys.node_id,
        "user": USER,
        "cases": drained,
        "pending": pending,
        "pending_files": files,
        "backup_cases": info.cases,
        "schema": versions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="default: tests/fixtures/releases/<version>")
    args = parser.parse_args()
    out = args.out or ROOT / "tests" / "fixtures" / "releases" / version()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    expected = build(out)
    (out / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", "utf-8")
    (out / "README.md").write_text(README.format(**expected, passphrase=PASSPHRASE, profile=PROFILE), "utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: node {expected['node_id']}, schema {expected['schema']}, {size} bytes", file=sys.stderr)
    return 0


README = """# Test fixture: a node made by release {version} (commit {commit})

TEST DATA ONLY. Synthetic reports; the keys were made with the `{profile}` KDF profile
and the test passphrase below, so they protect nothing. Never use them for a real node.

- user `{user}`, passphrase `{passphrase}`
- `node/`: cases.db with {backup_cases} drained cases (schema {schema}), inbox.db with {pending}
  reports waiting to be drained ({pending_files} with an evidence file)
- `backup.ibk`: `intake backup` of the node after the drain (the pending reports are not in it)
- `expected.json`: what tests/intake/test_upgrades.py checks a later release finds

Made by `scripts/make_release_fixture.py` (see its docstring to make one for an older commit).
Tests copy this folder before opening it: the files here are never migrated in place.
"""

if __name__ == "__main__":
    raise SystemExit(main())
