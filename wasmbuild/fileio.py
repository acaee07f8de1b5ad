"""Replacing a file atomically: readers see the old file or the whole new one, never a half-written one.

Every single-file write of wasmbuild goes through `write_atomic` (a build's module, rendered
manifests, the docker config, cache entries), so they all get the same guarantees: the temporary
file sits in the target's own directory (so the rename never crosses file systems), its mode is
set before it gets a name anybody reads, it is removed whatever goes wrong, and an OSError comes
out as the matching WasmbuildError (disk full, permission denied) naming the target.

Kept to os and the error model: the no-op build writes through it, and `tempfile` (which imports
shutil and random) would cost that path more than the write itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from wasmbuild.errors import WasmbuildError, from_os_error


def write_atomic(path: Path, data: bytes | bytearray, *, mode: int = 0o644, sync: bool = True) -> None:
    """Write `data` to `path` through a temporary file in the same directory, renamed into place.

    `mode` is set exactly (not through the umask): 0o600 for secrets. `sync` flushes the bytes to
    disk before the rename, for files whose loss after a crash would lose the user's work; caches
    and outputs that are made again on demand skip it.
    """
    temp = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise _failed(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _failed(exc, path) from exc
        raise


def _failed(exc: OSError, path: Path) -> WasmbuildError:
    """The error naming the target, not the temporary file the OSError names."""
    return from_os_error(OSError(exc.errno, exc.strerror), f"cannot write {path}")
