"""Bad input and real faults around `wasmbuild build`: each a one-line error with a hint, its own exit
code, no traceback and nothing half-written. The faults are caused for real: a dead docker socket,
a full file system (a tiny tmpfs), a missing image."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.builder import edit
from tests.fixtures.common import run_cli
from wasmbuild.store import Store


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "internal error" not in stderr


@pytest.fixture
def dead_docker_socket(tmp_path: Path) -> Iterator[str]:
    """A unix socket that exists but where no daemon listens: connecting is refused."""
    path = tmp_path / "dead.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    yield f"unix://{path}"


def test_daemon_down_with_the_container_backend_exits_5_with_both_ways_out(make_project: Any,
                                                                            dead_docker_socket: str) -> None:
    project = make_project("cpp")
    result = run_cli("build", str(project), "--backend", "container", env={"DOCKER_HOST": dead_docker_socket})
    assert result.returncode == 5
    no_traceback(result.stderr)
    assert f"the Docker daemon at {dead_docker_socket} does not answer" in result.stderr
    assert "dockerd" in result.stderr and "--backend host" in result.stderr
    assert Store().entries() == []


@pytest.mark.toolchain
def test_daemon_down_with_auto_builds_on_the_host(make_project: Any, dead_docker_socket: str) -> None:
    project = make_project("cpp")
    result = run_cli("build", str(project), env={"DOCKER_HOST": dead_docker_socket})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("built (host)")
    # and says why it did not use the builder image
    assert f"the Docker daemon at {dead_docker_socket} does not answer (connection refused): building with " \
           "this machine's tools" in result.stderr


def test_daemon_down_and_no_host_tools_names_both(make_project: Any, dead_docker_socket: str,
                                                  tmp_path: Path) -> None:
    project = make_project("cpp")
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_cli("build", str(project), env={"DOCKER_HOST": dead_docker_socket, "PATH": str(empty)})
    assert result.returncode == 5
    assert "does not answer" in result.stderr and "clang++" in result.stderr and "dockerd" in result.stderr


def test_builder_commands_with_the_daemon_down_exit_5(dead_docker_socket: str) -> None:
    for command in (("builder", "info"), ("builder", "build")):
        result = run_cli(*command, env={"DOCKER_HOST": dead_docker_socket})
        assert result.returncode == 5, result.stderr
        no_traceback(result.stderr)
        assert "does not answer" in result.stderr
        # the way round a dead daemon for builds (--backend host) is no way to make the image
        assert "hint: start the Docker daemon" in result.stderr and "--backend" not in result.stderr
        assert f"check DOCKER_HOST={dead_docker_socket}" in result.stderr  # it may be the culprit


def test_a_tcp_daemon_that_refuses_says_so(make_project: Any) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli("build", str(make_project("rust")), "--backend", "container",
                     env={"DOCKER_HOST": f"tcp://127.0.0.1:{port}"})
    assert result.returncode == 5
    assert f"the Docker daemon at tcp://127.0.0.1:{port} does not answer (connection refused)" in result.stderr


def test_a_directory_that_is_not_a_project_exits_3(tmp_path: Path) -> None:
    result = run_cli("build", str(tmp_path))
    assert result.returncode == 3
    no_traceback(result.stderr)
    assert "is not a wasmbuild project" in result.stderr and "wasmbuild new" in result.stderr
    assert run_cli("build", str(tmp_path / "missing")).returncode == 3


@pytest.mark.parametrize(("content", "message"), [
    ("[project\nname = 1", "not valid TOML"),
    ('[project]\nname = "x"\nlanguage = "cobol"\n', "wasmbuild.toml: project.language:"),
    ('[project]\nname = "x"\nlanguage = "cpp"\n[build]\nspeed = "fast"\n', "wasmbuild.toml: build.speed: unknown key"),
    ('[project]\nname = "x"\nlanguage = "cpp"\n[build]\noutput = "../outside.wasm"\n', "build.output"),
])
def test_a_bad_wasmbuild_toml_exits_2(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "wasmbuild.toml").write_text(content)
    result = run_cli("build", str(tmp_path))
    assert result.returncode == 2
    no_traceback(result.stderr)
    assert message in result.stderr


def test_an_invalid_ref_exits_2_before_building(make_project: Any) -> None:
    project = make_project("cpp")
    result = run_cli("build", str(project), "-t", "Not A Ref!")
    assert result.returncode == 2
    assert "invalid image reference" in result.stderr
    assert not (project / "build").exists()


def test_a_bad_ref_in_wasmbuild_toml_exits_2(make_project: Any) -> None:
    project = make_project("cpp")
    with open(project / "wasmbuild.toml", "a") as handle:
        handle.write('\n[package]\nref = "UPPER CASE"\n')
    result = run_cli("build", str(project))
    assert result.returncode == 2 and "package.ref" in result.stderr


@pytest.mark.docker
def test_a_missing_configured_image_exits_3_with_a_hint(make_project: Any, docker_client: Any) -> None:
    project = make_project("cpp")
    edit(project / "wasmbuild.toml", 'mode = "direct"', 'mode = "direct"\nimage = "wasmbuild-builder:does-not-exist"')
    result = run_cli("build", str(project), "--backend", "container")
    assert result.returncode == 3
    no_traceback(result.stderr)
    assert "wasmbuild-builder:does-not-exist" in result.stderr and "hint:" in result.stderr


@pytest.fixture
def full_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real file system with no space left: a one-page tmpfs, filled (needs root, as CI runs)."""
    mount = tmp_path / "full"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs to fill ({proc.stderr.strip()}); this test needs root", pytrace=False)
    try:
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 512):
                pass
        except OSError:
            pass  # ENOSPC: full
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.toolchain
def test_disk_full_exits_8_and_leaves_nothing_half_written(make_project: Any, full_filesystem: Path) -> None:
    project = make_project("cpp")
    output = full_filesystem / "filter.wasm"
    result = run_cli("build", str(project), "--backend", "host", "--output", str(output))
    assert result.returncode == 8, result.stderr
    no_traceback(result.stderr)
    assert "no space left on device" in result.stderr
    assert sorted(p.name for p in full_filesystem.iterdir()) == ["filler"]
    assert Store().entries() == []
