"""`wasmbuild build` in the builder container: every language, the cache, reproducibility, the
compile-error path, ownership of what comes back, concurrency and Ctrl-C. Real daemon, real
image (built by the builder_image fixture), real compilers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.builder import edit
from tests.fixtures.common import REPO, run_cli
from wasmbuild.build.container import LABEL
from wasmbuild.build.verify import check_module
from wasmbuild.store import Store

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SUMMARY = re.compile(r"^(?P<path>\S+)  (?P<size>[\d.]+ k?B)  sha256:(?P<sha>[0-9a-f]{64})  ABI (?P<abi>\S+)  "
                     r"(?P<seconds>[\d.]+)s  (?P<status>cache hit|built \((container|host)\))$")


def build(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Any, re.Match[str]]:
    result = run_cli("build", str(project), "--backend", "container", *args, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout  # the build ends with ONE line
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    return result, match


def assert_loads(module: Path, abi: str = "0.2.1") -> None:
    import wasmtime

    report = check_module(module.read_bytes(), None)
    assert report.ok, report.findings
    assert report.abi == abi
    wasmtime.Module(wasmtime.Engine(), module.read_bytes())  # a real engine accepts it


@pytest.mark.parametrize(("kind", "options"), [
    ("cpp", ()),
    ("cpp", ("--toolchain", "emscripten")),
    ("cpp-bazel", ()),
    ("cpp-bazel", ("--toolchain", "emscripten")),
    ("rust", ()),
    ("assemblyscript", ()),
    ("new:cpp", ()),
    ("new:cpp", ("--toolchain", "emscripten")),
    ("new:cpp", ("--mode", "direct")),
    ("new:rust", ()),
    ("new:assemblyscript", ()),
    ("new:assemblyscript:solo-io:0.2.0", ()),
])
def test_each_language_builds_checks_and_stores(builder_image: str, make_project: Any, kind: str,
                                                options: tuple[str, ...]) -> None:
    project = make_project(kind)
    _result, summary = build(project, *options)
    module = project / "build" / "filter.wasm"
    assert Path(summary["path"]) == module and summary["status"] == "built (container)"
    abi = "0.2.0" if kind.endswith(":0.2.0") else "0.2.1"
    assert summary["abi"] == abi
    assert_loads(module, abi)
    entry = Store().get(_default_ref(project))
    assert entry.sha256 == summary["sha"]
    assert entry.runtime_config["abiVersions"] == [f"v{abi}"]
    assert module.stat().st_uid == os.getuid()


def _default_ref(project: Path) -> str:
    from wasmbuild.config import load_project

    return load_project(project).config.default_ref


def test_an_unchanged_project_is_a_cache_hit_without_a_container(builder_image: str, make_project: Any,
                                                                  docker_client: Any) -> None:
    project = make_project("cpp")
    _, first = build(project)
    (project / "build" / "filter.wasm").unlink()
    since = datetime.now(timezone.utc)
    _, second = build(project)
    until = datetime.now(timezone.utc)
    assert second["status"] == "cache hit" and second["sha"] == first["sha"]
    assert (project / "build" / "filter.wasm").is_file()  # delivered again from the cache
    events = list(docker_client.events(since=since, until=until, decode=True,
                                       filters={"type": "container", "label": f"{LABEL}={project}"}))
    assert events == []
    edit(project / "filter.cc", "on_request_headers", "on_request_headers!")
    _, third = build(project)
    assert third["status"] == "built (container)" and third["sha"] != first["sha"]


@pytest.mark.parametrize("kind", ["new:cpp", "new:rust", "new:assemblyscript"])
def test_two_clean_builds_are_byte_identical(builder_image: str, make_project: Any, tmp_path: Path,
                                             kind: str) -> None:
    digests = []
    for index in range(2):
        # same name (it is in the module: crate name, root id), another place, another home
        project = make_project(kind, name=f"clean{index}/my:filter")
        home = tmp_path / f"home{index}"
        _, summary = build(project, "--no-cache", env={"WASMBUILD_HOME": str(home)})
        digests.append(summary["sha"])
    assert digests[0] == digests[1]


def test_bazel_and_the_direct_compile_build_the_same_module(builder_image: str, make_project: Any) -> None:
    project = make_project("new:cpp")
    _, bazel = build(project)
    _, direct = build(project, "--mode", "direct")
    assert bazel["sha"] == direct["sha"]


def test_a_compile_error_exits_4_with_the_compilers_last_lines(builder_image: str, make_project: Any) -> None:
    project = make_project("cpp")
    edit(project / "filter.cc", "return 1;", "return 1 +;")
    result = run_cli("build", str(project), "--backend", "container")
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    # streamed as it came, and repeated as the error's last lines, with the user's own path
    assert result.stderr.count(f"{project}/filter.cc:") >= 2
    assert "its last lines" in result.stderr and "expected expression" in result.stderr
    assert not (project / "build" / "filter.wasm").exists()
    assert Store().entries() == []


def test_a_module_failing_the_abi_check_fails_the_build(builder_image: str, make_project: Any) -> None:
    project = make_project("cpp")
    edit(project / "filter.cc", "EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1() {}", "")
    result = run_cli("build", str(project), "--backend", "container")
    assert result.returncode == 4
    assert "ABI check" in result.stderr and "missing-abi-marker" in result.stderr
    assert not (project / "build" / "filter.wasm").exists() and Store().entries() == []


def test_the_sources_are_never_written(builder_image: str, make_project: Any) -> None:
    project = make_project("cpp-bazel")
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    build(project)
    after = sorted(p.relative_to(project) for p in project.rglob("*") if "build" not in p.relative_to(project).parts)
    assert after == before  # no bazel-* links, no caches: only build/filter.wasm was added


def test_options_and_tags(builder_image: str, make_project: Any, tmp_path: Path) -> None:
    project = make_project("rust")
    output = tmp_path / "out" / "x.wasm"
    _result, summary = build(project, "-t", "localhost:5000/team/filter:v2", "--output", str(output))
    assert Path(summary["path"]) == output and output.is_file()
    assert Store().get("localhost:5000/team/filter:v2").sha256 == summary["sha"]


def test_two_concurrent_builds_into_one_store(builder_image: str, make_project: Any) -> None:
    projects = [make_project("cpp", name="one"), make_project("rust", name="two"), make_project("cpp", name="three")]
    toml = projects[2] / "wasmbuild.toml"
    edit(toml, 'name = "probe-cpp"', 'name = "probe-three"')
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-m", "wasmbuild", "build", str(p), "--backend", "container"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for p in projects]
    # and the same project twice at once: the second waits for the first
    procs.append(subprocess.Popen([sys.executable, "-m", "wasmbuild", "build", str(projects[0]), "--backend",
                                   "container", "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env))
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-2000:] for o in outputs]
    refs = sorted(e.ref for e in Store().entries())
    assert refs == ["probe-cpp:latest", "probe-rust:latest", "probe-three:latest"]
    assert not [p for p in Store().root.iterdir() if p.name.startswith(".tmp-")]


SLOW_TO_COMPILE = "\n#include <map>\n" + "".join(
    f"std::string slow_{i}(const std::string& s) {{ std::map<std::string, int> m; "
    f"for (int k = 0; k < {i % 7 + 3}; ++k) m[s + std::to_string(k * {i})] = k; std::string r; "
    f"for (auto& [a, b] : m) r += a + std::to_string(b); return r; }}\n"
    for i in range(1500))


def test_ctrl_c_mid_compile_leaves_no_container_and_no_store_entry(builder_image: str, make_project: Any,
                                                                    docker_client: Any) -> None:
    project = make_project("new:cpp")
    # ~15 s of real compiling (1,500 unused functions at -O2), so the signal surely lands mid-compile
    with open(project / "filter.cc", "a", encoding="utf-8") as source:
        source.write(SLOW_TO_COMPILE)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "wasmbuild", "build", str(project), "--backend", "container"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    label = {"label": f"{LABEL}={project}"}
    deadline = time.monotonic() + 120
    while not docker_client.containers.list(filters=label):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the build container never started"
        time.sleep(0.1)
    time.sleep(2)  # Bazel is starting and compiling now
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert docker_client.containers.list(all=True, filters=label) == []
    assert Store().entries() == []
    assert not (project / "build" / "filter.wasm").exists()


def test_sigterm_is_handled_like_ctrl_c(builder_image: str, make_project: Any, docker_client: Any) -> None:
    project = make_project("assemblyscript")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "wasmbuild", "build", str(project), "--backend", "container"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    label = {"label": f"{LABEL}={project}"}
    deadline = time.monotonic() + 120
    while not docker_client.containers.list(filters=label):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert docker_client.containers.list(all=True, filters=label) == []
    assert Store().entries() == []


def test_a_killed_builds_container_is_cleared_by_the_next_build(builder_image: str, make_project: Any,
                                                                 docker_client: Any) -> None:
    # SIGKILL cannot be caught: the container outlives wasmbuild, and the next build removes it
    project = make_project("new:cpp")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "wasmbuild", "build", str(project), "--backend", "container"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    label = {"label": f"{LABEL}={project}"}
    deadline = time.monotonic() + 120
    while not docker_client.containers.list(filters=label):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    assert docker_client.containers.list(all=True, filters=label) != []  # orphaned, for now
    assert Store().entries() == []
    other = make_project("cpp")
    build(other)
    assert docker_client.containers.list(all=True, filters=label) == []
