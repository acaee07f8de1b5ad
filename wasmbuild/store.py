"""The local module store, in wasme's layout so its users find their way around:

    <store>/<md5 of the ref>/filter.wasm          the module, byte for byte
    <store>/<md5 of the ref>/descriptor.json      OCI descriptor of the wasm layer (digest, size)
    <store>/<md5 of the ref>/runtime-config.json  {"type": "envoy_proxy", "abiVersions": [...], ...}
    <store>/<md5 of the ref>/image_ref            the reference, e.g. localhost:5000/f/add-header:v1
    <store>/<md5 of the ref>/image.json           (pulled or pushed images) the registry image it
                                                  came from: registry, repository, manifest digest
    <store>/<md5 of the ref>/image.tar            (optional) the module packed as image(s), an OCI
                                                  image layout in a tar, that push sends as it is

Writers hold an exclusive lock on <store>/.lock and assemble an entry in a temporary directory
that is renamed into place only when complete, so two builds can write at once and a killed one
never leaves a half-written entry (leftovers are swept by the next writer). Every file is flushed
to disk before the rename, except image.tar: that is a cache (`wasmbuild.oci.layout` verifies
every blob's digest before using it and packs again when one is missing or damaged), so a crash
may cost it, never the entry.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path

from wasmbuild import refs, runtime_config
from wasmbuild.errors import NotFoundError, WasmbuildError, from_os_error
from wasmbuild.oci.mediatypes import WASM_CONTENT_LAYER
from wasmbuild.paths import store_dir
from wasmbuild.record import Record

# Not `from typing import ...`, nor dataclasses, tempfile or shutil at import: every push, pull and
# list reads the store, and those imports would cost each of them more than the reading (see
# wasmbuild.record); shutil is imported where a directory must be deleted.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

MODULE_FILE = "filter.wasm"
DESCRIPTOR_FILE = "descriptor.json"
RUNTIME_CONFIG_FILE = runtime_config.FILE
REF_FILE = "image_ref"
# Written by wasmbuild.oci.pull, read by push (to cross-mount blobs) and deploy (to pin the digest).
IMAGE_INFO_FILE = "image.json"
# The packed image(s) of the module, kept so that push need not pack again (see wasmbuild.oci.layout).
IMAGE_FILE = "image.tar"
_TEMP_PREFIX = ".tmp-"
_TRASH_PREFIX = ".trash-"


class StoreEntry(Record):
    """One stored module under one reference."""

    _fields = ("ref", "directory", "digest", "size", "updated", "runtime_config")
    __slots__ = _fields
    ref: str
    directory: Path
    digest: str  # "sha256:<hex>" of filter.wasm
    size: int
    updated: float  # seconds since the epoch
    runtime_config: Mapping[str, Any]

    def __init__(self, ref: str, directory: Path, digest: str, size: int, updated: float,
                 runtime_config: Mapping[str, Any] | None = None) -> None:
        self._set(ref, directory, digest, size, updated, {} if runtime_config is None else runtime_config)

    @property
    def module_path(self) -> Path:
        return self.directory / MODULE_FILE

    @property
    def sha256(self) -> str:
        return self.digest.split(":", 1)[1]

    def read_module(self) -> bytes:
        return self.module_path.read_bytes()

    def extra_files(self) -> dict[str, bytes]:
        """The entry's files besides the module, descriptor, runtime config, ref and image.tar (image.json)."""
        return {p.name: p.read_bytes() for p in self.directory.iterdir()
                if p.name not in (MODULE_FILE, DESCRIPTOR_FILE, RUNTIME_CONFIG_FILE, REF_FILE, IMAGE_FILE)}

    def read_image(self) -> bytes | None:
        """image.tar's bytes (see wasmbuild.oci.layout), None when there is none or it cannot be read."""
        try:
            return (self.directory / IMAGE_FILE).read_bytes()
        except OSError:  # a cache: what cannot be read is not there
            return None


class Damaged(Record):
    """An entry directory that cannot be read: its ref when image_ref still names one, and why."""

    _fields = ("directory", "ref", "problem")
    __slots__ = _fields
    directory: Path
    ref: str | None
    problem: str

    def __init__(self, directory: Path, ref: str | None, problem: str) -> None:
        self._set(directory, ref, problem)


def entry_id(ref: str) -> str:
    """The directory name of a ref: md5 of its canonical spelling, as wasme did."""
    return hashlib.md5(refs.normalize(ref).encode(), usedforsecurity=False).hexdigest()


