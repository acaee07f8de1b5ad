"""The packed image(s) kept with a store entry, so a push sends them instead of packing again.

Packing the compat variant means deflating the module (~9 ms per MiB at level 1): done once, when
the module is stored (`wasmbuild build`, `package`), it is not done again by every push of the
same build, to however many registries and tags. A pulled image is kept exactly as the registry
sent it (manifest and blobs, after pull verified them), so pushing it elsewhere keeps its digest
even when another tool packed it. This is what `docker build` and `docker push` do with layers.

The files are an OCI image layout in <entry>/image/ (`skopeo copy oci:<entry>/image:compat ...`
reads it too): `oci-layout`, `index.json` naming each image by its variant
(`org.opencontainers.image.ref.name`), and `blobs/sha256/<hex>` for manifests, configs and layers.

It is a cache, written unsynced (see wasmbuild.store): `read` hashes every blob it returns and
says what is wrong with a missing, damaged or inconsistent one, and the caller packs the image
again from the module. Nothing in it is pushed unless it hashes to the digest that names it.
"""

from __future__ import annotations

import json

from wasmbuild import console
from wasmbuild.oci import mediatypes as mt
from wasmbuild.oci.image import VARIANTS, Blob, Image, canonical_json, pack, sha256_digest
from wasmbuild.store import IMAGE_DIR, Store, StoreEntry

TYPE_CHECKING = False  # not `from typing import ...`: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path
    from typing import Any

REF_NAME = "org.opencontainers.image.ref.name"
_LAYOUT_FILE = b'{"imageLayoutVersion":"1.0.0"}'


class Damaged(Exception):
    """The kept image cannot be used: the message says why (for the warning the caller prints)."""


def files(images: Iterable[Image]) -> dict[str, bytes]:
    """The image/ files (paths relative to it) holding `images`, each named by its variant."""
    out: dict[str, bytes] = {"oci-layout": _LAYOUT_FILE}
    manifests = []
    for image in images:
        for blob in image.blobs():
            out[_blob_path(blob.digest)] = blob.data
        out[_blob_path(image.digest)] = image.manifest
        manifests.append({"mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest),
                          "annotations": {REF_NAME: image.variant}})
    out["index.json"] = canonical_json({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests})
    return out


def packed(module: bytes, runtime_config: Mapping[str, Any] | None) -> dict[str, bytes]:
    """The image/ files a freshly stored module gets: its compat image (the default variant, and
    the one whose packing costs; the oci variant is the module itself plus JSON)."""
    return files([pack(module, runtime_config, "compat")])


def image_of(store: Store, entry: StoreEntry, variant: str) -> Image:
    """The `variant` image of a stored module: the kept one if it is intact, else packed now from
    the module (and kept, for the compat variant, unless the entry changed meanwhile)."""
    try:
        kept = read(entry.directory, variant)
    except Damaged as exc:
        console.warn(f"the packed image kept with {entry.ref} is damaged ({exc}); packing it again")
        kept = None
    if kept is not None:
        return kept
    image = pack(entry.read_module(), entry.runtime_config or None, variant)
    if variant == "compat":
        others = []
        for other in VARIANTS:
            try:
                kept = read(entry.directory, other) if other != variant else None
            except Damaged:
                kept = None
            if kept is not None:
                others.append(kept)
        store.keep_image(entry, files([image, *others]))
    return image


def read(directory: Path, variant: str) -> Image | None:
    """The kept `variant` image of the entry in `directory`, every blob verified; None when none is
    kept; Damaged when one is kept but cannot be used."""
    root = directory / IMAGE_DIR
    try:
        index_bytes = (root / "index.json").read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Damaged(f"index.json: {exc.strerror or exc}") from exc
    index = _object(index_bytes, "index.json")
    chosen = [m for m in index.get("manifests") or []
              if isinstance(m, dict) and (m.get("annotations") or {}).get(REF_NAME) == variant]
    if not chosen:
        return None
    descriptor = chosen[0]
    manifest_bytes = _read(root, descriptor, "the manifest")
    if sha256_digest(manifest_bytes) != descriptor["digest"]:
        raise Damaged(f"the manifest does not match its digest {descriptor['digest']}")
    manifest = _object(manifest_bytes, "the manifest")
    config_descriptor = manifest.get("config")
    layer_descriptors = manifest.get("layers")
    if not isinstance(config_descriptor, dict) or not isinstance(layer_descriptors, list) or not layer_descriptors:
        raise Damaged("the manifest has no config or no layers")
    seen: dict[str, Blob] = {}
    config = _blob(root, config_descriptor, "the config", seen)
    layers = []
    for i, layer in enumerate(layer_descriptors):
        if not isinstance(layer, dict):
            raise Damaged(f"layer {i} of the manifest is not a descriptor")
        layers.append(_blob(root, layer, f"layer {i}", seen))
    media_type = str(descriptor.get("mediaType") or manifest.get("mediaType") or mt.OCI_MANIFEST)
    return Image(variant, manifest_bytes, media_type, config, tuple(layers))


def _blob_path(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _read(root: Path, descriptor: Mapping[str, Any], what: str) -> bytes:
    """The bytes of the blob `descriptor` names, if they have its size (the caller checks the digest)."""
    digest, size = descriptor.get("digest"), descriptor.get("size")
    if not isinstance(digest, str) or not digest.startswith("sha256:") or len(digest) != 71 or "/" in digest:
        raise Damaged(f"{what} has no sha256 digest")
    try:
        data = (root / _blob_path(digest)).read_bytes()
    except OSError as exc:
        raise Damaged(f"{what} {digest}: {exc.strerror or exc}") from exc
    if len(data) != size:
        raise Damaged(f"{what} {digest} has {len(data)} bytes, not {size}")
    return data


def _blob(root: Path, descriptor: Mapping[str, Any], what: str, seen: dict[str, Blob]) -> Blob:
    """The blob `descriptor` names, only if its bytes hash to the digest (hashed once: the Blob keeps it)."""
    annotations = descriptor.get("annotations")
    known = seen.get(str(descriptor.get("digest")))
    data = known.data if known is not None else _read(root, descriptor, what)
    blob = Blob(str(descriptor.get("mediaType")), data, annotations if isinstance(annotations, dict) else None)
    if known is None:
        if blob.digest != descriptor["digest"]:
            raise Damaged(f"{what} does not match its digest {descriptor['digest']}")
        seen[blob.digest] = blob
    return blob


def _object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Damaged(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise Damaged(f"{what} is not a JSON object")
    return value
