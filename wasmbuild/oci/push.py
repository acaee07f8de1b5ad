"""Push a stored module as an image: pack (deterministically), upload what the registry lacks, tag.

Blobs the registry already has are skipped (HEAD); blobs of an image pulled from another repository
of the same registry are cross-mounted instead of uploaded; the manifest goes last, so a push cut
off half-way leaves at most unreferenced blobs behind (the registry's garbage collector's business)
and never a tag pointing at an incomplete image.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wasmbuild import console
from wasmbuild.errors import RegistryError, UsageError
from wasmbuild.oci.auth import repository_scope
from wasmbuild.oci.image import Blob, Image, pack
from wasmbuild.oci.registry import Registry
from wasmbuild.refs import Reference

IMAGE_INFO_FILE = "image.json"  # in a store entry: where a pulled image came from (see pull.py)
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Pushed:
    reference: Reference
    digest: str
    size: int
    uploaded: int  # blobs sent
    skipped: int  # blobs the registry already had (or mounted)


def _mount_source(extra: Mapping[str, bytes], target: Reference) -> tuple[str, set[str]] | None:
    """(repository, digests) of the image this entry was pulled from, when it lives on the same registry."""
    try:
        info = json.loads(extra[IMAGE_INFO_FILE])
        manifest = json.loads(extra[MANIFEST_FILE])
        registry, repository = info["registry"], info["repository"]
    except (KeyError, ValueError, TypeError):
        return None
    if registry != target.registry or repository == target.repository:
        return None
    digests = {d.get("digest") for d in [manifest.get("config") or {}, *(manifest.get("layers") or [])]
               if isinstance(d, dict)}
    return repository, {d for d in digests if isinstance(d, str)}


def push(registry: Registry, target: Reference, module: bytes, runtime_config: Mapping[str, Any] | None,
         variant: str, extra: Mapping[str, bytes] | None = None) -> Pushed:
    image = pack(module, runtime_config, variant)
    if target.digest and target.digest != image.digest:
        raise UsageError(f"{target} names digest {target.digest}, but the {variant} image of this module is "
                         f"{image.digest}", "push by tag; the registry computes the digest")
    source = _mount_source(extra or {}, target)
    scopes: tuple[str, ...] = (repository_scope(target.repository, "pull,push"),)
    if source:
        scopes += (repository_scope(source[0], "pull"),)
    uploaded = skipped = 0
    for blob in image.blobs():
        if _send_blob(registry, target, blob, scopes, source):
            uploaded += 1
        else:
            skipped += 1
    echoed = registry.put_manifest(target.repository, target.reference, image.manifest, image.media_type)
    if echoed and echoed != image.digest:
        raise RegistryError(f"{registry.registry} stored the manifest as {echoed}, not {image.digest}",
                            "the registry rewrote the manifest; the image digest is not the one wasmbuild computed")
    return Pushed(target, image.digest, len(image.manifest), uploaded, skipped)


def _send_blob(registry: Registry, target: Reference, blob: Blob, scopes: tuple[str, ...],
               source: tuple[str, set[str]] | None) -> bool:
    """Upload one blob unless the registry has it; True when bytes were sent."""
    short = blob.digest.split(":", 1)[1][:12]
    if registry.blob_exists(target.repository, blob.digest, scopes):
        console.info(f"  {short}: already there")
        return False
    session = None
    if source and blob.digest in source[1]:
        session = registry.start_upload(target.repository, scopes, mount=(blob.digest, source[0]))
        if session is None:
            console.info(f"  {short}: mounted from {source[0]}")
            return False
    with console.progress(f"  {short}", total=blob.size) as bar:
        registry.upload_blob(target.repository, blob.digest, blob.data, scopes, session, progress=bar.update)
    console.info(f"  {short}: pushed {_size(blob.size)}")
    return True


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


__all__ = ["IMAGE_INFO_FILE", "MANIFEST_FILE", "Image", "Pushed", "push"]
