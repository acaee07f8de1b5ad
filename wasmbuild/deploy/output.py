"""Manifests as text (YAML documents or JSON) and atomic writes of them.

YAML is written with PyYAML's safe dumper: it quotes exactly the strings that would otherwise read
back as something else (`"on"`, `"1.0"`, `"*"`), which a hand-written emitter gets wrong. No anchors
or aliases, keys in the order they were built, no line folding (long JSON configs stay on one line),
multi-line strings as literal blocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wasmbuild import files


def to_yaml(objects: Sequence[Mapping[str, Any]]) -> str:
    """The objects as YAML documents separated by `---`."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def _string(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
        style = "|" if "\n" in text.rstrip("\n") or text.endswith("\n") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

    _Dumper.add_representer(str, _string)

    return "---\n".join(
        yaml.dump(dict(obj), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                  width=2**30)
        for obj in objects)


def to_json(objects: Sequence[Mapping[str, Any]]) -> str:
    """One object as itself; several as a Kubernetes v1 List (what `kubectl apply -f` takes)."""
    if len(objects) == 1:
        document: Any = objects[0]
    else:
        document = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(objects: Sequence[Mapping[str, Any]], fmt: str = "yaml") -> str:
    return to_json(objects) if fmt == "json" else to_yaml(objects)


def write_atomic(path: Path, text: str) -> None:
    """Write the manifest `text` to `path` atomically (see wasmbuild.files), readable by all (0644).
    Its directory must exist."""
    files.write_atomic(path, text, parents=False)
