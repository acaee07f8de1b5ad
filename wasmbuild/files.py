"""Writing and reading files, with errors about those files.

Every single file wasmbuild writes goes through `write_atomic` (`build -o`, `deploy --output`, the
docker config, and the caches: the no-op build's memo, compiled modules): a temporary file beside
the target (the rename never crosses file systems), its mode set before it gets its name, renamed
into place, so a reader sees the old file or the whole new one, and removed whatever goes wrong.
Errors name the file the user gave, never our temporary file, and the mistakes people make (a
directory where a file goes, a file where a directory goes) get their own message.

Standard library only, and not even tempfile (which imports shutil and random): the no-op build
writes through it, and those imports would cost it more than the write.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from wasmbuild.errors import ConfigError, NotFoundError, UsageError, WasmbuildError, from_os_error

TYPE_CHECKING = False  # not `from typing import ...`: see the module docstring
if TYPE_CHECKING:
    from typing import Any


def _blocking_parent(path: Path) -> Path | None:
    """The nearest ancestor of `path` that exists and is not a directory, if there is one."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def write_error(path: Path, exc: OSError) -> WasmbuildError:
    """The error for a failed write of `path`, whatever file the OSError itself names."""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        blocker = _blocking_parent(path)
        if blocker is not None:
            return UsageError(f"cannot write {path}: {blocker} is a file, not a directory",
                              "choose another path, or move that file away")
    if exc.errno == errno.ENOENT and not path.parent.is_dir():
        return NotFoundError(f"cannot write {path}: its directory {path.parent} does not exist",
                             "create that directory first, or choose another path")
    if exc.errno == errno.EISDIR or path.is_dir():
        return UsageError(f"cannot write {path}: it is a directory",
                          "give the path of a file (in that directory, if you like)")
    return from_os_error(OSError(exc.errno, exc.strerror), f"cannot write {path}")


def write_atomic(path: Path | str, data: bytes | bytearray | str, mode: int = 0o644, *, parents: bool = True,
                 dir_mode: int = 0o777, sync: bool = True) -> None:
    """Replace `path` with `data` (str is written as UTF-8) through a temporary file in its directory;
    with `parents`, missing parent directories are created (with `dir_mode`, umask applied).

    `mode` is set exactly (not through the umask): 0o600 for secrets. `sync` flushes the bytes to
    disk before the rename, for files whose loss after a crash loses the user's work; caches and
    outputs that are made again on demand pass sync=False.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if path.is_dir():
        raise write_error(path, OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
    directory = path.parent
    temp: Path | None = None
    try:
        if parents:
            directory.mkdir(mode=dir_mode, parents=True, exist_ok=True)
        name = directory / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        temp = name  # ours to remove from here on
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
        temp = None
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def read_bytes(path: Path | str, label: str | None = None) -> bytes:
    """The bytes of a file the user named; a missing file, a directory or no permission is an error
    that says so, about `label` (how the user wrote it, e.g. '--runtime-config rc.json'; default: the path)."""
    path = Path(path)
    label = label or str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{label}: no such file", "check the path") from None
    except IsADirectoryError:
        raise UsageError(f"{label} is a directory, not a file", "give the path of a file") from None
    except OSError as exc:
        raise from_os_error(OSError(exc.errno, exc.strerror), f"cannot read {label}") from None


def read_json_object(path: Path | str, label: str | None = None) -> dict[str, Any]:
    """A JSON object from a file the user named (runtime-config.json and friends)."""
    path = Path(path)
    data = read_bytes(path, label)
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path.name}: not UTF-8 text (byte {error.start})", f"fix {path}") from None
    except ValueError as error:
        raise ConfigError(f"{path.name}: not valid JSON: {error}", f"fix {path}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{path.name}: must be a JSON object", f"fix {path}")
    return value


__all__ = ["read_bytes", "read_json_object", "write_atomic", "write_error"]
