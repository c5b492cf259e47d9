"""crypto/escrow.py: recovery kits in their three forms, and every way one fails to open."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.public import PrivateKey

from crypto import CannotOpen
from crypto.errors import KitDamaged
from crypto.escrow import (
    from_paper,
    kit_file,
    load_identity,
    make_kit,
    new_identity,
    open_kit,
    parse_kit,
    parse_recipient,
    to_paper,
)
from crypto.files import shred_file

HOLDER = PrivateKey.generate()


@given(master=st.binary(min_size=32, max_size=32), node=st.binary(min_size=8, max_size=8), made=st.integers(0, 2**63))
def test_every_form_round_trips(master: bytes, node: bytes, made: int) -> None:
    kit = make_kit(master, node_id=node.hex(), made=made, to=HOLDER.public_key)
    paper = to_paper(kit, made_text="t", recipient=HOLDER.public_key)
    assert from_paper(paper.lower()) == kit  # typed back in lower case, spaces as they come
    forms = [kit, kit_file(kit, public={}, made_text="t", recipient=HOLDER.public_key), paper.encode()]
    for form in forms:
        opened = open_kit(parse_kit(form), HOLDER)
        assert opened.master.reveal() == master and opened.node_id == node.hex() and opened.made == made


def test_wrong_key_and_changed_header_are_one_opaque_error() -> None:
    kit = make_kit(bytes(range(32)), node_id="00" * 8, made=1, to=HOLDER.public_key)
    with pytest.raises(CannotOpen):
        open_kit(parse_kit(kit), PrivateKey.generate())
    changed = kit[:4] + b"\x01" + kit[5:]  # the clear node id claims another node
    with pytest.raises(CannotOpen):
        open_kit(parse_kit(changed), HOLDER)


def test_damage_names_the_paper_line() -> None:
    kit = make_kit(bytes(32), node_id="ab" * 8, made=5, to=HOLDER.public_key)
    lines = to_paper(kit, made_text="t", recipient=HOLDER.public_key).splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.strip().startswith("4:"))
    swapped = lines[i].replace(lines[i][5:7], lines[i][6] + lines[i][5], 1)  # two letters swapped
    if swapped != lines[i]:
        with pytest.raises(KitDamaged, match="line 4"):
            from_paper("\n".join([*lines[:i], swapped, *lines[i + 1 :]]))
    with pytest.raises(KitDamaged, match="END"):
        from_paper("\n".join(ln for ln in lines if not ln.startswith("END")))
    for junk in (b"", b"\x00" * 120, kit[:-1], b'{"format": "grievance-intake-recovery-kit", "version": 1}'):
        with pytest.raises(KitDamaged):
            parse_kit(junk)


def test_recipients() -> None:
    public = base64.b64encode(bytes(HOLDER.public_key)).decode()
    assert bytes(parse_recipient(public)) == bytes(HOLDER.public_key)
    assert bytes(parse_recipient(public.replace("+", "-").replace("/", "_"))) == bytes(HOLDER.public_key)
    for bad in ("", "hello", base64.b64encode(bytes(32)).decode(), base64.b64encode(bytes(31)).decode()):
        with pytest.raises(ValueError):
            parse_recipient(bad)


def test_identity_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    body, public = new_identity()
    key = load_identity(body)
    assert base64.b64encode(bytes(key.public_key)).decode() == public
    (tmp_path / "id").write_bytes(body)
    with pytest.raises(ValueError, match="private identity"):
        parse_recipient(str(tmp_path / "id"))  # a private key is never taken as a recipient
    with pytest.raises(ValueError):
        load_identity(public.encode())


def test_shred_file_reaches_the_inode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret"
    secret.write_bytes(b"k" * 5000)
    (tmp_path / "link").hardlink_to(secret)
    assert shred_file(secret) and not secret.exists()
    left = (tmp_path / "link").read_bytes()
    assert len(left) == 5000 and left != b"k" * 5000
    assert not shred_file(secret)
