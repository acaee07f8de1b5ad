"""Push a stored module as an image: pack (deterministically), upload what the registry lacks, tag.

Blobs the registry already has are skipped (HEAD); blobs of an image pulled from another repository
of the same registry are cross-mounted instead of uploaded; the manifest goes last, so a push cut
off half-way leaves at most unreferenced blobs behind (the registry's garbage collector's business)
and never a tag pointing at an incomplete image.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial

from wasmbuild import console
from wasmbuild.build.units import human_size
from wasmbuild.errors import RegistryError, UsageError
from wasmbuild.oci.auth import repository_scope
from wasmbuild.oci.http import concurrently
from wasmbuild.oci.image import Blob, Image, pack
from wasmbuild.oci.registry import Registry
from wasmbuild.record import Record
from wasmbuild.refs import Reference
from wasmbuild.store import IMAGE_INFO_FILE

TYPE_CHECKING = False  # not `from typing import ...` nor dataclasses: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:
    from typing import Any


class Pushed(Record):
    _fields = ("reference", "digest", "size", "uploaded", "skipped")
    __slots__ = _fields
    reference: Reference
    digest: str
    size: int
    uploaded: int  # blobs sent
    skipped: int  # blobs the registry already had (or mounted)

    def __init__(self, reference: Reference, digest: str, size: int, uploaded: int, skipped: int) -> None:
        self._set(reference, digest, size, uploaded, skipped)


def _mount_source(extra: Mapping[str, bytes], target: Reference) -> tuple[str, set[str]] | None:
    """(repository, digests) of the image this entry was pulled from (its image.json: where it came
    from and the manifest as the registry sent it), when it lives on the same registry."""
    try:
        info = json.loads(extra[IMAGE_INFO_FILE])
        manifest = json.loads(info["manifest"])
        registry, repository = info["registry"], info["repository"]
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    if registry != target.registry or repository == target.repository:
        return None
    digests = {d.get("digest") for d in [manifest.get("config") or {}, *(manifest.get("layers") or [])]
               if isinstance(d, dict)}
    return repository, {d for d in digests if isinstance(d, str)}


def push(registry: Registry, target: Reference, module: bytes, runtime_config: Mapping[str, Any] | None,
         variant: str, extra: Mapping[str, bytes] | None = None) -> Pushed:
    """Pack `module` as a `variant` image and push it."""
    return push_image(registry, target, pack(module, runtime_config, variant), extra)


def push_image(registry: Registry, target: Reference, image: Image, extra: Mapping[str, bytes] | None = None
               ) -> Pushed:
    """Push a packed image (`extra`: the store entry's other files, for image.json's mount source)."""
    if target.digest and target.digest != image.digest:
        raise UsageError(f"{target} names digest {target.digest}, but the {image.variant} image of this module is "
                         f"{image.digest}", "push by tag; the registry computes the digest")
    source = _mount_source(extra or {}, target)
    scopes: tuple[str, ...] = (repository_scope(target.repository, "pull,push"),)
    if source:
        scopes += (repository_scope(source[0], "pull"),)
    # The first existence check goes alone: it settles authentication (one token fetch, not one per
    # thread). Then every blob goes its own way side by side: check, mount or upload.
    blobs = image.blobs()
    first_there = registry.blob_exists(target.repository, blobs[0].digest, scopes)
    with console.progress("pushing", total=sum(b.size for b in blobs)) as bar:
        outcomes = concurrently([partial(_send, registry, target, blob, scopes, source, first_there if i == 0 else None,
                                         bar.update) for i, blob in enumerate(blobs)])
    for blob, outcome in zip(blobs, outcomes, strict=True):  # after the bar is gone, so lines and bar do not interleave
        if outcome == "pushed":
            console.info(f"  {_short(blob)}: pushed {human_size(blob.size)}")
        elif outcome == "mounted":
            console.info(f"  {_short(blob)}: mounted from {source[0] if source else '?'}")
        else:
            console.info(f"  {_short(blob)}: already there")
    echoed = registry.put_manifest(target.repository, target.reference, image.manifest, image.media_type)
    if echoed and echoed != image.digest:
        raise RegistryError(f"{registry.registry} stored the manifest as {echoed}, not {image.digest}",
                            "the registry rewrote the manifest; the image digest is not the one wasmbuild computed")
    sent = outcomes.count("pushed")
    return Pushed(target, image.digest, len(image.manifest), sent, len(blobs) - sent)


def _send(registry: Registry, target: Reference, blob: Blob, scopes: tuple[str, ...],
          source: tuple[str, set[str]] | None, there: bool | None, progress: Callable[[int], None]) -> str:
    """Get `blob` into the target repository: "there" (the registry has it), "mounted" (from the
    repository the image was pulled from) or "pushed". `there`: the existence check, if made already."""
    if there is None:
        there = registry.blob_exists(target.repository, blob.digest, scopes)
    if there:
        progress(blob.size)
        return "there"
    session = None
    if source and blob.digest in source[1]:
        session = registry.start_upload(target.repository, scopes, mount=(blob.digest, source[0]))
        if session is None:
            progress(blob.size)
            return "mounted"
    registry.upload_blob(target.repository, blob.digest, blob.data, scopes, session, progress=progress)
    return "pushed"


def _short(blob: Blob) -> str:
    return blob.digest.split(":", 1)[1][:12]


__all__ = ["IMAGE_INFO_FILE", "Image", "Pushed", "push", "push_image"]
