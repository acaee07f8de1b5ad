"""What a build hands over, and how: the request and result values, and delivery of the module to
the project's output and the local store. Kept free of pydantic and docker-py: the no-op path
(noop.py) uses it too."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, NamedTuple


class BuildRequest(NamedTuple):
    path: str = "."
    backend: str | None = None
    ref: str | None = None
    no_cache: bool = False
    output: str | None = None
    toolchain: str | None = None
    mode: str | None = None


class BuildResult(NamedTuple):
    path: Path
    size: int
    sha256: str
    abi: str | None
    seconds: float
    cache_hit: bool
    ref: str
    backend: str


def runtime_config(path: Path, abi: str, root_id: str) -> dict[str, Any]:
    """The project's runtime-config.json, or wasme's default for its ABI and root id."""
    from wasmbuild.files import read_json_object
    from wasmbuild.store import default_runtime_config

    if not path.exists():
        return default_runtime_config([f"v{abi}"], [root_id])
    return read_json_object(path)


def write_output(module: bytes, output: Path) -> None:
    """Write the module atomically (a temporary file renamed into place); leave it alone when it
    already holds these bytes, so its mtime only changes with its content."""
    from wasmbuild.files import write_atomic

    try:
        if output.is_file() and output.read_bytes() == module:
            return
    except OSError:
        pass  # unreadable: write_atomic says what is wrong with it
    write_atomic(output, module)


def store_module(module: bytes, ref: str, config: dict[str, Any]) -> Path:
    """Put the module in the local store unless that exact entry is there; return its directory."""
    from wasmbuild.store import Store

    store = Store()
    digest = "sha256:" + hashlib.sha256(module).hexdigest()
    existing = store.find(ref)
    if existing is None or existing.digest != digest or dict(existing.runtime_config) != config:
        existing = store.put(ref, module, config)
    return existing.directory


def entry_stamp(directory: Path) -> str:
    """Identifies one write of a store entry (entries are renamed into place: a new inode each time)."""
    try:
        st = os.stat(directory / "descriptor.json")
    except OSError:
        return ""
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
