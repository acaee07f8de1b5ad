"""Deterministic packing of a module (and its runtime config) into an image of either variant.

Same module + same runtime config => same bytes => same manifest digest, on any machine with the
same zlib: JSON is serialised canonically (sorted keys, no spaces, UTF-8), the compat layer is
built by `wasmbuild.oci.layer`, and nothing time-, host- or user-dependent goes in.

compat (the default): an ordinary OCI image (what `docker build FROM scratch` + COPY would make)
whose single tar+gzip layer holds `plugin.wasm` and, when there is one, `runtime-config.json`
(spec-compat.md allows it). Its config is an image config with `rootfs.diff_ids`, so docker can
pull it, and the manifest carries `module.wasm.image/variant: compat` as the spec says for OCI
manifests. Istio's fetcher wants exactly one layer: there is exactly one.

oci: the Wasm artifact of spec.md as wasme pushed it: the runtime config is the manifest config
(`application/vnd.module.wasm.config.v1+json`) and also layer 0 (titled runtime-config.json),
the raw module is layer 1 (`application/vnd.module.wasm.content.layer.v1+wasm`, titled
filter.wasm). The duplicated config layer is deliberate: Istio reads this variant only from
manifests with exactly two layers. The manifest carries wasme's `module.wasm.runtime/abi_version`
and `module.wasm.runtime/type` annotations (compat manifests get them too: they cost nothing and
tell a registry UI what the image is).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from wasmbuild.oci import layer
from wasmbuild.oci import mediatypes as mt
from wasmbuild.record import Record

TYPE_CHECKING = False  # not `from typing import ...` nor dataclasses: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:
    from typing import Any

VARIANTS = ("compat", "oci")
DEFAULT_VARIANT = "compat"
# The platform written into compat image configs. A fixed value keeps the digest independent of
# the packing machine; docker refuses to pull images whose os is not its own ("linux"), and
# `docker build FROM scratch` on the usual build hosts writes amd64. Istio ignores both fields.
COMPAT_OS = "linux"
COMPAT_ARCHITECTURE = "amd64"


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_object(data: bytes, what: str, error: type[Exception]) -> dict[str, Any]:
    """Parse `data` as one JSON object, raising `error` that names `what` when it is not one."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise error(f"{what} is not a JSON object")
    return value


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Blob(Record):
    """A blob. Its sha256 digest is computed once, on first use: a push names each blob's digest
    several times (existence check, descriptor, upload), and hashing a 1 MB layer costs ~0.6 ms."""

    _fields = ("media_type", "data", "annotations")
    __slots__ = (*_fields, "_digest")
    media_type: str
    data: bytes
    annotations: Mapping[str, str]
    _digest: str

    def __init__(self, media_type: str, data: bytes, annotations: Mapping[str, str] | None = None) -> None:
        self._set(media_type, data, {} if annotations is None else annotations)

    @classmethod
    def verified(cls, media_type: str, data: bytes, digest: str, annotations: Mapping[str, str] | None = None
                 ) -> Blob:
        """A Blob whose sha256 `digest` the caller has just checked (pull hashes what it downloads)."""
        blob = cls(media_type, data, annotations)
        object.__setattr__(blob, "_digest", digest)
        return blob

    @property
    def digest(self) -> str:
        try:
            return self._digest
        except AttributeError:  # not computed yet (or a copy made by _replace, which may have new data)
            digest = sha256_digest(self.data)
            object.__setattr__(self, "_digest", digest)
            return digest

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


class Image(Record):
    """A packed image: its manifest bytes and every blob they name."""

    _fields = ("variant", "manifest", "media_type", "config", "layers")
    __slots__ = _fields
    variant: str
    manifest: bytes
    media_type: str
    config: Blob
    layers: tuple[Blob, ...]

    def __init__(self, variant: str, manifest: bytes, media_type: str, config: Blob, layers: tuple[Blob, ...]) -> None:
        self._set(variant, manifest, media_type, config, layers)

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    def blobs(self) -> list[Blob]:
        """Each distinct blob once, layers first and config last (the order registries like)."""
        seen: dict[str, Blob] = {}
        for blob in (*self.layers, self.config):
            seen.setdefault(blob.digest, blob)
        return list(seen.values())


def _wasme_annotations(runtime_config: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    versions = runtime_config.get("abiVersions")
    if isinstance(versions, list) and versions and all(isinstance(v, str) for v in versions):
        out[mt.ABI_VERSION] = ",".join(versions)
    kind = runtime_config.get("type")
    if isinstance(kind, str) and kind:
        out[mt.RUNTIME_TYPE] = kind
    return out


def _manifest(media_type: str, config: Blob, layers: tuple[Blob, ...], annotations: Mapping[str, str]) -> bytes:
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": config.descriptor(),
        "layers": [blob.descriptor() for blob in layers],
    }
    if annotations:
        body["annotations"] = dict(annotations)
    return canonical_json(body)


def pack_compat(module: bytes, runtime_config: Mapping[str, Any] | None = None) -> Image:
    files = {mt.PLUGIN_FILE: module}
    if runtime_config:
        files[mt.RUNTIME_CONFIG_FILE] = canonical_json(runtime_config)
    packed = layer.pack(files)
    image_config = {
        "architecture": COMPAT_ARCHITECTURE,
        "os": COMPAT_OS,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [packed.diff_id]},
    }
    config = Blob(mt.OCI_CONFIG, canonical_json(image_config))
    layers = (Blob(mt.OCI_LAYER_TAR_GZIP, packed.gzipped),)
    annotations = {mt.VARIANT: "compat", **_wasme_annotations(runtime_config or {})}
    return Image("compat", _manifest(mt.OCI_MANIFEST, config, layers, annotations), mt.OCI_MANIFEST, config, layers)


def pack_oci(module: bytes, runtime_config: Mapping[str, Any] | None = None) -> Image:
    config_bytes = canonical_json(dict(runtime_config or {}))
    config = Blob(mt.WASM_CONFIG, config_bytes)
    layers = (
        Blob(mt.WASM_CONFIG, config_bytes, {mt.TITLE: mt.RUNTIME_CONFIG_FILE}),
        Blob(mt.WASM_CONTENT_LAYER, module, {mt.TITLE: mt.WASME_MODULE_TITLE}),
    )
    annotations = _wasme_annotations(runtime_config or {})
    return Image("oci", _manifest(mt.OCI_MANIFEST, config, layers, annotations), mt.OCI_MANIFEST, config, layers)


def pack(module: bytes, runtime_config: Mapping[str, Any] | None = None, variant: str = DEFAULT_VARIANT) -> Image:
    if variant == "compat":
        return pack_compat(module, runtime_config)
    if variant == "oci":
        return pack_oci(module, runtime_config)
    raise ValueError(f"unknown image variant {variant!r}")
