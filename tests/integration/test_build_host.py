"""`wasmbuild build --backend host`: the same plans with this machine's tools (Debian clang with
wasi-libc, emscripten, Bazel, zig from PyPI, Debian's rustc 1.63, node and npm), and the hint that
names what is missing when a tool is not there."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.common import run_cli
from tests.fixtures.scaffold import locked
from wasmbuild.abi import check
from wasmbuild.store import Store

pytestmark = [pytest.mark.toolchain, pytest.mark.slow]


def host_build(project: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run_cli("build", str(project), "--backend", "host", *args, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("built (host)"), result.stdout
    module = project / "build" / "filter.wasm"
    report = check(module.read_bytes(), "0.2.1")
    assert report.ok, report.findings
    return hashlib.sha256(module.read_bytes()).hexdigest()


@pytest.mark.parametrize(("kind", "options"), [
    ("cpp", ()),
    ("cpp", ("--toolchain", "emscripten")),
    ("cpp", ("--toolchain", "zig")),
    ("rust", ()),
    ("new:cpp", ()),
    ("new:cpp", ("--mode", "direct", "--toolchain", "zig")),
    ("new:rust", ()),
])
def test_each_toolchain_builds_on_the_host(make_project: Any, kind: str, options: tuple[str, ...]) -> None:
    project = make_project(kind)
    sha = host_build(project, *options)
    assert Store().get(_ref(project)).sha256 == sha
    assert not (project / "bazel-bin").exists() and not (project / "target").exists()  # built in a scratch copy


@pytest.mark.parametrize("kind", ["assemblyscript", "new:assemblyscript"])
def test_assemblyscript_builds_on_the_host_from_the_npm_cache(make_project: Any, kind: str) -> None:
    # offline: the packages come from npm's cache (scripts/bootstrap-debian filled it), never the network
    project = make_project(kind)
    host_build(project, env={"NPM_CONFIG_OFFLINE": "true"})
    assert not (project / "node_modules").exists()


def test_the_host_and_the_container_build_the_same_bytes(builder_image: str, make_project: Any) -> None:
    project = make_project("cpp")
    on_host = host_build(project)
    result = run_cli("build", str(project), "--backend", "container")
    assert result.returncode == 0, result.stderr
    assert f"sha256:{on_host}" in result.stdout


def test_a_missing_host_tool_is_named(make_project: Any, tmp_path: Path) -> None:
    project = make_project("cpp")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = run_cli("build", str(project), "--backend", "host", env={"PATH": str(empty)})
    assert result.returncode == 5
    assert "clang++" in result.stderr and "apt-get install" in result.stderr
    assert "--backend container" in result.stderr
    node = make_project("assemblyscript")
    result = run_cli("build", str(node), "--backend", "host", env={"PATH": str(empty)})
    assert result.returncode == 5 and "node and npm" in result.stderr


def test_rust_links_with_the_rust_lld_beside_rustc_when_path_does_not_reach_it(make_project: Any,
                                                                                tmp_path: Path) -> None:
    # Debian's rustc is found at /usr/bin even when PATH misses it; its linker must be found too,
    # not reported as a compile error after the crates compiled
    project = make_project("rust")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = run_cli("build", str(project), "--backend", "host", env={"PATH": str(empty)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("built (host)")


def test_output_mistakes_name_the_path_the_user_gave(make_project: Any, tmp_path: Path) -> None:
    project = make_project("rust")
    host_build(project)
    result = run_cli("build", str(project), "--backend", "host", "-o", str(tmp_path))
    assert result.returncode == 2 and f"cannot write {tmp_path}: it is a directory" in result.stderr
    (tmp_path / "file").write_text("x")
    result = run_cli("build", str(project), "--backend", "host", "-o", str(tmp_path / "file" / "f.wasm"))
    assert result.returncode == 2 and f"{tmp_path / 'file'} is a file, not a directory" in result.stderr
    locked_dir = tmp_path / "locked"
    locked_dir.mkdir()
    with locked(locked_dir):
        result = run_cli("build", str(project), "--backend", "host", "-o", str(locked_dir / "f.wasm"))
    assert result.returncode == 8 and f"cannot write {locked_dir / 'f.wasm'}:" in result.stderr
    assert ".tmp" not in result.stderr and "Traceback" not in result.stderr
    assert list(locked_dir.iterdir()) == []


def test_a_host_compile_error_exits_4(make_project: Any) -> None:
    project = make_project("rust")
    lib = project / "src" / "lib.rs"
    lib.write_text(lib.read_text().replace("1\n}", "undefined_name\n}", 1))
    result = run_cli("build", str(project), "--backend", "host")
    assert result.returncode == 4
    assert "cannot find value `undefined_name`" in result.stderr and f"{project}/src/lib.rs" in result.stderr


def _ref(project: Path) -> str:
    from wasmbuild.config import load_project

    return load_project(project).config.default_ref


def test_the_host_build_keeps_the_users_tool_settings(make_project: Any) -> None:
    # HOME is left alone on the host (npm's and cargo's own config live there)
    project = make_project("rust")
    host_build(project, env={"HOME": os.environ.get("HOME", "/root")})


def _imports_of_build(project: Path) -> tuple[str, set[str]]:
    result = run_cli("build", str(project), "--backend", "host", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.stderr
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    return result.stdout, modules


def test_a_noop_rebuild_imports_nothing_heavy_and_restores_what_was_removed(make_project: Any) -> None:
    project = make_project("cpp")
    host_build(project)
    stdout, modules = _imports_of_build(project)
    assert stdout.strip().endswith("cache hit")
    assert not {"pydantic", "docker", "wasmtime", "tomllib", "tomli", "tqdm", "jinja2"} & modules
    # the output and the store entry come back without a compile
    (project / "build" / "filter.wasm").unlink()
    store = Store()
    store.remove(_ref(project))
    stdout, _ = _imports_of_build(project)
    assert stdout.strip().endswith("cache hit")
    assert (project / "build" / "filter.wasm").is_file() and store.find(_ref(project)) is not None


def test_editing_settings_that_do_not_change_the_module_does_not_recompile(make_project: Any) -> None:
    project = make_project("cpp")
    host_build(project)
    with open(project / "wasmbuild.toml", "a") as handle:
        handle.write('\n[package]\nref = "renamed:v2"\n')
    (project / "runtime-config.json").write_text(
        '{"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": ["other"]}}')
    result = run_cli("build", str(project), "--backend", "host")
    assert result.returncode == 0 and result.stdout.strip().endswith("cache hit")
    assert Store().get("renamed:v2").runtime_config["config"]["rootIds"] == ["other"]
    # a config change that does matter (the ABI the module is checked against) is a miss, and fails
    toml = project / "wasmbuild.toml"
    toml.write_text(toml.read_text().replace('language = "cpp"', 'language = "cpp"\nabi = "0.2.0"'))
    result = run_cli("build", str(project), "--backend", "host")
    assert result.returncode == 4 and "abi-mismatch" in result.stderr
