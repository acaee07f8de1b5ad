"""runtime-config.json: what a module tells the proxy about itself, in wasme's format.

    {"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": ["add_header"]}}

A build writes it into the store next to the module (the project's own file, or the default for
its ABI and root id), `package` takes one or makes the default, images carry it, and `run` and
`deploy` read the root id back from it. This module is the one place that reads and makes it, so
they all agree on the rules: a file that is there must be a JSON object, and the root ids are
the strings of config.rootIds (wasme also wrote root_ids).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False  # not `from typing import ...`: this module is on the no-op build's path
if TYPE_CHECKING:
    from typing import Any

FILE = "runtime-config.json"


def default(abi_versions: list[str], root_ids: list[str]) -> dict[str, Any]:
    """wasme's runtime config for a module: `default(["v0.2.1"], ["add_header"])`."""
    return {"type": "envoy_proxy", "abiVersions": abi_versions, "config": {"rootIds": root_ids}}


def load(path: Path, label: str | None = None) -> dict[str, Any]:
    """The runtime config in `path` (a JSON object); ConfigError when it is not one, and the
    errors of wasmbuild.files.read_bytes when it cannot be read (`label` names it there)."""
    from wasmbuild.files import read_json_object

    return read_json_object(path, label)


def root_ids(config: object) -> tuple[str, ...]:
    """The root ids a runtime config names, in order (none for anything malformed)."""
    inner = config.get("config") if isinstance(config, Mapping) else None
    ids = inner.get("rootIds", inner.get("root_ids")) if isinstance(inner, Mapping) else None
    return tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else ()


def first_root_id(path: Path) -> str | None:
    """The first root id of the runtime config in `path`, or None when there is no usable one
    (for guessing a default, where a broken file must not stop anything)."""
    try:
        ids = root_ids(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    return ids[0] if ids else None
