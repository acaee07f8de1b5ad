"""Golden manifests of `wasmbuild deploy` / `undeploy`, one per kind and option family.

Each case runs the real CLI in a subprocess against a real module in an isolated store; the output
must equal tests/golden/deploy/<name> (`pytest --update-goldens` rewrites them). Every golden file is
then validated on its own: Istio objects against the CRD schemas, the Envoy filters and bootstraps
against Envoy's API tables, and (with kubectl) parsed by kubectl itself.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.fixtures.common import run_cli
from tests.fixtures.deploy import REF, StoredModule
from tests.fixtures.golden import GOLDEN_DIR

CONFIG = '{"name": "x-hello", "value": "world"}'
DIGEST = "sha256:" + "5e" * 32
DEPLOY_DIR = GOLDEN_DIR / "deploy"

CASES: dict[str, list[str]] = {
    # Istio WasmPlugin
    "istio-wasmplugin-default.yaml": ["deploy", "istio", REF, "--id", "add-header"],
    "istio-wasmplugin-options.yaml": [
        "deploy", "istio", REF, "--id", "add-header", "-n", "istio-ingress", "--selector", "istio=ingressgateway",
        "--selector", "app.kubernetes.io/part-of=shop", "--config", CONFIG, "--phase", "AUTHN", "--priority", "10",
        "--fail-open", "--pull-policy", "Always", "--pull-secret", "registry-creds", "--root-id", "custom_root"],
    "istio-wasmplugin-pinned.yaml": ["deploy", "istio", f"localhost:5000/filters/add-header@{DIGEST}",
                                     "--id", "add-header", "--config", "{}"],
    "istio-wasmplugin-http-url.yaml": ["deploy", "istio", REF, "--id", "add-header",
                                       "--url", "https://filters.example.com/add-header.wasm"],
    "istio-wasmplugin.json": ["deploy", "istio", REF, "--id", "add-header", "--format", "json"],
    # Istio EnvoyFilter
    "istio-envoyfilter-default.yaml": ["deploy", "istio", REF, "--id", "add-header", "--kind", "envoyfilter",
                                       "--selector", "app=web", "--config", CONFIG],
    "istio-envoyfilter-gateway.yaml": [
        "deploy", "istio", REF, "--id", "add-header", "--kind", "envoyfilter", "-n", "istio-system",
        "--selector", "istio=ingressgateway", "--patch-context", "gateway", "--typed-config", "direct",
        "--code-path", "/etc/istio/filters/add-header.wasm"],
    "istio-envoyfilter-remote.yaml": [
        "deploy", "istio", REF, "--id", "add-header", "--kind", "envoyfilter", "--patch-context", "outbound",
        "--code-uri", "https://filters.example.com/add-header.wasm", "--phase", "STATS", "--priority", "-5",
        "--fail-open", "--config", CONFIG],
    "istio-envoyfilter-any-cluster.yaml": [
        "deploy", "istio", REF, "--id", "add-header", "--kind", "envoyfilter", "--patch-context", "any",
        "--code-uri", "http://wasm-server.filters.svc.cluster.local:8080/add-header.wasm",
        "--code-cluster", "outbound|8080||wasm-server.filters.svc.cluster.local"],
    # undeploy
    "undeploy-wasmplugin.yaml": ["undeploy", "istio", "--id", "add-header", "-n", "shop"],
    "undeploy-envoyfilter.yaml": ["undeploy", "istio", "--id", "add-header", "--kind", "envoyfilter"],
    # standalone Envoy
    "envoy-local-reply.yaml": ["deploy", "envoy", REF, "--code-path", "/etc/envoy/add-header.wasm",
                               "--config", CONFIG],
    "envoy-upstream-dns-tls.yaml": [
        "deploy", "envoy", REF, "--code-path", "/etc/envoy/add-header.wasm", "--id", "hello",
        "--listen", "127.0.0.1:10000", "--upstream", "httpbin.org:443", "--upstream-tls", "--admin-port", "19000",
        "--fail-open", "--root-id", "add_header"],
    "envoy-upstream-ip.json": ["deploy", "envoy", REF, "--code-path", "/etc/envoy/add-header.wasm",
                               "--upstream", "127.0.0.1:8000", "--listen", "10000", "--format", "json"],
    # Gloo
    "gloo-gateway.yaml": ["deploy", "gloo", REF, "--id", "add-header", "--config", CONFIG],
    "gloo-gateway-custom.yaml": ["deploy", "gloo", REF, "--id", "add-header", "-n", "gloo", "--gateway",
                                 "public-gw", "--root-id", "custom_root"],
}


def load_documents(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        doc = json.loads(text)
        return doc["items"] if doc.get("kind") == "List" else [doc]
    return [d for d in yaml.safe_load_all(text) if d is not None]


def golden_files() -> list[Path]:
    return sorted(p for p in DEPLOY_DIR.iterdir() if p.suffix in (".yaml", ".json"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(name: str, stored_module: StoredModule, golden: object) -> None:
    from wasmbuild.store import Store

    Store().put(f"localhost:5000/filters/add-header@{DIGEST}", stored_module.path.read_bytes(),
                {"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": ["add_header"]}})
    result = run_cli(*CASES[name])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    golden.check(f"deploy/{name}", result.stdout)  # type: ignore[attr-defined]


def test_every_golden_has_a_case() -> None:
    assert {p.name for p in golden_files()} == set(CASES)


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.name)
def test_golden_validates(path: Path) -> None:
    """Every golden passes the same gate the CLI uses, and for Istio the CRD schema on its own."""
    from wasmbuild.deploy import crd_validation, envoy_validation, validation

    for doc in load_documents(path):
        assert validation.problems(doc) == []
        if doc.get("apiVersion", "").startswith(("extensions.istio.io/", "networking.istio.io/")):
            assert crd_validation.validate(doc) == []
        if "static_resources" in doc:
            found = envoy_validation.validate(doc)
            assert all(p.deprecated and p.path.endswith(".fail_open") for p in found), found


def _kubernetes_goldens() -> list[Path]:
    return [p for p in golden_files() if p.name.startswith(("istio-", "undeploy-", "gloo-"))]


@pytest.mark.parametrize("path", _kubernetes_goldens(), ids=lambda p: p.name)
def test_kubectl_reads_golden(path: Path, kubectl: str, tmp_path: Path) -> None:
    """kubectl decodes each golden into the same objects, client-side and without a cluster.

    `kubectl apply --dry-run=client` cannot run without an API server (it needs discovery to map a
    kind to its resource, even with --validate=false); `kubectl label --local` runs the same
    file-reading and decoding path fully offline, so that is what we run.
    """
    env = {"KUBECONFIG": str(tmp_path / "no-kubeconfig"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([kubectl, "label", "--local", "--dry-run=client", "-o", "json", "-f", str(path),
                           "wasmbuild-test=ok"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    items = out["items"] if out.get("kind") == "List" else [out]
    expected = load_documents(path)
    assert len(items) == len(expected)
    for got, want in zip(items, expected, strict=True):
        assert got["metadata"]["labels"].pop("wasmbuild-test") == "ok"
        if not got["metadata"]["labels"]:
            del got["metadata"]["labels"]
        assert got == want


def test_kubectl_kustomize_takes_all_goldens(kubectl: str, tmp_path: Path) -> None:
    """kustomize (built into kubectl, offline) accepts every object as a resource: kind, version, name."""
    resources = []
    for path in _kubernetes_goldens():
        if path.name.startswith("undeploy-"):
            continue  # same names as the deploy goldens: kustomize refuses duplicate ids
        for i, doc in enumerate(load_documents(path)):
            doc["metadata"]["name"] = f"{doc['metadata']['name']}-{path.stem}-{i}"
            target = tmp_path / f"{path.stem}-{i}.yaml"
            target.write_text(yaml.safe_dump(doc), encoding="utf-8")
            resources.append(target.name)
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": resources}), encoding="utf-8")
    env = {"KUBECONFIG": str(tmp_path / "no-kubeconfig"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len([d for d in yaml.safe_load_all(proc.stdout) if d]) == len(resources)
