"""Regenerate wasmbuild/deploy/data/istio-crds.json from Istio's CRD manifests.

A development-time tool, never imported by wasmbuild. It keeps each CRD's served versions with their
openAPIV3Schema exactly as Istio ships them (CEL rules and x-kubernetes-* markers included), minus the
`description` texts, and stores them as JSON so the CLI needs no YAML parser to validate:

    python dev/gen_crd_schemas.py ../shared/reference/istio-crds-wasmplugin-envoyfilter.yaml \
        > wasmbuild/deploy/data/istio-crds.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml


def strip_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip_descriptions(v) for k, v in node.items()
                if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [strip_descriptions(v) for v in node]
    return node


def main(source: Path) -> None:
    crds = []
    for doc in yaml.safe_load_all(source.read_text(encoding="utf-8")):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        for version in spec["versions"]:
            if not version.get("served", False):
                continue
            crds.append({
                "group": spec["group"],
                "version": version["name"],
                "kind": spec["names"]["kind"],
                "plural": spec["names"]["plural"],
                "scope": spec["scope"],
                "openAPIV3Schema": strip_descriptions(version["schema"]["openAPIV3Schema"]),
            })
    out = {"source": f"{source.name} (Istio CRDs)", "generator": "dev/gen_crd_schemas.py", "crds": crds}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
