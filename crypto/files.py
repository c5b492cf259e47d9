"""Writing secret-bearing files: private mode, atomic replace, durable on power loss."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename, fsync dir), mode 0600.

    A crash leaves either the old file or the new one, never half of either. Writers running at the
    same time (threads of one desk, or the desk and a CLI) each get their own temp file, so none
    fails; the last rename wins. Serialise read-modify-write cycles with :func:`exclusive_lock`.
    """
    path = Path(path)
    # mkstemp: a fresh name (O_EXCL) and mode 0600 from the start; one name per process made
    # parallel wrong passphrases on the desk fail with FileExistsError (issue 12).
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def overwrite_file(path: Path) -> None:
    """Overwrite ``path`` in place with random bytes of its own length, and fsync (not for symlinks)."""
    path = Path(path)
    st = os.lstat(path)
    if os.path.islink(path) or not st.st_size:
        return
    with open(path, "r+b", buffering=0) as fh:
        left = st.st_size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            fh.write(chunk)
            left -= len(chunk)
        os.fsync(fh.fileno())


def shred_file(path: Path) -> bool:
    """Overwrite ``path`` in place with random bytes (fsync), then unlink it. False if it was not there.

    On flash storage and copy-on-write filesystems the old blocks may survive the overwrite: that
    is why the stores are encrypted and their *keys* are what gets destroyed
    (docs/threat-model.md#panic). A symlink is unlinked, never followed.
    """
    path = Path(path)
    try:
        overwrite_file(path)
    except FileNotFoundError:
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` for the block: a folder, or a lock file (made, 0600).

    Blocks until no other holder is left, in this process (another thread) or another one (a CLI
    next to the desk). Lock something that is never replaced (a folder, a lock file), never a file
    written with :func:`write_private_file`: a rename gives the name a new inode, unlocked.
    """
    path = Path(path)
    flags = os.O_RDONLY if path.is_dir() else os.O_RDWR | os.O_CREAT
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
