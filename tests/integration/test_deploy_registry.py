"""WasmPlugin checksums against a real registry: push, pull, deploy.

Istio compares a WasmPlugin's sha256 for an oci:// url with the *image manifest digest* it pulls
(istio pkg/wasm: PrepareFetch returns img.Digest()), not with the module's own sha256. These tests
push a real module to Debian's docker-registry and check that what deploy writes is exactly the
digest the registry serves for that manifest.
"""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.fixtures.common import run_cli
from tests.fixtures.deploy import ROOT_ID
from tests.fixtures.registry import RegistryServer
from tests.fixtures.wasm import minimal_module
from wasmbuild import runtime_config
from wasmbuild.store import Store

pytestmark = pytest.mark.registry

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


def served_manifest_digest(registry: RegistryServer, repo: str, tag: str) -> str:
    """sha256 of the manifest bytes the registry serves for the tag (what Istio's fetcher computes)."""
    request = urllib.request.Request(registry.url(f"/v2/{repo}/manifests/{tag}"), headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request) as response:
        body = response.read()
        assert response.headers["Docker-Content-Digest"] == "sha256:" + hashlib.sha256(body).hexdigest()
    return hashlib.sha256(body).hexdigest()


def deployed(*args: str, env: dict[str, str] | None = None) -> tuple[dict, str]:
    result = run_cli("deploy", "istio", *args, "--id", "add-header", env=env)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout), result.stderr


@pytest.mark.parametrize("variant", ["compat", "oci"])
def test_pinned_push_output_deploys_with_the_manifest_digest(registry: RegistryServer, unique_repo: str,
                                                             docker_config: Path, variant: str) -> None:
    ref = f"{registry.host}/{unique_repo}:v1"
    entry = Store().put(ref, minimal_module(), runtime_config.default(["v0.2.1"], [ROOT_ID]))
    pushed = run_cli("push", ref, "--variant", variant)
    assert pushed.returncode == 0, pushed.stderr
    pinned = pushed.stdout.strip().splitlines()[-1]  # NAME@sha256:..., as push prints it
    served = served_manifest_digest(registry, unique_repo, "v1")
    assert pinned == f"{registry.host}/{unique_repo}@sha256:{served}"
    assert served != entry.sha256  # the module's sha256 would make Istio refuse the image

    plugin, notes = deployed(pinned)
    assert plugin["spec"]["url"] == f"oci://{pinned}"
    assert plugin["spec"]["sha256"] == served
    assert plugin["spec"]["pluginName"] == ROOT_ID
    assert "sha256 left out" not in notes

    tagged, _ = deployed(f"{ref}@sha256:{served}")
    assert tagged["spec"]["sha256"] == served


def test_pulled_module_deploys_with_its_recorded_digest(registry: RegistryServer, unique_repo: str,
                                                        docker_config: Path, tmp_path: Path) -> None:
    ref = f"{registry.host}/{unique_repo}:v1"
    Store().put(ref, minimal_module(), runtime_config.default(["v0.2.1"], [ROOT_ID]))
    assert run_cli("push", ref).returncode == 0
    served = served_manifest_digest(registry, unique_repo, "v1")

    fresh = {"WASMBUILD_HOME": str(tmp_path / "fresh-home")}
    pulled = run_cli("pull", ref, env=fresh)
    assert pulled.returncode == 0, pulled.stderr
    plugin, notes = deployed(ref, env=fresh)
    assert plugin["spec"]["url"] == f"oci://{ref}"
    assert plugin["spec"]["sha256"] == served
    assert "sha256 left out" not in notes
