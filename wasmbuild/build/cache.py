"""The build cache: modules by build key, so an unchanged project is never compiled twice.

The key hashes the project's sources, its effective configuration, the plan (steps, environment)
and the toolchain's identity (the builder image id, or the host tools' files), so a change to any
of them is a miss. Entries are written to a temporary directory and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from wasmbuild import __version__
from wasmbuild.errors import from_os_error
from wasmbuild.paths import build_cache_dir
from wasmbuild.record import Record

TYPE_CHECKING = False  # not `from typing import ...`: the no-op build reads the cache (see wasmbuild.record)
if TYPE_CHECKING:
    from typing import Any

    from wasmbuild.build.plan import BuildPlan

CACHE_FORMAT = "1"
MODULE = "filter.wasm"
META = "meta.json"


def key_base(plan: BuildPlan, config: dict[str, Any]) -> str:
    """The part of the key fixed by the configuration and the plan (see noop.py, which reuses it)."""
    text = "\n".join([f"wasmbuild-build-key {CACHE_FORMAT} {__version__}", plan.fingerprint(),
                      json.dumps(config, sort_keys=True)])
    return hashlib.sha256(text.encode()).hexdigest()


def final_key(base: str, toolchain: str, sources_digest: str) -> str:
    return hashlib.sha256(f"{base}\n{toolchain}\n{sources_digest}".encode()).hexdigest()


def build_key(plan: BuildPlan, config: dict[str, Any], toolchain: str, sources_digest: str) -> str:
    return final_key(key_base(plan, config), toolchain, sources_digest)


def file_identity(path: str) -> str:
    """A tool binary's identity for the key: resolved path, size and mtime (no process started)."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        return f"{path}:missing"
    return f"{real}:{st.st_size}:{int(st.st_mtime)}"


def tools_identity(executables: dict[str, str]) -> str:
    return "\n".join(sorted(f"{name}={file_identity(path)}" for name, path in executables.items()))


class CachedBuild(Record):
    _fields = ("key", "module", "abi")
    __slots__ = _fields
    key: str
    module: bytes
    abi: str | None

    def __init__(self, key: str, module: bytes, abi: str | None) -> None:
        self._set(key, module, abi)


class BuildCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or build_cache_dir()

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> CachedBuild | None:
        directory = self._dir(key)
        try:
            meta = json.loads((directory / META).read_text(encoding="utf-8"))
            module = (directory / MODULE).read_bytes()
        except (OSError, ValueError):
            return None
        if hashlib.sha256(module).hexdigest() != meta.get("sha256"):
            return None  # damaged on disk: rebuild rather than hand it out
        return CachedBuild(key, module, meta.get("abi"))

    def put(self, key: str, module: bytes, abi: str | None, description: str) -> None:
        import shutil
        import tempfile

        target = self._dir(key)
        meta = {"sha256": hashlib.sha256(module).hexdigest(), "size": len(module), "abi": abi,
                "plan": description, "wasmbuild": __version__}
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
            (staging / MODULE).write_bytes(module)
            (staging / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            try:
                os.rename(staging, target)
            except OSError:  # another build stored the same key first: same bytes, keep theirs
                shutil.rmtree(staging, ignore_errors=True)
        except OSError as exc:
            raise from_os_error(exc, "cannot write the build cache") from exc
