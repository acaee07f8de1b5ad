"""The packed image(s) kept with a store entry, so a push sends them instead of packing again.

Packing the compat variant means deflating the module (~9 ms per MiB at level 1): done once, when
the module is stored (`wasmbuild build`, `package`), it is not done again by every push of the
same build, to however many registries and tags. A pulled image is kept exactly as the registry
sent it (manifest and blobs, after pull verified them), so pushing it elsewhere keeps its digest
even when another tool packed it. This is what `docker build` and `docker push` do with layers.

The file is <entry>/image.tar: an OCI image layout (`oci-layout`, `index.json` naming each image
by its variant in `org.opencontainers.image.ref.name`, `blobs/sha256/<hex>`) in one ustar archive,
as `tar tf` lists it. One file rather than the layout's directory tree: on the file systems
measured, each file created costs a pull or a build ~0.3 ms. A blob that is the module itself
(the oci variant's layer) is not repeated: it is filter.wasm.

It is a cache, written unsynced (see wasmbuild.store): `read` hashes every blob it returns and
says what is wrong with a missing, damaged or inconsistent one, and the caller packs the image
again from the module. Nothing in it is pushed unless it hashes to the digest that names it.
"""

from __future__ import annotations

from wasmbuild import console
from wasmbuild.oci import mediatypes as mt
from wasmbuild.oci.image import VARIANTS, Blob, Image, canonical_json, json_object, pack, sha256_digest
from wasmbuild.oci.layer import read_tar, write_tar
from wasmbuild.store import Store, StoreEntry

TYPE_CHECKING = False  # not `from typing import ...`: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

REF_NAME = "org.opencontainers.image.ref.name"
_LAYOUT_FILE = b'{"imageLayoutVersion":"1.0.0"}'


class Damaged(Exception):
    """The kept image cannot be used: the message says why (for the warning the caller prints)."""


def archive(images: Iterable[Image], module: bytes | None = None) -> bytes:
    """image.tar holding `images`, each named by its variant; a blob equal to `module` is left out."""
    files: dict[str, bytes] = {"oci-layout": _LAYOUT_FILE}
    manifests = []
    for image in images:
        for blob in image.blobs():
            if module is None or blob.size != len(module) or blob.data != module:
                files[blob_path(blob.digest)] = blob.data
        files[blob_path(image.digest)] = image.manifest
        manifests.append({"mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest),
                          "annotations": {REF_NAME: image.variant}})
    files["index.json"] = canonical_json({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests})
    return write_tar(files)


def packed(module: bytes, runtime_config: Mapping[str, Any] | None) -> bytes:
    """The image.tar a freshly stored module gets: its compat image (the default variant, and the
    one whose packing costs; the oci variant is the module itself plus JSON)."""
    return archive([pack(module, runtime_config, "compat")])


def image_of(store: Store, entry: StoreEntry, variant: str) -> Image:
    """The `variant` image of a stored module: the kept one if it is intact, else packed now from
    the module (and kept, for the compat variant, unless the entry changed meanwhile)."""
    try:
        kept = read(entry, variant)
    except Damaged as exc:
        console.warn(f"the packed image kept with {entry.ref} is damaged ({exc}); packing it again")
        kept = None
    if kept is not None:
        return kept
    module = entry.read_module()
    image = pack(module, entry.runtime_config or None, variant)
    if variant == "compat":
        others = []
        for other in VARIANTS:
            try:
                previous = read(entry, other) if other != variant else None
            except Damaged:
                previous = None
            if previous is not None:
                others.append(previous)
        store.keep_image(entry, archive([image, *others], module))
    return image


def read(entry: StoreEntry, variant: str) -> Image | None:
    """The kept `variant` image of `entry`, every blob verified; None when none is kept; Damaged
    when one is kept but cannot be used."""
    data = entry.read_image()
    if data is None:
        return None
    files = read_tar(data)
    if files is None:
        raise Damaged("image.tar is not an archive wasmbuild wrote")
    index = _object(files.get("index.json"), "index.json")
    chosen = [m for m in index.get("manifests") or []
              if isinstance(m, dict) and (m.get("annotations") or {}).get(REF_NAME) == variant]
    if not chosen:
        return None
    blobs = _Blobs(files, entry)
    descriptor = chosen[0]
    manifest_bytes = blobs.data(descriptor, "the manifest")
    if sha256_digest(manifest_bytes) != descriptor["digest"]:
        raise Damaged(f"the manifest does not match its digest {descriptor['digest']}")
    manifest = _object(manifest_bytes, "the manifest")
    config_descriptor = manifest.get("config")
    layer_descriptors = manifest.get("layers")
    if not isinstance(config_descriptor, dict) or not isinstance(layer_descriptors, list) or not layer_descriptors:
        raise Damaged("the manifest has no config or no layers")
    config = blobs.blob(config_descriptor, "the config")
    layers = []
    for i, layer in enumerate(layer_descriptors):
        if not isinstance(layer, dict):
            raise Damaged(f"layer {i} of the manifest is not a descriptor")
        layers.append(blobs.blob(layer, f"layer {i}"))
    media_type = str(descriptor.get("mediaType") or manifest.get("mediaType") or mt.OCI_MANIFEST)
    return Image(variant, manifest_bytes, media_type, config, tuple(layers))


def blob_path(digest: str) -> str:
    """Where the layout keeps the blob `digest`: blobs/<algorithm>/<hex>."""
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


class _Blobs:
    """The blobs of one image.tar, each verified against its digest once."""

    def __init__(self, files: Mapping[str, bytes], entry: StoreEntry) -> None:
        self._files = files
        self._entry = entry
        self._verified: dict[str, Blob] = {}

    def data(self, descriptor: Mapping[str, Any], what: str) -> bytes:
        """The bytes `descriptor` names, if they have its size (the caller checks the digest)."""
        digest, size = descriptor.get("digest"), descriptor.get("size")
        if not isinstance(digest, str) or not digest.startswith("sha256:") or len(digest) != 71:
            raise Damaged(f"{what} has no sha256 digest")
        data = self._files.get(blob_path(digest))
        if data is None and digest == self._entry.digest:  # the module itself is not repeated in the archive
            try:
                data = self._entry.read_module()
            except OSError as exc:
                raise Damaged(f"{what} is the module, which cannot be read: {exc.strerror or exc}") from exc
        if data is None:
            raise Damaged(f"{what} {digest} is missing")
        if len(data) != size:
            raise Damaged(f"{what} {digest} has {len(data)} bytes, not {size}")
        return data

    def blob(self, descriptor: Mapping[str, Any], what: str) -> Blob:
        """The Blob `descriptor` names, only if its bytes hash to the digest (hashed once: the Blob keeps it)."""
        media_type, annotations = str(descriptor.get("mediaType")), descriptor.get("annotations")
        if not isinstance(annotations, dict):
            annotations = None
        known = self._verified.get(str(descriptor.get("digest")))
        if known is not None:  # the same bytes named twice (the oci variant's config is also a layer)
            return Blob.verified(media_type, known.data, known.digest, annotations)
        blob = Blob(media_type, self.data(descriptor, what), annotations)
        if blob.digest != descriptor["digest"]:
            raise Damaged(f"{what} does not match its digest {descriptor['digest']}")
        self._verified[blob.digest] = blob
        return blob


def _object(data: bytes | None, what: str) -> dict[str, Any]:
    if data is None:
        raise Damaged(f"{what} is missing")
    return json_object(data, what, Damaged)
