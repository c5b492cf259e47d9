"""The house rules of the code's layout, checked from the imports themselves (docs: DESIGN.md).

Layers, lowest first: crypto and i18n; the intake core; channels and the relay; the apps (the
desk, the CLI, the demo). A module imports only from its own layer or below; a channel never
imports a store (it goes through intake.services); and no two modules import each other, directly
or round a longer cycle; nor does a channel or the relay touch a store's private parts
(``inbox._write()``, ``store._conn``). Every import counts, at the top of a module or inside a function: a
cycle hidden in a function is still two rooms that cannot be understood apart.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crypto", "i18n", "intake", "channels", "relay")
APPS = ("intake.cli", "intake.demo", "intake.desk")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports: ``from a import b`` names a.b when that is a module."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` as a name of a module we know
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    known = modules(root, packages)
    return {name: imports(name, path, known) for name, path in known.items()}


def layer(name: str) -> int:
    if name.startswith(("crypto", "i18n")):
        return 0
    if any(name == app or name.startswith(app + ".") for app in APPS):
        return 3
    if name.startswith(("channels", "relay")):
        return 2
    return 1  # the intake core


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def layer_violations(edges: dict[str, set[str]]) -> list[str]:
    bad = []
    for name, targets in sorted(edges.items()):
        for target in sorted(targets):
            if layer(target) > layer(name) and not target.startswith(name + "."):
                bad.append(f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})")
            if name.startswith("channels") and target.startswith("intake.store"):
                bad.append(f"{name} imports the store {target}: channels go through intake.services")
    return bad


def private_store_uses(root: Path = ROOT, packages: Iterable[str] = ("channels", "relay")) -> list[str]:
    """Where a channel or the relay reaches into a store's private parts (``inbox._write()``,
    ``self.store._conn``, ``store._lock``): it must call the store's public methods or the core."""
    bad = []
    for name, path in modules(root, packages).items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
                continue
            owner = node.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if "inbox" in owner_name.lower() or "store" in owner_name.lower():
                bad.append(f"{name}:{node.lineno} uses {owner_name}.{node.attr}")
    return sorted(bad)


EDGES = graph()


def test_every_import_goes_down_the_layers() -> None:
    assert layer_violations(EDGES) == []


def test_no_two_modules_import_each_other() -> None:
    assert cycles(EDGES) == []


def test_channels_and_the_relay_use_no_private_part_of_a_store() -> None:
    assert private_store_uses() == []


# -- the checker itself can fail ---------------------------------------------------------------------
def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_sees_a_cycle_round_three_modules_and_a_function_import(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "intake/__init__.py": "",
            "intake/a.py": "from intake import b\n",
            "intake/b.py": "import intake.c\n",
            "intake/c.py": "def f():\n    from intake.a import x\n",
            "intake/d.py": "from . import a\n",
        },
    )
    edges = graph(tmp_path, ["intake"])
    assert edges["intake.d"] == {"intake.a"}
    assert cycles(edges) == [["intake.a", "intake.b", "intake.c"]]


def test_the_checker_sees_the_core_import_an_app_and_a_channel_import_a_store(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "intake/__init__.py": "",
            "intake/services.py": "from intake.desk.app import page\n",
            "intake/desk/__init__.py": "",
            "intake/desk/app.py": "page = 1\n",
            "intake/store/__init__.py": "",
            "intake/store/inbox.py": "",
            "channels/__init__.py": "",
            "channels/web.py": "from intake.store.inbox import Inbox\nfrom relay import gate\n",
            "relay/__init__.py": "",
            "relay/gate.py": "",
        },
    )
    bad = layer_violations(graph(tmp_path, ["intake", "channels", "relay"]))
    assert bad == [
        "channels.web imports the store intake.store.inbox: channels go through intake.services",
        "intake.services (layer 1) imports intake.desk.app (layer 3)",
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("crypto.keyring", 0), ("intake.services", 1), ("relay.gate", 2), ("intake.cli", 3), ("intake.desk.app", 3)],
)
def test_layers_of_known_modules(name: str, expected: int) -> None:
    assert layer(name) == expected


def test_the_checker_sees_a_channel_reach_into_the_inbox(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "channels/__init__.py": "",
            "channels/sms.py": (
                "def stop(service, key):\n"
                "    with service.inbox._write() as conn:\n"
                "        conn.execute('INSERT ...', (key,))\n"
                "    service.inbox.seen(key)\n"  # public: fine
                "    self._lock\n"  # the channel's own lock: fine
            ),
            "relay/__init__.py": "",
            "relay/gate.py": "def f(self):\n    with self.store._lock:\n        return store._conn\n",
        },
    )
    assert private_store_uses(tmp_path) == [
        "channels.sms:2 uses inbox._write",
        "relay.gate:2 uses store._lock",
        "relay.gate:3 uses store._conn",
    ]
