"""Pull an image into the local store, trusting nothing until it is verified.

The manifest must hash to the digest asked for (or announced by the registry); every blob is
streamed into memory (a temporary file above 64 MiB) while its digest and size are checked, and a
blob longer than its descriptor says is cut off there. Blobs download side by side. A compat
layer is unpacked by `wasmbuild.oci.layer`, which refuses anything but plugin.wasm and
runtime-config.json; the module must be WebAssembly. Only then does anything reach the store, in
one atomic `Store.put`: a pull that fails at any point, or is interrupted, leaves the store
exactly as it was.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from functools import partial

from wasmbuild import console
from wasmbuild.errors import RegistryError
from wasmbuild.oci import layer, layout
from wasmbuild.oci import mediatypes as mt
from wasmbuild.oci.http import concurrently
from wasmbuild.oci.image import Blob, Image, canonical_json, json_object
from wasmbuild.oci.registry import Registry
from wasmbuild.record import Record
from wasmbuild.refs import Reference
from wasmbuild.store import IMAGE_INFO_FILE, Store, StoreEntry

TYPE_CHECKING = False  # not `from typing import ...` nor dataclasses: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:
    from typing import IO, Any

_ALGORITHMS = {"sha256": 64, "sha512": 128}
_WASM_MAGIC = b"\0asm\x01\0\0\0"
_IN_MEMORY_BYTES = 64 * 1024 * 1024  # blobs up to this size never touch the disk before the store


class Pulled(Record):
    _fields = ("entry", "digest", "variant")
    __slots__ = _fields
    entry: StoreEntry
    digest: str  # of the manifest
    variant: str

    def __init__(self, entry: StoreEntry, digest: str, variant: str) -> None:
        self._set(entry, digest, variant)


def _check_digest_syntax(digest: object, where: str) -> str:
    if not isinstance(digest, str) or ":" not in digest:
        raise RegistryError(f"{where} has no valid digest: {digest!r}")
    algorithm, _, hexpart = digest.partition(":")
    if algorithm not in _ALGORITHMS:
        raise RegistryError(f"{where} uses digest algorithm {algorithm!r}, which wasmbuild cannot verify")
    if len(hexpart) != _ALGORITHMS[algorithm] or any(c not in "0123456789abcdef" for c in hexpart):
        raise RegistryError(f"{where} has a malformed digest {digest!r}")
    return digest


def _digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def _descriptor(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RegistryError(f"{where} is not a descriptor")
    _check_digest_syntax(value.get("digest"), where)
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise RegistryError(f"{where} has no valid size: {size!r}")
    return value


class _Session:
    def __init__(self, registry: Registry, reference: Reference) -> None:
        self.registry = registry
        self.reference = reference
        self.progress: Callable[[int], None] = lambda n: None

    @property
    def where(self) -> str:
        return f"{self.registry.registry}/{self.reference.repository}"

    def manifest(self, reference: str, expected: str | None, expected_size: int | None = None) -> tuple[bytes, str]:
        """(verified manifest bytes, its digest)."""
        body, _media_type, announced = self.registry.get_manifest(self.reference.repository, reference)
        if expected:
            actual = _digest_of(body, expected.split(":", 1)[0])
            if actual != expected:
                raise RegistryError(f"the manifest {self.where}@{expected} that the registry sent hashes to {actual}",
                                    "the registry or something between us altered it; nothing was stored")
        if expected_size is not None and len(body) != expected_size:
            raise RegistryError(f"the manifest {self.where}@{expected} is {len(body)} bytes, not {expected_size}")
        digest = expected or _digest_of(body)
        if announced and announced.startswith("sha256:") and announced != _digest_of(body):
            raise RegistryError(f"the manifest of {self.where}:{reference} does not match the digest the registry "
                                f"announced ({announced})", "nothing was stored; try again")
        return body, digest

    def blob(self, descriptor: Mapping[str, Any], what: str) -> IO[bytes]:
        """A blob, downloaded into memory (or a temporary file when large) while its size and
        digest are checked; the caller gets it rewound, and only if it verified."""
        digest, size = str(descriptor["digest"]), int(descriptor["size"])
        algorithm = digest.split(":", 1)[0]
        hasher = hashlib.new(algorithm)
        out = _buffer(size)
        count = 0
        try:
            with self.registry.open_blob(self.reference.repository, digest) as response:
                for piece in response.iter_content():
                    count += len(piece)
                    if count > size:
                        raise RegistryError(f"{what} {digest} from {self.where} is longer than the {size} bytes "
                                            "its descriptor says; refused", "the image is corrupt; nothing was stored")
                    hasher.update(piece)
                    out.write(piece)
                    self.progress(len(piece))
            if count != size:
                raise RegistryError(f"{what} {digest} from {self.where} ended after {count} of {size} bytes",
                                    "the transfer was cut off; nothing was stored, try again")
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != digest:
                raise RegistryError(f"{what} from {self.where} does not match its digest: expected {digest}, "
                                    f"got {actual}", "the blob is corrupt (or was tampered with); nothing was stored")
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return out

    def blobs(self, wanted: list[tuple[Mapping[str, Any], str]]) -> list[IO[bytes]]:
        """Several blobs downloaded side by side under one progress bar."""
        with console.progress("pulling", total=sum(int(d["size"]) for d, _ in wanted)) as bar:
            self.progress = bar.update
            try:
                return concurrently([partial(self.blob, descriptor, what) for descriptor, what in wanted])
            finally:
                self.progress = lambda n: None


def _buffer(size: int) -> IO[bytes]:
    """Where a blob of `size` bytes is downloaded to: memory, or a temporary file when it is large
    (no more is ever written than the descriptor's size). tempfile only then: it costs every pull
    its import otherwise."""
    if size <= _IN_MEMORY_BYTES:
        return io.BytesIO()
    import tempfile

    return tempfile.TemporaryFile()


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    return json_object(data, what, RegistryError)


def _choose_from_index(index: dict[str, Any], where: str) -> dict[str, Any]:
    """The one Wasm image in an image index (attestation manifests and other platforms aside)."""
    candidates = []
    for i, entry in enumerate(index.get("manifests") or []):
        descriptor = _descriptor(entry, f"entry {i} of the index of {where}")
        platform = descriptor.get("platform") or {}
        if platform.get("os") == "unknown" or "vnd.docker.reference.type" in (descriptor.get("annotations") or {}):
            continue
        candidates.append(descriptor)
    if not candidates:
        raise RegistryError(f"the image index of {where} lists no image")
    for descriptor in candidates:
        platform = descriptor.get("platform") or {}
        if platform.get("architecture") == "wasm" or platform.get("os") in ("wasi", "wasip1"):
            return descriptor
    return candidates[0]


def pull(registry: Registry, reference: Reference, store: Store) -> Pulled:
    session = _Session(registry, reference)
    if reference.digest:
        _check_digest_syntax(reference.digest, str(reference))
    body, digest = session.manifest(reference.reference, reference.digest)
    manifest = _json_object(body, f"the manifest of {reference}")
    media_type = manifest.get("mediaType") or ""
    if media_type in mt.INDEXES or (not media_type and "manifests" in manifest):
        chosen = _choose_from_index(manifest, session.where)
        body, digest = session.manifest(chosen["digest"], chosen["digest"], chosen["size"])
        manifest = _json_object(body, f"the manifest of {reference}")
        media_type = manifest.get("mediaType") or ""
    if media_type and media_type not in mt.MANIFESTS:
        raise RegistryError(f"{reference} has a manifest of type {media_type!r}, not an image manifest")
    module, runtime_config, variant, downloaded = _contents(session, manifest, reference)
    info = {"registry": reference.registry, "repository": reference.repository, "digest": digest,
            "variant": variant, "source": str(reference), "manifest": body.decode("utf-8", "replace")}
    extra = {IMAGE_INFO_FILE: canonical_json(info) + b"\n"}
    kept = _as_pulled(body, manifest, variant, downloaded)
    entry = store.put(str(reference), module, runtime_config, extra, layout.archive([kept], module) if kept else None)
    return Pulled(entry, digest, variant)


def _as_pulled(body: bytes, manifest: dict[str, Any], variant: str, downloaded: dict[str, bytes]) -> Image | None:
    """The image exactly as pulled (verified manifest and blobs), to keep in the store so that
    pushing it again sends the same bytes, whoever packed it; None when pull did not download all
    of its blobs (the base layers of a multi-layer image) or they are not named by sha256."""
    descriptors = [manifest["config"], *manifest["layers"]]
    if not all(str(d["digest"]).startswith("sha256:") and d["digest"] in downloaded for d in descriptors):
        return None

    def blob(descriptor: dict[str, Any]) -> Blob:
        annotations = descriptor.get("annotations")
        return Blob.verified(str(descriptor.get("mediaType")), downloaded[descriptor["digest"]], descriptor["digest"],
                             annotations if isinstance(annotations, dict) else None)

    media_type = str(manifest.get("mediaType") or mt.OCI_MANIFEST)
    return Image(variant, body, media_type, blob(manifest["config"]), tuple(blob(d) for d in manifest["layers"]))


def _contents(session: _Session, manifest: dict[str, Any], reference: Reference
              ) -> tuple[bytes, dict[str, Any] | None, str, dict[str, bytes]]:
    """(module, runtime config or None, variant, the downloaded blobs by digest) of a verified manifest."""
    where = f"the manifest of {reference}"
    config = _descriptor(manifest.get("config"), f"the config of {where}")
    raw_layers = manifest.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise RegistryError(f"{where} lists no layers", "this is not a Wasm image")
    layers = [_descriptor(d, f"layer {i} of {where}") for i, d in enumerate(raw_layers)]
    wasm_layers = [d for d in layers if d.get("mediaType") == mt.WASM_CONTENT_LAYER]
    if config.get("mediaType") == mt.WASM_CONFIG or wasm_layers:
        if len(wasm_layers) != 1:
            raise RegistryError(f"{where} has {len(wasm_layers)} layers of type {mt.WASM_CONTENT_LAYER}, "
                                "not exactly one", "an oci-variant Wasm image holds a single module")
        config_file, module_file = session.blobs([(config, "config"), (wasm_layers[0], "module")])
        with config_file, module_file:
            config_bytes = config_file.read()
            runtime = _json_object(config_bytes, f"the runtime config of {reference}")
            module = module_file.read()
        _check_module(module, reference)
        return module, runtime or None, "oci", {config["digest"]: config_bytes, wasm_layers[0]["digest"]: module}
    last = layers[-1]
    if last.get("mediaType") not in mt.TAR_GZIP_LAYERS:
        raise RegistryError(f"{reference} is not a Wasm image: its last layer is {last.get('mediaType')!r}",
                            "wasmbuild pulls compat images (tar+gzip layer with plugin.wasm) and oci-variant images")
    config_file, layer_file = session.blobs([(config, "config"), (last, "layer")])
    with config_file, layer_file:
        config_bytes = config_file.read()
        downloaded = {config["digest"]: config_bytes}
        if isinstance(layer_file, io.BytesIO):  # not one spooled to disk for its size: that is not kept
            downloaded[last["digest"]] = layer_file.getvalue()
        image_config = _json_object(config_bytes, f"the image config of {reference}")
        rootfs = image_config.get("rootfs")
        diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        expected = diff_ids[-1] if isinstance(diff_ids, list) and len(diff_ids) == len(layers) else None
        files = layer.unpack(layer_file, f"the layer of {reference}", expected if isinstance(expected, str) else None)
    module = files[mt.PLUGIN_FILE]
    _check_module(module, reference)
    packed_config: dict[str, Any] | None = None
    if mt.RUNTIME_CONFIG_FILE in files:
        packed_config = _json_object(files[mt.RUNTIME_CONFIG_FILE], f"runtime-config.json in {reference}")
    return module, packed_config or None, "compat", downloaded


def _check_module(module: bytes, reference: Reference) -> None:
    if not module.startswith(_WASM_MAGIC):
        raise RegistryError(f"the module in {reference} is not a WebAssembly binary (bad magic number)",
                            "the image does not hold a compiled .wasm; nothing was stored")
