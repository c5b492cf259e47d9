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
