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
    # One by one (cheap HEADs; the first settles authentication), then the uploads side by side.
    missing: list[tuple[Blob, str | None]] = []  # (blob, upload session already started)
    for blob in image.blobs():
        if registry.blob_exists(target.repository, blob.digest, scopes):
            console.info(f"  {_short(blob)}: already there")
            continue
        session = None
        if source and blob.digest in source[1]:
            session = registry.start_upload(target.repository, scopes, mount=(blob.digest, source[0]))
            if session is None:
                console.info(f"  {_short(blob)}: mounted from {source[0]}")
                continue
        missing.append((blob, session))
    with console.progress("pushing", total=sum(b.size for b, _ in missing)) as bar:
        concurrently([partial(_upload, registry, target, blob, scopes, session, bar.update)
                      for blob, session in missing])
    for blob, _ in missing:  # after the bar is gone, so lines and bar do not interleave
        console.info(f"  {_short(blob)}: pushed {human_size(blob.size)}")
    echoed = registry.put_manifest(target.repository, target.reference, image.manifest, image.media_type)
    if echoed and echoed != image.digest:
        raise RegistryError(f"{registry.registry} stored the manifest as {echoed}, not {image.digest}",
                            "the registry rewrote the manifest; the image digest is not the one wasmbuild computed")
    return Pushed(target, image.digest, len(image.manifest), len(missing), len(image.blobs()) - len(missing))


def _upload(registry: Registry, target: Reference, blob: Blob, scopes: tuple[str, ...], session: str | None,
            progress: Callable[[int], None]) -> None:
    registry.upload_blob(target.repository, blob.digest, blob.data, scopes, session, progress=progress)


def _short(blob: Blob) -> str:
    return blob.digest.split(":", 1)[1][:12]


__all__ = ["IMAGE_INFO_FILE", "Image", "Pushed", "push", "push_image"]
