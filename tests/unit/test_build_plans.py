"""Build plans are pure data: what each language would run, checked without docker or compilers."""

from __future__ import annotations

import shlex
from pathlib import Path, PurePosixPath

import pytest

from tests.fixtures.builder import copy_project
from wasmbuild.build import container, host
from wasmbuild.build.plan import CONTAINER_TOOLS, Tools
from wasmbuild.config import load_project
from wasmbuild.errors import ConfigError
from wasmbuild.languages import LANGUAGES

CONTAINER_WS = container.workspace_for("probe")


def plan_for(directory: Path, workspace=CONTAINER_WS, tools: Tools = CONTAINER_TOOLS, **build: str):
    project = load_project(directory, {"build": build})
    return LANGUAGES[project.config.project.language].plan(project, workspace, tools)


def test_bazel_plan_builds_the_filter_target_in_batch_mode_in_the_container(tmp_path: Path) -> None:
    plan = plan_for(copy_project("cpp-bazel", tmp_path / "p"))
    assert plan.steps == ((
        "bazel", "--batch", "--output_user_root=/cache/bazel", "build", "--config=wasi", "--curses=no",
        "--show_progress_rate_limit=2", "//:filter.wasm"),)
    assert plan.artifact == PurePosixPath("bazel-bin/filter.wasm")


def test_bazel_plan_selects_emscripten_and_keeps_a_server_on_the_host(tmp_path: Path) -> None:
    workspace = host.workspace_for(tmp_path / "work")
    plan = plan_for(copy_project("cpp-bazel", tmp_path / "p"), workspace, Tools({"bazel": ("/usr/bin/bazel",)}),
                    toolchain="emscripten")
    (step,) = plan.steps
    assert step[0] == "/usr/bin/bazel" and "--batch" not in step
    assert f"--output_user_root={tmp_path / 'work' / 'cache' / 'bazel'}" in step
    assert "--config=emcc" in step and any(s.startswith("--max_idle_secs=") for s in step)


def test_a_config_the_bazelrc_applies_by_default_is_not_passed_again(tmp_path: Path) -> None:
    project = copy_project("cpp-bazel", tmp_path / "p")
    (project / ".bazelrc").write_text("# defaults\nbuild --config=wasi\nbuild:wasi --cpu=wasm32\n")
    assert not any(s.startswith("--config") for s in plan_for(project).steps[0])
    assert "--config=emcc" in plan_for(project, toolchain="emscripten").steps[0]


def test_bazel_mode_without_a_workspace_is_a_config_error_naming_direct_mode(tmp_path: Path) -> None:
    project = copy_project("cpp", tmp_path / "p")
    with pytest.raises(ConfigError) as error:
        plan_for(project, mode="bazel")
    assert "no WORKSPACE" in error.value.message and "--mode direct" in (error.value.hint or "")


def test_direct_clang_plan_compiles_every_source_for_wasm32_wasi_reactor(tmp_path: Path) -> None:
    project = copy_project("cpp", tmp_path / "p")
    (project / "util.cc").write_text("int util() { return 1; }\n")
    (project / "third_party").mkdir()
    (project / "third_party" / "vendored.cc").write_text("int v;\n")
    plan = plan_for(project)
    mkdir, compile_step = plan.steps
    assert mkdir == ("mkdir", "-p", "build")
    assert compile_step[:2] == ("clang++", "--target=wasm32-wasi")
    assert "-mexec-model=reactor" in compile_step and "-Wl,--strip-all" in compile_step
    assert [s for s in compile_step if s.endswith(".cc")] == ["filter.cc", "util.cc"]  # not third_party's
    assert compile_step[-2:] == ("-o", "build/filter.wasm")
    assert "-I" not in compile_step  # the probe does not include the SDK


def test_direct_plan_adds_the_vendored_sdk_and_the_abi_define_when_the_filter_uses_the_sdk(tmp_path: Path) -> None:
    project = copy_project("cpp", tmp_path / "p")
    sdk = project / "third_party" / "proxy-wasm-cpp-sdk"
    sdk.mkdir(parents=True)
    (sdk / "proxy_wasm_intrinsics.cc").write_text("// sdk\n")
    (project / "filter.cc").write_text('#include "proxy_wasm_intrinsics.h"\n')
    toml = project / "wasmbuild.toml"
    toml.write_text(toml.read_text().replace('language = "cpp"', 'language = "cpp"\nabi = "0.2.0"'))
    (_, step) = plan_for(project).steps
    assert "third_party/proxy-wasm-cpp-sdk/proxy_wasm_intrinsics.cc" in step
    assert step[step.index("-I") + 1] == "third_party/proxy-wasm-cpp-sdk"
    assert "-DPROXY_WASM_ABI_VERSION_0_2_0" in step


