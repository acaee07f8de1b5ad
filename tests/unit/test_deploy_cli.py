"""`wasmbuild deploy` / `undeploy` as a user runs them: results, advice on stderr, and every bad input.

Each bad input must give its own exit code, one `error:` line (plus an optional `hint:` line), no
traceback, nothing on stdout and no file written.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures.common import run_cli
from tests.fixtures.deploy import LOCAL_REF, REF, StoredModule
from tests.fixtures.wasm import minimal_module

CONFIG = '{"name": "x-hello", "value": "world"}'


def assert_failed(result: object, code: int, *words: str) -> None:
    returncode, stdout, stderr = result.returncode, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert returncode == code, (returncode, stderr)
    assert stdout == ""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if not line.startswith("usage:") and line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert all(line.startswith(("error: ", "hint: ", "  ")) for line in lines), stderr
    for word in words:
        assert word in errors[0], (word, errors[0])


# -- results ------------------------------------------------------------------------------------
def test_wasmplugin_defaults_from_the_store(stored_module: StoredModule) -> None:
    result = run_cli("deploy", "istio", REF, "--id", "add-header", "--config", CONFIG)
    assert result.returncode == 0, result.stderr
    (plugin,) = yaml.safe_load_all(result.stdout)
    assert plugin["spec"]["url"] == f"oci://{REF}"
    assert plugin["spec"]["pluginName"] == stored_module.root_id  # rootIds[0] of runtime-config.json
    assert plugin["spec"]["pluginConfig"] == {"name": "x-hello", "value": "world"}
    assert plugin["metadata"]["namespace"] == "default"
    # the module's sha256 is not the image digest Istio checks for oci://: it must not be guessed
    assert "sha256" not in plugin["spec"]
    assert "sha256 left out" in result.stderr


def test_wasmplugin_uses_the_recorded_image_digest(stored_module: StoredModule) -> None:
    """When the store entry records the registry image it came from (image.json), its digest pins it."""
    digest = "ab" * 32
    info = {"registry": "localhost:5000", "repository": "filters/add-header", "digest": f"sha256:{digest}"}
    from wasmbuild.store import Store

    Store().put(REF, minimal_module(), {"type": "envoy_proxy", "config": {"rootIds": ["add_header"]}},
                {"image.json": json.dumps(info).encode()})
    result = run_cli("deploy", "istio", REF, "--id", "add-header")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["sha256"] == digest
    assert "sha256 left out" not in result.stderr


def test_http_url_carries_the_module_sha256(stored_module: StoredModule) -> None:
    result = run_cli("deploy", "istio", REF, "--id", "add-header", "--url", "https://example.com/f.wasm")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["sha256"] == stored_module.sha256


def test_ref_without_registry_warns(stored_module: StoredModule) -> None:
    result = run_cli("deploy", "istio", LOCAL_REF, "--id", "add-header")
    assert result.returncode == 0, result.stderr
    assert "names no registry" in result.stderr


def test_envoyfilter_local_code_defaults_to_wasme_cache_path(stored_module: StoredModule) -> None:
    result = run_cli("deploy", "istio", REF, "--id", "add-header", "--kind", "envoyfilter")
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    config = doc["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["value"]["config"]
    assert config["vm_config"]["code"] == {"local": {"filename": f"/var/local/lib/wasme-cache/{stored_module.sha256}"}}
    assert "mount it there" in result.stderr


def test_envoy_bootstrap_points_at_the_stored_module(stored_module: StoredModule) -> None:
    result = run_cli("deploy", "envoy", REF)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"filename: {stored_module.path}" in text
    assert "root_id: add_header" in text


def test_envoy_bootstrap_from_a_file_with_runtime_config_beside_it(tmp_path: Path) -> None:
    module = tmp_path / "filter.wasm"
    module.write_bytes(minimal_module())
    (tmp_path / "runtime-config.json").write_text(json.dumps({"config": {"rootIds": ["from_file"]}}))
    result = run_cli("deploy", "envoy", str(module), "--id", "mine")
    assert result.returncode == 0, result.stderr
    assert f"filename: {module}" in result.stdout
    assert "root_id: from_file" in result.stdout
    assert "name: mine" in result.stdout


def test_envoy_output_is_written_atomically(stored_module: StoredModule, tmp_path: Path) -> None:
    target = tmp_path / "envoy.yaml"
    target.write_text("old contents\n")
    result = run_cli("deploy", "envoy", REF, "--output", str(target), "--config", CONFIG)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    assert yaml.safe_load(target.read_text())["static_resources"]["listeners"][0]["name"] == "http"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["envoy.yaml"]  # no temporary file left behind
    assert run_cli("deploy", "envoy", REF, "--config", CONFIG).stdout == target.read_text()


def test_config_from_file_and_stdin(stored_module: StoredModule, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "name": "x-file",\n  "value": "1"\n}\n')
    from_file = run_cli("deploy", "istio", REF, "--id", "a", "--kind", "envoyfilter", "--config", f"@{path}")
    assert from_file.returncode == 0, from_file.stderr
    assert '{"name":"x-file","value":"1"}' in from_file.stdout
    from_stdin = run_cli("deploy", "istio", REF, "--id", "a", "--config", "@-", input='{"name": "x-stdin"}')
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert yaml.safe_load(from_stdin.stdout)["spec"]["pluginConfig"] == {"name": "x-stdin"}


def test_undeploy_with_ref_renders_what_deploy_rendered(stored_module: StoredModule) -> None:
    args = ["istio", REF, "--id", "add-header", "--kind", "envoyfilter", "--selector", "app=web", "--config", CONFIG]
    deployed, undeployed = run_cli("deploy", *args), run_cli("undeploy", *args)
    assert deployed.returncode == undeployed.returncode == 0
    assert deployed.stdout == undeployed.stdout


def test_help_lists_the_platforms() -> None:
    result = run_cli("deploy", "--help")
    assert result.returncode == 0
    for word in ("istio", "envoy", "gloo"):
        assert word in result.stdout


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("args, code, words", [
    (["deploy", "istio", "Not A Ref!", "--id", "x"], 2, ["invalid image reference"]),
    (["deploy", "istio", "localhost:5000/nothing/here:v9", "--id", "x"], 3, ["not in the local store"]),
    (["deploy", "envoy", "localhost:5000/nothing/here:v9"], 3, ["not in the local store"]),
    (["deploy", "gloo", "localhost:5000/nothing/here:v9", "--id", "x"], 3, ["not in the local store"]),
    (["deploy", "istio", REF, "--id", "x", "--config", "{bad json"], 2, ["--config", "not valid JSON"]),
    (["deploy", "envoy", REF, "--config", '{"a": }'], 2, ["not valid JSON", "line 1"]),
    (["deploy", "istio", REF, "--id", "x", "--config", "[1, 2]"], 2, ["must be a JSON object"]),
    # a Latin-1 byte in the shell's argument: refused, not written into the manifest as "\uDCFF"
    (["deploy", "istio", REF, "--id", "x", "--config", '{"a": "caf\udce9"}'], 2, ["--config", "not UTF-8"]),
    (["deploy", "istio", REF, "--id", "x", "--config", "@/"], 2, ["--config @/ is a directory"]),
    (["deploy", "istio", REF, "--id", "x", "--config", "@/nonexistent/config.json"], 3, ["/nonexistent/config.json"]),
    (["deploy", "istio", REF, "--id", "x", "--selector", "app"], 2, ["--selector", "key=value"]),
    (["deploy", "istio", REF, "--id", "x", "--selector", "app=we*b"], 2, ["label value"]),
    (["deploy", "istio", REF, "--id", "x", "--selector=-bad-=x"], 2, ["label key"]),
    (["deploy", "istio", REF, "--id", "x", "--selector", "a/b/c=x"], 2, ["label key"]),
    (["deploy", "istio", REF, "--id", "x", "--selector", "app=a,app=b"], 2, ["given twice"]),
    (["deploy", "istio", REF, "--id", "x", "-n", "Bad_Namespace"], 2, ["namespace"]),
    (["deploy", "istio", REF, "--id", "x", "-n", "a" * 64], 2, ["namespace"]),
    (["deploy", "istio", REF, "--id", "Add_Header"], 2, ["--id", "Kubernetes name"]),
    (["deploy", "gloo", REF, "--id", "x", "--gateway", "UPPER"], 2, ["--gateway"]),
    (["deploy", "istio", REF, "--id", "x", "--priority", "9999999999"], 2, ["--priority"]),
    (["deploy", "istio", REF, "--id", "x", "--kind", "envoyfilter", "--pull-policy", "Always"], 2,
     ["--pull-policy", "envoyfilter"]),
    (["deploy", "istio", REF, "--id", "x", "--patch-context", "gateway"], 2, ["--patch-context", "wasmplugin"]),
    (["deploy", "istio", REF, "--id", "x", "--sha256", "abc"], 2, ["--sha256"]),
    (["deploy", "istio", REF, "--id", "x", "--kind", "envoyfilter", "--code-uri", "ftp://x/y.wasm"], 2,
     ["--code-uri"]),
    (["deploy", "istio", REF, "--id", "x", "--phase", "LATE"], 2, ["--phase"]),
    (["deploy", "istio", REF, "--id", "x", "--url", "ftp://x/y.wasm"], 2, ["--url", "ftp://x/y.wasm"]),
    (["deploy", "istio", REF, "--id", "x", "--url", "filter.wasm"], 2, ["--url"]),
    (["deploy", "istio", REF], 2, ["--id"]),
    (["deploy", "envoy", REF, "--upstream", "no-port"], 2, ["--upstream"]),
    (["deploy", "envoy", REF, "--upstream", "host:99999"], 2, ["out of range"]),
    (["deploy", "envoy", REF, "--listen", "0.0.0.0:http"], 2, ["--listen"]),
    (["deploy", "envoy", REF, "--upstream-tls"], 2, ["--upstream-tls"]),
    (["deploy", "envoy", "/nonexistent/filter.wasm"], 3, ["no such file"]),
    (["deploy", "envoy", REF, "--id", "has space"], 2, ["--id"]),
    (["undeploy", "gloo", "--id", "x"], 2, ["--apply"]),
    (["undeploy", "istio", "--id", "x", "-n", "Bad"], 2, ["namespace"]),
    (["deploy", "kubernetes", REF], 2, ["kubernetes"]),
])
def test_bad_input(args: list[str], code: int, words: list[str], stored_module: StoredModule) -> None:
    assert_failed(run_cli(*args), code, *words)


def test_file_that_is_not_wasm(tmp_path: Path) -> None:
    bogus = tmp_path / "filter.wasm"
    bogus.write_text("not wasm")
    assert_failed(run_cli("deploy", "envoy", str(bogus), "--root-id", "x"), 2, "not a WebAssembly module")


def test_file_without_known_root_id(tmp_path: Path) -> None:
    module = tmp_path / "filter.wasm"
    module.write_bytes(minimal_module())
    assert_failed(run_cli("deploy", "envoy", str(module)), 2, "no root id")
    ok = run_cli("deploy", "envoy", str(module), "--root-id", "")
    assert ok.returncode == 0 and "root_id" not in ok.stdout


def test_invalid_render_never_reaches_the_output(stored_module: StoredModule, tmp_path: Path) -> None:
    """Input that passes the flag checks but breaks the CRD schema (imagePullSecret <= 253 characters)."""
    target = tmp_path / "out.yaml"
    result = run_cli("deploy", "istio", REF, "--id", "x", "--pull-secret", "s" * 300, "--output", str(target))
    assert_failed(result, 7, "WasmPlugin x is invalid", "imagePullSecret")
    assert not target.exists()


def test_nothing_written_on_bad_input(stored_module: StoredModule, tmp_path: Path) -> None:
    target = tmp_path / "envoy.yaml"
    assert_failed(run_cli("deploy", "envoy", REF, "--config", "{", "--output", str(target)), 2)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output(stored_module: StoredModule, tmp_path: Path) -> None:
    assert_failed(run_cli("deploy", "envoy", REF, "--output", str(tmp_path / "missing-dir" / "envoy.yaml")), 3)


def test_apply_without_kubectl(stored_module: StoredModule, tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "KUBECTL": ""}  # an empty PATH: no kubectl anywhere
    assert_failed(run_cli("deploy", "istio", REF, "--id", "x", "--apply", env=env), 7, "kubectl", "not found")
    assert_failed(run_cli("undeploy", "istio", "--id", "x", "--apply", env=env), 7, "kubectl")
    assert_failed(run_cli("deploy", "gloo", REF, "--id", "x", "--apply", env=env), 7, "kubectl")


def _unreachable_kubeconfig(tmp_path: Path) -> Path:
    """A kubeconfig whose API server is a closed port on localhost: a real kubectl failure."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "nowhere",
        "clusters": [{"name": "nowhere", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "contexts": [{"name": "nowhere", "context": {"cluster": "nowhere", "user": "nobody"}}],
        "users": [{"name": "nobody", "user": {}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def test_apply_when_kubectl_fails(stored_module: StoredModule, kubectl: str, tmp_path: Path) -> None:
    env = {"KUBECONFIG": str(_unreachable_kubeconfig(tmp_path)), "KUBECTL": kubectl}
    result = run_cli("deploy", "istio", REF, "--id", "x", "--apply", env=env)
    assert_failed(result, 7, "kubectl apply failed")
    assert_failed(run_cli("undeploy", "istio", "--id", "x", "--apply", env=env), 7, "kubectl delete failed")
    assert_failed(run_cli("deploy", "gloo", REF, "--id", "x", "--apply", env=env), 7, "kubectl get failed")


def test_kubectl_runner_pipes_manifests(kubectl: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner hands stdin to the real kubectl and returns what it printed (a local, offline verb)."""
    from wasmbuild.deploy import kubectl as runner
    from wasmbuild.deploy.output import to_yaml

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    manifest = to_yaml([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}])
    said = runner.run(["label", "--local", "-f", "-", "-o", "name", "x=y"], manifest)
    assert said.split() == ["configmap/a", "configmap/b"]


def test_python_api_is_importable_without_the_cli() -> None:
    """The walkthrough renders both Istio kinds through the library API."""
    code = ("from wasmbuild.deploy import render_wasmplugin, render_envoyfilter, plugin_config, local_code, "
            "to_yaml, check\n"
            "p = render_wasmplugin(name='a', namespace='default', url='oci://r/a:v1', plugin_name='root')\n"
            "e = render_envoyfilter(name='a', namespace='default', plugin=plugin_config(name='a', root_id='root', "
            "vm_id='a', code=local_code('/x.wasm')))\n"
            "check([p, e]); print(to_yaml([p, e]).count('---'))\n")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2], env={**os.environ})
    assert out.stdout.strip() == "1"


def test_digest_ref_resolves_to_the_stored_tag(stored_module: StoredModule) -> None:
    digest = "sha256:" + "7f" * 32
    name = REF.rsplit(":", 1)[0]
    result = run_cli("deploy", "istio", f"{name}@{digest}", "--id", "a")  # the only stored tag of that name
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["sha256"] == "7f" * 32
    from wasmbuild.store import Store

    Store().put(f"{name}:v2", minimal_module(), {"config": {"rootIds": ["other"]}})
    assert_failed(run_cli("deploy", "istio", f"{name}@{digest}", "--id", "a"), 3, "not in the local store")
    tagged = run_cli("deploy", "istio", f"{name}:v2@{digest}", "--id", "a")
    assert tagged.returncode == 0, tagged.stderr
    assert yaml.safe_load(tagged.stdout)["spec"]["pluginName"] == "other"


def test_image_info_file_is_the_one_the_oci_code_writes() -> None:
    import importlib

    from wasmbuild.deploy import source

    assert source.IMAGE_INFO_FILE == importlib.import_module("wasmbuild.oci.push").IMAGE_INFO_FILE


def test_gateway_selector_gets_the_gateway_context(stored_module: StoredModule) -> None:
    """wasme's inbound default never matched a gateway's listeners (solo-io/wasm#267): no silent no-op."""
    args = ["deploy", "istio", REF, "--id", "a", "--kind", "envoyfilter", "-n", "istio-system"]
    result = run_cli(*args, "--selector", "istio=ingressgateway")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["configPatches"][0]["match"]["context"] == "GATEWAY"
    assert "--patch-context gateway" in result.stderr
    explicit = run_cli(*args, "--selector", "istio=ingressgateway", "--patch-context", "inbound")
    assert yaml.safe_load(explicit.stdout)["spec"]["configPatches"][0]["match"]["context"] == "SIDECAR_INBOUND"


def test_render_istio_api_matches_the_cli(stored_module: StoredModule) -> None:
    from wasmbuild.deploy import render_istio, to_yaml

    for kind in ("wasmplugin", "envoyfilter"):
        notes: list[str] = []
        obj = render_istio(REF, name="add-header", kind=kind, config={"name": "x-hello", "value": "world"},
                           selector={"app": "web"}, notes=notes)
        cli = run_cli("deploy", "istio", REF, "--id", "add-header", "--kind", kind, "--config", CONFIG,
                      "--selector", "app=web")
        assert to_yaml([obj]) == cli.stdout
        assert notes and all(note in cli.stderr for note in notes)


def test_render_istio_api_rejects_bad_input(stored_module: StoredModule) -> None:
    from wasmbuild.deploy import render_istio
    from wasmbuild.errors import ConfigError, NotFoundError, UsageError

    with pytest.raises(UsageError):
        render_istio(REF, name="Bad_Name")
    with pytest.raises(UsageError, match="label value"):
        render_istio(REF, name="a", selector={"app": "*"})
    with pytest.raises(ConfigError):
        render_istio(REF, name="a", config=[1])
    with pytest.raises(NotFoundError):
        render_istio("localhost:5000/not/there:v1", name="a")
    with pytest.raises(UsageError, match="kind"):
        render_istio(REF, name="a", kind="sidecar")


def test_a_module_envoy_would_refuse_is_not_deployed(wasmbuild_home: Path, tmp_path: Path) -> None:
    import wasmtime

    from wasmbuild.store import Store

    broken = bytes(wasmtime.wat2wasm('(module (func (export "proxy_on_context_create") (param i32 i32)))'))
    Store().put(REF, broken, {"config": {"rootIds": ["r"]}})
    path = tmp_path / "broken.wasm"
    path.write_bytes(broken)
    for args in (["deploy", "istio", REF, "--id", "a"], ["deploy", "istio", REF, "--id", "a", "--kind", "envoyfilter"],
                 ["deploy", "envoy", REF], ["deploy", "envoy", str(path), "--root-id", "r"],
                 ["deploy", "gloo", REF, "--id", "a"]):
        assert_failed(run_cli(*args), 7, "would not load in Envoy", "ABI version marker", "and 2 more")
        forced = run_cli(*args, "--skip-check")
        assert forced.returncode == 0, forced.stderr
    assert run_cli("undeploy", "istio", REF, "--id", "a").returncode == 0


def test_suggestions_are_next_steps_not_warnings(stored_module: StoredModule, tmp_path: Path) -> None:
    target = tmp_path / "envoy.yaml"
    envoy = run_cli("deploy", "envoy", REF, "--output", str(target))
    assert envoy.returncode == 0, envoy.stderr
    assert f"next: envoy -c {target}" in envoy.stderr and "warning: run it" not in envoy.stderr
    gloo = run_cli("deploy", "gloo", REF, "--id", "x")
    assert gloo.returncode == 0, gloo.stderr
    assert "next: kubectl patch gateways.gateway.solo.io gateway-proxy -n gloo-system" in gloo.stderr
    assert "warning:" not in gloo.stderr
