"""The seed article's walk, end to end, for every language, exactly as a user types it:

    wasmbuild new -> build (in the builder container) -> list -> run -> push -> pull (into an empty
    store) -> deploy istio (WasmPlugin and EnvoyFilter, validated) -> check the pulled module

Real parts only: the builder image built by our own code, Debian's docker-registry on 127.0.0.1,
the real compilers inside the container and the real module under wasmbuild's local host.
Also `nox -s walkthrough`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from tests.fixtures.common import run_cli
from wasmbuild.deploy.crd_validation import validate
from wasmbuild.store import Store

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.slow]

LANGUAGES = ["cpp", "assemblyscript", "rust"]


def ok(result, what: str) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, f"{what} failed (exit {result.returncode}):\n{result.stderr[-4000:]}"
    assert "Traceback" not in result.stderr
    return str(result.stdout)


@pytest.mark.parametrize("language", LANGUAGES)
def test_seed_walk(language: str, tmp_path: Path, builder_image: str, registry, docker_config: Path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / f"{language}-add-header"
    ref = f"{registry.host}/walkthrough/{language}-add-header:v1"

    # wasme init -> wasmbuild new
    ok(run_cli("new", str(project), "--lang", language, "--platform", "istio", "--no-prompt"), "new")
    assert (project / "wasmbuild.toml").is_file() and (project / "runtime-config.json").is_file()

    # wasme build -> wasmbuild build, hermetic, in the builder container
    line = ok(run_cli("build", str(project), "--backend", "container", "-t", ref, timeout=1800), "build")
    module = project / "build" / "filter.wasm"
    sha256 = hashlib.sha256(module.read_bytes()).hexdigest()
    assert f"sha256:{sha256}" in line and "ABI 0.2.1" in line

    # wasme list -> wasmbuild list
    listing = ok(run_cli("list"), "list")
    row = next(r for r in listing.splitlines() if r.startswith(f"{registry.host}/walkthrough/{language}-add-header "))
    assert row.split()[1] == "v1" and sha256[:8] in row

    # the filter adds its headers under the local proxy-wasm host, as Envoy would see it
    config = json.dumps({"name": "x-walkthrough", "value": language})
    text = ok(run_cli("run", str(module), "--plugin-config", config), "run")
    assert "hello: world!" in text and "location: envoy-wasm" in text
    report = json.loads(ok(run_cli("run", str(module), "--plugin-config", config, "--json"), "run --json"))
    headers = dict(report["response"]["headers"])
    assert headers["hello"] == "world!"
    assert headers["location"] == "envoy-wasm"
    assert headers["x-walkthrough"] == language

    # wasme push -> wasmbuild push, to a real registry
    pushed = ok(run_cli("push", ref), "push")
    assert "@sha256:" in pushed

    # pull it back into an EMPTY store: the very same module
    fresh_home = tmp_path / "fresh-home"
    ok(run_cli("pull", ref, env={"WASMBUILD_HOME": str(fresh_home)}), "pull")
    pulled = Store(fresh_home / "store").get(ref)
    assert pulled.sha256 == sha256
    assert pulled.read_module() == module.read_bytes()

    # wasme deploy istio -> wasmbuild deploy istio, both kinds, valid against Istio's CRDs
    env = {"WASMBUILD_HOME": str(fresh_home)}
    for kind in ("wasmplugin", "envoyfilter"):
        rendered = ok(run_cli("deploy", "istio", ref, "--id", f"add-header-{language}", "--kind", kind,
                              "--config", config, env=env), f"deploy istio --kind {kind}")
        objects = [o for o in yaml.safe_load_all(rendered) if o]
        assert objects and all(validate(o) == [] for o in objects)
        assert objects[0]["kind"] == {"wasmplugin": "WasmPlugin", "envoyfilter": "EnvoyFilter"}[kind]
        if kind == "wasmplugin":
            assert objects[0]["spec"]["url"] == f"oci://{ref}"

    # and the pulled module passes the ABI check Envoy applies when it loads it
    assert "ok" in ok(run_cli("check", str(pulled.module_path), env=env), "check of the pulled module")


@pytest.mark.parametrize("language", LANGUAGES)
def test_nox_in_a_fresh_project_passes(language: str, tmp_path: Path, builder_image: str) -> None:
    """A scaffolded project's noxfile (wasmbuild.nox: build, check, test) passes as generated."""
    import subprocess
    import sys

    from tests.fixtures.common import REPO

    project = tmp_path / f"{language}-nox"
    ok(run_cli("new", str(project), "--lang", language, "--platform", "istio", "--no-prompt"), "new")
    env = dict(__import__("os").environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "nox"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    for session in ("build", "check", "test"):
        assert f"Session {session} was successful" in proc.stderr
