"""The no-op build: an unchanged project answered from the build cache in a few milliseconds.

A full build resolves the request (validates wasmbuild.toml with pydantic, plans, picks the
executor) and remembers the resolution here, keyed by everything that decides it: the request,
the bytes of wasmbuild.toml, the WASMBUILD_* environment and DOCKER_HOST. The next identical
request skips all of that: it hashes the sources, asks the daemon for the image id over its
socket (or stats the host tools), and if the build key is in the cache delivers the module.
Anything unusual (no memo, the daemon's answer changed, a cache miss) falls back to the full path.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from wasmbuild import __version__, files
from wasmbuild.build import deliver, rawdocker, sources
from wasmbuild.build.cache import BuildCache, final_key, tools_identity
from wasmbuild.build.deliver import BuildRequest, BuildResult
from wasmbuild.errors import WasmbuildError
from wasmbuild.paths import build_cache_dir
from wasmbuild.record import Record

MEMO_FORMAT = "1"
PROJECT_FILE = "wasmbuild.toml"
_IGNORED_ENV = ("WASMBUILD_NO_PROGRESS",)


class Memo(Record):
    """A resolved request: what the full path worked out, minus what changes between builds.
    (Records here and in deliver.py: dataclasses or NamedTuples would cost the no-op path their
    imports, see wasmbuild.record.)"""

    _fields = ("requested", "backend", "image", "tools", "key_base", "keep", "unhashed", "output", "ref",
               "runtime_config", "abi", "root_id", "store_entry", "store_stamp")
    __slots__ = _fields
    requested: str  # the backend asked for: auto, container or host
    backend: str  # the one chosen
    image: str  # container: the builder image's tag
    tools: dict[str, str]  # host: tool name -> executable (their files make the identity)
    key_base: str  # cache.key_base(plan, config)
    keep: list[str]  # top-level output names the source walk skips
    unhashed: list[str]  # project files that do not change the module (wasmbuild.toml, runtime config)
    output: str
    ref: str
    runtime_config: str
    abi: str
    root_id: str
    store_entry: str  # the store entry's directory, and its stamp when this build wrote or saw it:
    store_stamp: str  # unchanged, the store needs no look (nor the store module an import)

    def __init__(self, requested: str, backend: str, image: str, tools: dict[str, str], key_base: str,
                 keep: list[str], unhashed: list[str], output: str, ref: str, runtime_config: str, abi: str,
                 root_id: str, store_entry: str, store_stamp: str) -> None:
        self._set(requested, backend, image, tools, key_base, keep, unhashed, output, ref, runtime_config, abi,
                  root_id, store_entry, store_stamp)


def memo_dir() -> Path:
    return build_cache_dir().parent / "resolved"


def project_dir(path: str) -> Path | None:
    candidate = Path(path)
    if candidate.name == PROJECT_FILE and candidate.is_file():
        return candidate.parent.resolve()
    if (candidate / PROJECT_FILE).is_file():
        return candidate.resolve()
    return None


def request_key(request: BuildRequest, directory: Path, project_file: bytes) -> str:
    environment = sorted((k, v) for k, v in os.environ.items()
                         if k.startswith("WASMBUILD_") and k not in _IGNORED_ENV)
    parts = [MEMO_FORMAT, __version__, str(directory), hashlib.sha256(project_file).hexdigest(),
             json.dumps(environment), os.environ.get("DOCKER_HOST", ""), request.backend or "", request.ref or "",
             str(Path(request.output).resolve()) if request.output else "", request.toolchain or "",
             request.mode or ""]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def remember(request: BuildRequest, directory: Path, memo: Memo) -> None:
    """Best effort: a memo that cannot be written only costs the next build its short cut."""
    try:
        key = request_key(request, directory, (directory / PROJECT_FILE).read_bytes())
        target = memo_dir()
        target.mkdir(parents=True, exist_ok=True)
        files.write_atomic(target / key, json.dumps(memo._asdict()), sync=False)
    except (OSError, WasmbuildError):
        pass


def try_noop(request: BuildRequest) -> BuildResult | None:
    """The result of an unchanged build, or None when the full path must run."""
    if request.no_cache:
        return None
    started = time.monotonic()
    directory = project_dir(request.path)
    if directory is None:
        return None
    try:
        key = request_key(request, directory, (directory / PROJECT_FILE).read_bytes())
        memo = Memo(**json.loads((memo_dir() / key).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if memo.backend == "container":
        try:
            image_id = rawdocker.image_id(memo.image) if rawdocker.ping() else None
        except OSError:
            image_id = None
        if image_id is None:
            return None
        identity = f"image={image_id}"
    else:
        if memo.requested == "auto" and rawdocker.ping():
            return None  # the daemon is back: auto would pick the container now
        identity = tools_identity(memo.tools)
    keep = frozenset(memo.keep)
    digest = sources.digest(directory, [f for f in sources.walk(directory, keep) if f not in memo.unhashed])
    cached = BuildCache().get(final_key(memo.key_base, identity, digest))
    if cached is None:
        return None
    output = Path(memo.output)
    deliver.write_output(cached.module, output)
    config_path = Path(memo.runtime_config)
    if not memo.store_stamp or deliver.entry_stamp(Path(memo.store_entry)) != memo.store_stamp \
            or _newer(config_path, memo.store_entry):
        config = deliver.runtime_config_for(config_path, memo.abi, memo.root_id)
        entry = deliver.store_module(cached.module, memo.ref, config)
        remember(request, directory, memo._replace(store_entry=str(entry), store_stamp=deliver.entry_stamp(entry)))
    return BuildResult(output, len(cached.module), hashlib.sha256(cached.module).hexdigest(), cached.abi,
                       time.monotonic() - started, True, memo.ref, memo.backend)


def _newer(config_path: Path, entry: str) -> bool:
    """runtime-config.json edited since the entry was written (it may live outside the sources)."""
    try:
        return config_path.stat().st_mtime_ns > os.stat(Path(entry) / "descriptor.json").st_mtime_ns
    except OSError:
        return config_path.exists()
