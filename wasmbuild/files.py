"""Writing and reading the files users name, with errors about those files.

Every file wasmbuild writes for a user (`build -o`, `deploy --output`, the docker config) goes
through `write_atomic`: a temporary file beside the target, renamed into place, so a reader sees
the old file or the whole new one. Errors name the file the user gave, never our temporary file,
and the mistakes people make (a directory where a file goes, a file where a directory goes) get
their own message. Standard library only: the no-op build path uses it.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from wasmbuild.errors import ConfigError, NotFoundError, UsageError, WasmbuildError, from_os_error


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


def write_atomic(path: Path | str, data: bytes | str, mode: int = 0o644, *, parents: bool = True,
                 dir_mode: int = 0o777) -> None:
    """Replace `path` with `data` (str is written as UTF-8) through a temporary file in its directory;
    with `parents`, missing parent directories are created (with `dir_mode`, umask applied)."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if path.is_dir():
        raise write_error(path, OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
    directory = path.parent
    temp: str | None = None
    try:
        if parents:
            directory.mkdir(mode=dir_mode, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        temp = None
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)


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
