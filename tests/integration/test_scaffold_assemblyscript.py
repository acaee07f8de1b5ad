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


@pytest.mark.parametrize("sdk", sorted(EXPECTED))
def test_assemblyscript_project_compiles_offline(tmp_path: Path, sdk: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed (apt-get install npm)")
    project = tmp_path / "add-header"
    result = run_cli("new", str(project), "--lang", "assemblyscript", "--sdk", sdk, input="")
    assert result.returncode == 0, result.stderr
    (project / "node_modules").symlink_to(_packages(sdk), target_is_directory=True)

    env = dict(os.environ, npm_config_offline="true", npm_config_update_notifier="false")
    build = subprocess.run([npm, "run", "asbuild"], cwd=project, env=env, capture_output=True, text=True,
                           timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    assert "ERROR" not in build.stdout + build.stderr

    module = wasmtime.Module.from_file(wasmtime.Engine(), str(project / "build" / "filter.wasm"))
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
