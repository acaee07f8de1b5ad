"""OCI images of proxy-wasm modules: deterministic packing (compat and oci variants), a registry
client (auth from the docker config), and verified push and pull between the store and registries.

Library choice: hand-written on the standard library rather than oras-py (0.2.43, evaluated; see
wasmbuild/oci/http.py for why not requests either). oras-py downloads blobs straight to their
destination without checking digest or size, retries every request including blob uploads with
sleeps of up to 83 s, reports failures as ValueError("Issue with <url>: <reason>") without the
registry's error code or message, has no progress hook, can push only OCI manifests, packs
directories with a top-level directory entry (not the compat layout), and costs ~170 ms to import.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not `from typing import ...`: the store imports oci.mediatypes (see wasmbuild.record)
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["DEFAULT_VARIANT", "VARIANTS", "Image", "Pulled", "Pushed", "Registry", "pack", "pull", "push",
           "push_image"]

if TYPE_CHECKING:  # pragma: no cover
    from wasmbuild.oci.image import DEFAULT_VARIANT, VARIANTS, Image, pack
    from wasmbuild.oci.pull import Pulled, pull
    from wasmbuild.oci.push import Pushed, push, push_image
    from wasmbuild.oci.registry import Registry

# Loaded on first use, so `wasmbuild push` does not import the pull machinery and vice versa.
_WHERE = {"DEFAULT_VARIANT": "image", "VARIANTS": "image", "Image": "image", "pack": "image",
          "Pulled": "pull", "pull": "pull", "Pushed": "push", "push": "push", "push_image": "push",
          "Registry": "registry"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"wasmbuild.oci.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'wasmbuild.oci' has no attribute {name!r}")
