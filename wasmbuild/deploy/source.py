"""Which module a deploy command is about: a reference in the local store, or a .wasm file given directly.

The store gives everything a manifest needs without touching the network: the module's sha256, its
path on disk, the root ids from runtime-config.json, and (for images that came from or went to a
registry) the image's manifest digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from wasmbuild import refs, runtime_config
from wasmbuild.errors import DeployError, NotFoundError, UsageError, from_os_error
from wasmbuild.store import IMAGE_INFO_FILE, Store, StoreEntry


@dataclass(frozen=True)
class Module:
    """A module to deploy. `ref` is None for a .wasm file given by path."""

    ref: refs.Reference | None
    path: Path  # absolute path of the .wasm on this machine
    sha256: str  # hex sha256 of the module bytes
    root_ids: tuple[str, ...]
    image_digest: str | None = None  # "sha256:<hex>" of the registry image (manifest), when known

    @property
    def name(self) -> str:
        """A short name for ids: the last path component of the repository, or the file's stem."""
        if self.ref is not None:
            return self.ref.repository.rsplit("/", 1)[-1]
        return self.path.stem


def _image_digest(directory: Path, ref: refs.Reference) -> str | None:
    """The manifest digest of `ref`'s image, when the ref pins one or the store entry recorded it."""
    if ref.digest:
        return ref.digest
    try:
        info = json.loads((directory / IMAGE_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict):
        return None
    digest = info.get("digest")
    same_image = info.get("registry") == ref.registry and info.get("repository") == ref.repository
    if same_image and isinstance(digest, str) and digest.startswith("sha256:"):
        return digest
    return None


def _by_digest(store: Store, reference: refs.Reference) -> StoreEntry | None:
    """The stored entry behind a digest-pinned ref (as `wasmbuild push` prints it) that is not stored
    under that exact spelling: the entry whose recorded image has that digest, else `name:tag` for
    `name:tag@digest`, else the only entry of that name."""
    same_name = [e for e in store.entries() if refs.parse(e.ref).name == reference.name]
    for entry in same_name:
        if _image_digest(entry.directory, refs.parse(entry.ref)) == reference.digest:
            return entry
    if reference.tag:
        for entry in same_name:
            if refs.parse(entry.ref).tag == reference.tag:
                return entry
    return same_name[0] if len(same_name) == 1 else None


def from_store(text: str) -> Module:
    """The stored module under reference `text` (UsageError if not a ref, NotFoundError if not stored)."""
    reference = refs.parse(text)
    store = Store()
    entry = store.find(str(reference))
    if entry is None and reference.digest:
        entry = _by_digest(store, reference)
    if entry is None:
        entry = store.get(str(reference))  # raises the store's NotFoundError
    return Module(reference, entry.module_path.resolve(), entry.sha256, runtime_config.root_ids(entry.runtime_config),
                  _image_digest(entry.directory, reference))


def from_file(path: Path) -> Module:
    """A .wasm on disk; its root ids come from a runtime-config.json beside it, if there is one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise from_os_error(exc, "cannot read the module") from exc
    if data[:4] != b"\0asm":
        raise UsageError(f"{path} is not a WebAssembly module (no \\0asm header)",
                         "give a .wasm file or a reference from 'wasmbuild list'")
    root_ids: tuple[str, ...] = ()
    beside = path.parent / runtime_config.FILE
    if beside.is_file():
        root_ids = runtime_config.root_ids(runtime_config.load(beside))
    return Module(None, path.resolve(), hashlib.sha256(data).hexdigest(), root_ids)


def resolve(text: str, allow_file: bool = False) -> Module:
    """A reference, or (when `allow_file`) a path to a .wasm file."""
    if allow_file:
        path = Path(text)
        if text.endswith(".wasm") or path.is_file():
            if not path.exists():
                raise NotFoundError(f"{text}: no such file", "give a .wasm file or a reference from 'wasmbuild list'")
            return from_file(path)
    return from_store(text)


def root_id(module: Module, explicit: str | None) -> str:
    """--root-id, else the first root id of the module's runtime config (as wasme did)."""
    if explicit is not None:
        return explicit
    if module.root_ids:
        return module.root_ids[0]
    what = str(module.ref) if module.ref is not None else str(module.path)
    raise UsageError(f"no root id is known for {what}",
                     "pass --root-id ID (the name the filter registers its root context under; "
                     "--root-id '' for the default root context)")


def check_loadable(module: Module) -> None:
    """Refuse a module Envoy would not load (the proxy-wasm ABI check), before any manifest names it."""
    from wasmbuild.abi import check

    report = check(module.path)
    if not report.ok:
        what = str(module.ref) if module.ref is not None else str(module.path)
        first = report.errors[0]
        more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        raise DeployError(f"{what} would not load in Envoy: {first.message}{more}",
                          f"run 'wasmbuild check {module.path}' for every finding; --skip-check deploys it anyway")
