"""Scaffolded AssemblyScript projects compile, as they are, with the pinned packages and no network.

The packages are the sets in toolchains/npm/<sdk> (scripts/bootstrap-debian runs `npm ci` there;
the builder image preinstalls the same), linked into the project as its node_modules, as the
build's host backend does. Then the plain `npm run asbuild` the project's README documents.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import wasmtime

from tests.fixtures.common import run_cli
from wasmbuild.resources import toolchains_dir

pytestmark = [pytest.mark.toolchain, pytest.mark.slow]

EXPECTED = {
    # sdk: (ABI marker, allocator, entry point or None, imports beyond env.proxy_*)
    "gcore": ("proxy_abi_version_0_2_1", "malloc", "_start", {"wasi_snapshot_preview1.fd_write"}),
    "solo-io": ("proxy_abi_version_0_2_0", "malloc", None, {"wasi_unstable.proc_exit"}),
}


def _packages(sdk: str) -> Path:
    node_modules = toolchains_dir() / "npm" / sdk / "node_modules"
    if not (node_modules / ".bin" / "asc").exists():
        pytest.fail(f"{node_modules} is not installed: run scripts/bootstrap-debian "
                    f"(or npm ci --prefix toolchains/npm/{sdk})")
    return node_modules


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both SDK variants, scaffolded and compiled once for the module's tests."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed (apt-get install npm)")
    modules = {}
    for sdk in sorted(EXPECTED):
        project = tmp_path_factory.mktemp(sdk) / "add-header"
        result = run_cli("new", str(project), "--lang", "assemblyscript", "--sdk", sdk, input="")
        assert result.returncode == 0, result.stderr
        (project / "node_modules").symlink_to(_packages(sdk), target_is_directory=True)
        env = dict(os.environ, npm_config_offline="true", npm_config_update_notifier="false")
        build = subprocess.run([npm, "run", "asbuild"], cwd=project, env=env, capture_output=True, text=True,
                               timeout=300)
        assert build.returncode == 0, build.stdout + build.stderr
        assert "ERROR" not in build.stdout + build.stderr
        modules[sdk] = project / "build" / "filter.wasm"
    return modules


@pytest.mark.parametrize("sdk", sorted(EXPECTED))
def test_assemblyscript_project_compiles_offline_to_its_abi(built: dict[str, Path], sdk: str) -> None:
    module = wasmtime.Module.from_file(wasmtime.Engine(), str(built[sdk]))
    exports = {e.name for e in module.exports}
    imports = {f"{i.module}.{i.name}" for i in module.imports}
    marker, allocator, entry, other_imports = EXPECTED[sdk]
    assert marker in exports
    assert allocator in exports
    assert {"proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers",
            "proxy_on_response_headers", "proxy_on_vm_start", "memory"} <= exports
    if entry:
        assert entry in exports
    assert {"env.proxy_log", "env.proxy_add_header_map_value", "env.proxy_replace_header_map_value",
            "env.proxy_get_buffer_bytes"} <= imports
    assert {i for i in imports if not i.startswith("env.proxy_")} == other_imports

    from wasmbuild.abi import check

    report = check(built[sdk])
    assert not [f for f in report.findings if f.severity == "error"], report


@pytest.mark.parametrize("sdk", sorted(EXPECTED))
def test_assemblyscript_add_header_behaviour(built: dict[str, Path], sdk: str) -> None:
    """The behaviour every language's example shares (BRIEF "Agreed decisions"); leaving each `with`
    retires the plugin (proxy_on_done, proxy_on_delete on the root), which must not trap either."""
    from wasmbuild.testing import load_filter

    with load_filter(built[sdk], root_id="add_header", plugin_config={"name": "x-wasm", "value": "on"}) as f:
        stream = f.http_stream()
        assert stream.send_request_headers() == "continue"
        assert stream.send_response_headers({":status": "302", "location": "/elsewhere"}) == "continue"
        headers = stream.response_headers
        assert headers["x-wasm"] == "on"
        assert headers.get_all("location") == ["envoy-wasm"]
        assert headers["hello"] == "world!"
        stream.finish()
        messages = [(r.level, r.message) for r in f.logs]
        assert ("info", "add_header: adding response header x-wasm: on") in messages
        assert any(level == "debug" and "request with 4 headers" in m for level, m in messages)

    with load_filter(built[sdk], root_id="add_header") as f:  # empty configuration: no extra header
        stream = f.http_stream()
        stream.send_request_headers()
        stream.send_response_headers()
        assert [name for name, _ in stream.response_headers] == [":status", "location", "hello"]


@pytest.mark.parametrize("config", ['{"name": 1}', '{"oops": "x"}', "not json", '{"value": "v"}',
                                    '{"name": "bad name"}'])
@pytest.mark.parametrize("sdk", sorted(EXPECTED))
def test_assemblyscript_rejects_invalid_configuration(built: dict[str, Path], sdk: str, config: str) -> None:
    from wasmbuild.testing import ConfigurationRejected, load_filter

    with pytest.raises(ConfigurationRejected, match="add_header: invalid plugin configuration: "):
        load_filter(built[sdk], root_id="add_header", plugin_config=config)
