"""The example filters of all three languages, built for real, add their headers under the host.

Every scaffolded project's own tests/test_filter.py (templates/common) runs against each build,
and `wasmbuild run` shows the headers. The builds cover what the host must get right for real
toolchains: the C++ SDK with clang/wasi-libc (a WASI reactor: _initialize) and emscripten
(env.emscripten_notify_memory_growth, WASI fd_write), Rust for wasm32-wasi (WASI imports,
proxy_on_memory_allocate) and wasm32-unknown-unknown (malloc), and both AssemblyScript SDKs
(export _start and malloc; the gcore one imports WASI fd_write and proc_exit, the solo-io one
wasi_unstable.proc_exit, and ABI 0.2.0).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.common import REPO, run_cli
from tests.fixtures.cpp_sdk import CppBuilds
from tests.fixtures.rust_sdk import TARGETS
from wasmbuild.abi import read_module
from wasmbuild.resources import toolchains_dir

pytestmark = [pytest.mark.toolchain, pytest.mark.slow]

CONFIG = {"name": "x-example", "value": "it works"}


def project_with(source: Path, module: Path, dest: Path) -> Path:
    """A copy of `source`'s project files (wasmbuild.toml, runtime-config.json, tests/) with
    `module` as its build/filter.wasm, so each build is tested the way its project tests it."""
    dest.mkdir(parents=True)
    for name in ("wasmbuild.toml", "runtime-config.json"):
        shutil.copy2(source / name, dest / name)
    shutil.copytree(source / "tests", dest / "tests")
    (dest / "build").mkdir()
    shutil.copy2(module, dest / "build" / "filter.wasm")
    return dest


def run_project_tests(project: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "4 passed" in proc.stdout


def check_headers_with_wasmbuild_run(project: Path) -> dict[str, object]:
    result = run_cli("run", str(project / "build" / "filter.wasm"), "--plugin-config", json.dumps(CONFIG),
                     "--response-header", ":status: 200", "--response-header", "location: /elsewhere", "--json")
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    response = report["response"]
    assert isinstance(response, dict)
    assert response["action"] == "continue"
    headers = [tuple(h) for h in response["headers"]]
    assert ("x-example", "it works") in headers
    assert ("hello", "world!") in headers
    assert [v for k, v in headers if k == "location"] == ["envoy-wasm"]
    assert any(log["level"] == "debug" for log in report["logs"])  # type: ignore[attr-defined]
    return report


def imports_of(module: Path) -> set[str]:
    return {i.symbol for i in read_module(module.read_bytes()).imports}


def exports_of(module: Path) -> set[str]:
    return {e.name for e in read_module(module.read_bytes()).exports}


# -- C++ ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compiler", ["clang-wasi", "emcc"])
def test_cpp_example(cpp_builds: CppBuilds, compiler: str, tmp_path: Path) -> None:
    module = cpp_builds.module(compiler)
    assert "_initialize" in exports_of(module)
    if compiler == "emcc":
        assert "env.emscripten_notify_memory_growth" in imports_of(module)
    project = project_with(cpp_builds.project, module, tmp_path / "project")
    run_project_tests(project)
    check_headers_with_wasmbuild_run(project)


# -- Rust ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
def test_rust_example(add_header_project: Path, add_header_wasm: dict[str, Path], target: str,
                      tmp_path: Path) -> None:
    module = add_header_wasm[target]
    expected_allocator = "proxy_on_memory_allocate" if target == "wasm32-wasi" else "malloc"
    assert expected_allocator in exports_of(module)
    if target == "wasm32-wasi":
        assert {"wasi_snapshot_preview1.fd_write", "wasi_snapshot_preview1.proc_exit"} <= imports_of(module)
    project = project_with(add_header_project, module, tmp_path / "project")
    run_project_tests(project)
    check_headers_with_wasmbuild_run(project)


# -- AssemblyScript -------------------------------------------------------------------------------------
def build_assemblyscript(sdk: str, dest: Path) -> Path:
    node_modules = toolchains_dir() / "npm" / sdk / "node_modules"
    if not (node_modules / ".bin" / "asc").exists():
        pytest.fail(f"{node_modules} is not installed: run scripts/bootstrap-debian "
                    f"(or npm ci --prefix toolchains/npm/{sdk})")
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed (apt-get install npm)")
    abi = ["--abi", "0.2.0"] if sdk == "solo-io" else []
    result = run_cli("new", str(dest), "--lang", "assemblyscript", "--sdk", sdk, *abi, "--no-prompt",
                     "--platform", "istio")
    assert result.returncode == 0, result.stderr
    (dest / "node_modules").symlink_to(node_modules, target_is_directory=True)
    env = dict(os.environ, npm_config_offline="true", npm_config_update_notifier="false")
    build = subprocess.run([npm, "run", "asbuild"], cwd=dest, env=env, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    return dest / "build" / "filter.wasm"


ASSEMBLYSCRIPT: dict[str, Callable[[set[str], set[str]], bool]] = {
    "gcore": lambda imports, exports: {"_start", "malloc"} <= exports
    and "wasi_snapshot_preview1.fd_write" in imports,
    "solo-io": lambda imports, exports: "malloc" in exports and "wasi_unstable.proc_exit" in imports
    and "proxy_abi_version_0_2_0" in exports,
}


@pytest.mark.parametrize("sdk", sorted(ASSEMBLYSCRIPT))
def test_assemblyscript_example(sdk: str, tmp_path: Path) -> None:
    project = tmp_path / "add-header"
    module = build_assemblyscript(sdk, project)
    assert ASSEMBLYSCRIPT[sdk](imports_of(module), exports_of(module))
    assert "env.proxy_set_effective_context" in imports_of(module)
    run_project_tests(project)
    check_headers_with_wasmbuild_run(project)