def test_direct_plan_uses_the_bundled_sdk_when_none_is_vendored(tmp_path: Path) -> None:
    project = copy_project("cpp", tmp_path / "p")
    (project / "filter.cc").write_text('#include "proxy_wasm_intrinsics.h"\n')
    (_, step) = plan_for(project).steps
    assert "/opt/wasmbuild/sdk/cpp/proxy_wasm_intrinsics.cc" in step


def test_direct_emscripten_plan_is_standalone_wasm_with_the_frozen_cache(tmp_path: Path) -> None:
    plan = plan_for(copy_project("cpp", tmp_path / "p"), toolchain="emscripten")
    step = plan.steps[1]
    assert step[0] == "em++" and "-sSTANDALONE_WASM" in step and "--no-entry" in step
    assert plan.environment["EM_CACHE"] == "/usr/share/emscripten/cache"


def test_zig_is_host_only(tmp_path: Path) -> None:
    project = copy_project("cpp", tmp_path / "p")
    with pytest.raises(ConfigError, match="not in the builder image"):
        plan_for(project, toolchain="zig")
    workspace = host.workspace_for(tmp_path / "work")
    plan = plan_for(project, workspace, Tools({"zig-c++": ("python3", "-m", "ziglang", "c++")}), toolchain="zig")
    assert plan.steps[1][:6] == ("python3", "-m", "ziglang", "c++", "-target", "wasm32-wasi")


def test_zig_with_bazel_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only without Bazel"):
        plan_for(copy_project("cpp-bazel", tmp_path / "p"), toolchain="zig")


def test_rust_plan_is_offline_cargo_in_the_container_and_names_the_cdylib(tmp_path: Path) -> None:
    plan = plan_for(copy_project("rust", tmp_path / "p"))
    assert plan.steps == (("cargo", "build", "--release", "--offline", "--target", "wasm32-wasi"),)
    assert plan.artifact == PurePosixPath("/cache/target/wasm32-wasi/release/probe_rust.wasm")
    assert plan.environment["CARGO_HOME"] == "/cache/cargo"


def test_rust_plan_on_the_host_uses_the_found_rustc_and_the_users_cargo_home(tmp_path: Path) -> None:
    workspace = host.workspace_for(tmp_path / "work")
    tools = Tools({"cargo": ("/usr/bin/cargo",)}, {"RUSTC": "/usr/bin/rustc"})
    plan = plan_for(copy_project("rust", tmp_path / "p"), workspace, tools)
    assert plan.steps[0][:2] == ("/usr/bin/cargo", "build") and "--offline" not in plan.steps[0]
    assert plan.environment["RUSTC"] == "/usr/bin/rustc" and "CARGO_HOME" not in plan.environment


def test_rust_without_cdylib_is_a_config_error(tmp_path: Path) -> None:
    project = copy_project("rust", tmp_path / "p")
    manifest = project / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('crate-type = ["cdylib"]', ""))
    with pytest.raises(ConfigError, match="cdylib"):
        plan_for(project)


def test_assemblyscript_plans_follow_the_compiler_version(tmp_path: Path) -> None:
    project = copy_project("assemblyscript", tmp_path / "p")
    install, compile_step = plan_for(project).steps[1:]
    assert install == ("sh", "/opt/wasmbuild/bin/wasmbuild-npm-install")
    assert compile_step[:3] == ("node", "node_modules/.bin/asc", "assembly/index.ts")
    assert "-o" in compile_step and "node_modules/@assemblyscript/wasi-shim/asconfig.json" in compile_step
    package = project / "package.json"
    package.write_text('{"dependencies": {"@solo-io/proxy-runtime": "0.1.8"}, '
                       '"devDependencies": {"assemblyscript": "0.14.13"}}')
    old = plan_for(project).steps[-1]
    assert "-b" in old and "-o" not in old and "--config" not in old
    assert plan_for(project).environment["WASMBUILD_NPM_OFFLINE"] == "1"
    (project / "asconfig.json").write_text("{}")  # the project's own options win
    assert plan_for(project).steps[-1][3:] == ("--target", "release", "-b", "build/filter.wasm", "--noColors")


def test_plans_are_pure_values(tmp_path: Path) -> None:
    project = copy_project("rust", tmp_path / "p")
    assert plan_for(project) == plan_for(project)
    assert plan_for(project).fingerprint() == plan_for(project).fingerprint()


def test_the_container_script_quotes_every_argument(tmp_path: Path) -> None:
    project = copy_project("cpp", tmp_path / "p")
    (project / "it's; rm -rf ~.cc").write_text("int x;\n")
    plan = plan_for(project)
    text = container.script(plan, CONTAINER_WS, frozenset({"build"}))
    lines = text.splitlines()
    assert lines[0] == "set -eu"
    assert "--exclude=/build" in lines[2] and "--exclude=node_modules" in lines[2]
    compile_line = next(line for line in lines if line.startswith("clang++"))
    assert shlex.split(compile_line) == list(plan.steps[1])
    assert lines[-1] == "cp -fL build/filter.wasm /out/filter.wasm"
