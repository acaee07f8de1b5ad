"""What a build hands over, and how: the request and result values, and delivery of the module to
the project's output and the local store. Kept free of pydantic and docker-py: the no-op path
(noop.py) uses it too."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from wasmbuild import files, runtime_config
from wasmbuild.record import Record

TYPE_CHECKING = False  # not `from typing import ...` nor NamedTuple: the no-op build starts fast (wasmbuild.record)
if TYPE_CHECKING:
    from typing import Any


class BuildRequest(Record):
    """What `wasmbuild build` was asked: its command line."""

    _fields = ("path", "backend", "ref", "no_cache", "output", "toolchain", "mode")
    __slots__ = _fields
    path: str
    backend: str | None
    ref: str | None
    no_cache: bool
    output: str | None
    toolchain: str | None
    mode: str | None

    def __init__(self, path: str = ".", backend: str | None = None, ref: str | None = None, no_cache: bool = False,
                 output: str | None = None, toolchain: str | None = None, mode: str | None = None) -> None:
        self._set(path, backend, ref, no_cache, output, toolchain, mode)


class BuildResult(Record):
    """What it printed: where the module went, what it is, and how it was made."""

    _fields = ("path", "size", "sha256", "abi", "seconds", "cache_hit", "ref", "backend")
    __slots__ = _fields
    path: Path
    size: int
    sha256: str
    abi: str | None
    seconds: float
    cache_hit: bool
    ref: str
    backend: str

    def __init__(self, path: Path, size: int, sha256: str, abi: str | None, seconds: float, cache_hit: bool,
                 ref: str, backend: str) -> None:
        self._set(path, size, sha256, abi, seconds, cache_hit, ref, backend)


def runtime_config_for(path: Path, abi: str, root_id: str) -> dict[str, Any]:
    """The project's runtime-config.json, or wasme's default for its ABI and root id."""
    if not path.exists():
        return runtime_config.default([f"v{abi}"], [root_id])
    return runtime_config.load(path)


def write_output(module: bytes, output: Path) -> None:
    """Write the module atomically; leave it alone when it already holds these bytes, so its mtime
    only changes with its content. Not synced to disk: a lost output is delivered again from the
    build cache by the next build."""
    try:
        if output.is_file() and output.read_bytes() == module:
            return
    except OSError:
        pass  # unreadable: write_atomic says what is wrong with it
    files.write_atomic(output, module, sync=False)


def store_module(module: bytes, ref: str, config: dict[str, Any]) -> Path:
    """Put the module in the local store unless that exact entry is there; return its directory.
    A new entry gets its compat image packed now (wasmbuild.oci.layout), so push does not pack it."""
    from wasmbuild.oci import layout
    from wasmbuild.store import Store

    store = Store()
    digest = "sha256:" + hashlib.sha256(module).hexdigest()
    existing = store.find(ref)
    if existing is None or existing.digest != digest or dict(existing.runtime_config) != config:
        existing = store.put(ref, module, config, image=layout.packed(module, config))
    return existing.directory


def entry_stamp(directory: Path) -> str:
    """Identifies one write of a store entry (entries are renamed into place: a new inode each time)."""
    try:
        st = os.stat(directory / "descriptor.json")
    except OSError:
        return ""
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