def descriptor_for(module: bytes) -> dict[str, Any]:
    return {
        "mediaType": WASM_CONTENT_LAYER,
        "digest": "sha256:" + hashlib.sha256(module).hexdigest(),
        "size": len(module),
        "annotations": {"org.opencontainers.image.title": MODULE_FILE},
    }


class Store:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else store_dir()

    # -- locking ---------------------------------------------------------------------------
    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise from_os_error(exc, f"cannot open the store at {self.root}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            if exclusive:
                self._sweep()
            yield
        finally:
            os.close(fd)

    def _sweep(self) -> None:
        """Remove what killed writers left behind (only called under the exclusive lock)."""
        for child in self.root.iterdir():
            if child.name.startswith((_TEMP_PREFIX, _TRASH_PREFIX)):
                _delete_tree(child)

    def _scratch_dir(self, prefix: str) -> Path:
        """A new private directory in the store (tempfile.mkdtemp's job, without importing tempfile)."""
        path = self.root / f"{prefix}{os.getpid()}-{os.urandom(6).hex()}"
        path.mkdir(mode=0o700)
        return path

    # -- reading ---------------------------------------------------------------------------
    def _load(self, directory: Path) -> StoreEntry | Damaged:
        """The entry in `directory`, or what is wrong with it (a file missing or mangled by hand,
        a disk that lost it): one damaged entry must not take `list` or the others down."""
        try:
            ref = refs.normalize((directory / REF_FILE).read_text(encoding="utf-8").strip())
        except OSError as exc:
            return Damaged(directory, None, f"{REF_FILE}: {exc.strerror or exc}")
        except (ValueError, WasmbuildError):
            return Damaged(directory, None, f"{REF_FILE} does not hold an image reference")
        try:
            descriptor = json.loads((directory / DESCRIPTOR_FILE).read_text(encoding="utf-8"))
            digest, size = str(descriptor["digest"]), int(descriptor["size"])
            if not digest.startswith("sha256:"):
                raise ValueError(digest)
        except OSError as exc:
            return Damaged(directory, ref, f"{DESCRIPTOR_FILE}: {exc.strerror or exc}")
        except (ValueError, KeyError, TypeError):
            return Damaged(directory, ref, f"{DESCRIPTOR_FILE} is not a descriptor with a sha256 digest and a size")
        config_path = directory / RUNTIME_CONFIG_FILE
        try:
            config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
        except (OSError, ValueError):
            return Damaged(directory, ref, f"{RUNTIME_CONFIG_FILE} is not readable JSON")
        if not isinstance(config, dict):
            return Damaged(directory, ref, f"{RUNTIME_CONFIG_FILE} is not a JSON object")
        try:
            module = (directory / MODULE_FILE).stat()
        except OSError as exc:
            return Damaged(directory, ref, f"{MODULE_FILE}: {exc.strerror or exc}")
        if module.st_size != size:
            return Damaged(directory, ref, f"{MODULE_FILE} has {module.st_size} bytes, its descriptor says {size}")
        return StoreEntry(ref, directory, digest, size, module.st_mtime, config)

    def find(self, ref: str) -> StoreEntry | None:
        """The entry stored under `ref`; None when there is none or it is damaged (see `get`)."""
        directory = self.root / entry_id(ref)
        if not directory.is_dir():
            return None
        with self._locked(exclusive=False):
            loaded = self._load(directory)
        return loaded if isinstance(loaded, StoreEntry) else None

    def get(self, ref: str) -> StoreEntry:
        directory = self.root / entry_id(ref)
        loaded: StoreEntry | Damaged | None = None
        if directory.is_dir():
            with self._locked(exclusive=False):
                loaded = self._load(directory)
        if isinstance(loaded, Damaged):
            raise NotFoundError(f"{refs.normalize(ref)} is damaged in the local store ({loaded.problem})",
                                f"remove it with 'wasmbuild rm {refs.normalize(ref)}', then build, package or pull "
                                "it again")
        if loaded is None:
            raise self._not_stored(refs.normalize(ref))
        return loaded

    def _not_stored(self, canonical: str) -> NotFoundError:
        """The error for a ref that is not stored; when the same name:tag is stored under another
        registry or path, the hint says how to tag it (what `push` of a local build needs)."""
        tail = canonical.rsplit("/", 1)[-1]
        similar = [e.ref for e in self.entries() if e.ref.rsplit("/", 1)[-1] == tail]
        hint = (f"tag the stored one first: wasmbuild tag {similar[0]} {canonical}" if similar
                else "run 'wasmbuild list' to see the stored modules, or build, package or pull it")
        return NotFoundError(f"{canonical} is not in the local store", hint)

    def _scan(self) -> list[StoreEntry | Damaged]:
        if not self.root.is_dir():
            return []
        with self._locked(exclusive=False):
            return [self._load(d) for d in sorted(self.root.iterdir()) if d.is_dir() and not d.name.startswith(".")]

    def entries(self) -> list[StoreEntry]:
        return self.contents()[0]

    def contents(self) -> tuple[list[StoreEntry], list[Damaged]]:
        """The entries by ref, and the entry directories that cannot be read, with what is wrong
        (for `list` to report), from one reading of the store."""
        scanned = self._scan()
        entries = sorted((e for e in scanned if isinstance(e, StoreEntry)), key=lambda e: e.ref)
        return entries, [d for d in scanned if isinstance(d, Damaged)]

    # -- writing ---------------------------------------------------------------------------
    def put(self, ref: str, module: bytes, runtime_config: Mapping[str, Any] | None = None,
            extra_files: Mapping[str, bytes] | None = None, image: bytes | None = None) -> StoreEntry:
        """Store `module` under `ref`, replacing what was there, atomically; `image` is image.tar,
        written unsynced (see the module docstring)."""
        canonical = refs.normalize(ref)
        target = self.root / entry_id(canonical)
        with self._locked(exclusive=True):
            try:
                staging = self._scratch_dir(_TEMP_PREFIX)
                files: dict[str, bytes] = {
                    MODULE_FILE: module,
                    DESCRIPTOR_FILE: json.dumps(descriptor_for(module), indent=2).encode() + b"\n",
                    REF_FILE: canonical.encode() + b"\n",
                }
                if runtime_config is not None:
                    files[RUNTIME_CONFIG_FILE] = json.dumps(runtime_config, indent=2).encode() + b"\n"
                files.update(extra_files or {})
                for name, data in files.items():
                    _write_synced(staging / name, data)
                if image is not None:
                    (staging / IMAGE_FILE).write_bytes(image)
                staging.chmod(0o755)
                if target.exists():
                    trash = self._scratch_dir(_TRASH_PREFIX)
                    target.rename(trash / "old")
                    staging.rename(target)
                    _delete_tree(trash)
                else:
                    staging.rename(target)
                _fsync_dir(self.root)
            except OSError as exc:
                self._sweep()
                raise from_os_error(exc, "cannot write to the local store") from exc
            entry = self._load(target)
        assert isinstance(entry, StoreEntry), entry
        return entry

    def keep_image(self, entry: StoreEntry, image: bytes) -> bool:
        """Replace the image.tar of `entry` (a push packed it anew: there was none, or it was damaged),
        if the entry still holds the same module and runtime config. False when it does not or the
        file cannot be written: it is a cache, and a push must not fail for want of it."""
        with self._locked(exclusive=True):
            current = self._load(entry.directory)
            if (not isinstance(current, StoreEntry) or current.digest != entry.digest
                    or dict(current.runtime_config) != dict(entry.runtime_config)):
                return False
            try:
                staging = self._scratch_dir(_TEMP_PREFIX)
                (staging / IMAGE_FILE).write_bytes(image)
                os.replace(staging / IMAGE_FILE, entry.directory / IMAGE_FILE)
            except OSError:
                return False
            finally:
                self._sweep()
        return True

    def tag(self, source: str, destination: str) -> StoreEntry:
        entry = self.get(source)
        return self.put(destination, entry.read_module(), entry.runtime_config or None, entry.extra_files(),
                        entry.read_image())

    def remove(self, ref: str) -> str:
        """Remove what is stored under `ref` (a damaged entry too) and return its canonical ref."""
        canonical = refs.normalize(ref)
        directory = self.root / entry_id(canonical)
        if not directory.is_dir():
            self.get(canonical)  # raises the not-found error
        with self._locked(exclusive=True):
            try:
                trash = self._scratch_dir(_TRASH_PREFIX)
                directory.rename(trash / "old")
                _delete_tree(trash)
            except FileNotFoundError:
                raise NotFoundError(f"{canonical} is not in the local store",
                                    "run 'wasmbuild list' to see the stored modules") from None
            except OSError as exc:
                raise from_os_error(exc, f"cannot remove {canonical}") from exc
        return canonical


def _delete_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
