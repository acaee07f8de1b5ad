"""The container backend: run a plan in the builder image with docker-py.

The container has no network, runs as the caller's uid:gid (so every file it writes belongs to the
user), sees the project read-only at /src and writes through two mounts of its own: the project's
persistent scratch copy and tool caches (so Bazel, cargo and npm start warm), and /out for the
module. It is removed however the build ends: success, failure, Ctrl-C or SIGTERM (cibuildwheel's
OCIContainer as a context manager).
"""

from __future__ import annotations

import os
import shlex
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from wasmbuild.build.dockerapi import api_error_text
from wasmbuild.build.output import Relay, project_prefix
from wasmbuild.build.plan import BuildPlan, Workspace
from wasmbuild.build.sources import EXCLUDED_NAMES, EXCLUDED_PREFIXES
from wasmbuild.errors import EnvironmentProblem, StorageError

SRC = PurePosixPath("/src")
OUT = PurePosixPath("/out")
CACHE = PurePosixPath("/cache")
BUILD_ROOT = PurePosixPath("/build")
SDK = PurePosixPath("/opt/wasmbuild/sdk")
TOOLS = PurePosixPath("/opt/wasmbuild/bin")
NPM_CACHE = "/opt/wasmbuild/npm-cache"
MODULE_NAME = "filter.wasm"
LABEL = "io.wasmbuild.build"  # the project directory
OWNER_LABEL = "io.wasmbuild.owner"  # host:pid of the wasmbuild process that started it


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while a container is created or removed, so Ctrl-C cannot strand one."""
    blocked = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def workspace_for(name: str) -> Workspace:
    """Fixed paths inside the container: the same for every build of a project, so Bazel's and
    cargo's caches stay valid and the module does not depend on where the project lives."""
    return Workspace("container", BUILD_ROOT / name, CACHE, SDK, TOOLS, NPM_CACHE)


def script(plan: BuildPlan, workspace: Workspace, keep: frozenset[str]) -> str:
    """The container's one shell command: mirror /src into the scratch copy, run the steps, copy
    the module to /out. Every argv is quoted; nothing of the project is interpolated unquoted."""
    excludes = [f"--exclude=/{name}" for name in sorted(keep)]
    excludes += [f"--exclude={name}" for name in sorted(EXCLUDED_NAMES)]
    excludes += [f"--exclude={prefix}*" for prefix in EXCLUDED_PREFIXES]
    lines = [
        "set -eu",
        shlex.join(["mkdir", "-p", str(workspace.source), str(workspace.cache / "home")]),
        shlex.join(["rsync", "-rlpt", "--delete", *excludes, f"{SRC}/", f"{workspace.source}/"]),
        shlex.join(["cd", str(workspace.source)]),
        *(shlex.join(step) for step in plan.steps),
        shlex.join(["cp", "-fL", str(plan.artifact), str(OUT / MODULE_NAME)]),
    ]
    return "\n".join(lines)


class ContainerRun:
    """One build container; a context manager that always removes it."""

    def __init__(self, client: Any, image: str) -> None:
        self.client = client
        self.image = image
        self.container: Any = None

    def __enter__(self) -> ContainerRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()

    def remove(self) -> None:
        if self.container is None:
            return
        from docker.errors import APIError

        with signals_deferred():
            with suppress(APIError):  # already gone (NotFound), or the daemon is going away
                self.container.remove(force=True)
            self.container = None

    def start(self, command: list[str], environment: dict[str, str], mounts: list[Any], working_dir: str,
              label: str) -> None:
        from docker.errors import APIError, ImageNotFound

        with signals_deferred():
            try:
                self.container = self.client.containers.create(
                    self.image, command=command, user=f"{os.getuid()}:{os.getgid()}", network_mode="none",
                    environment=environment, mounts=mounts, working_dir=working_dir,
                    labels={LABEL: label, OWNER_LABEL: owner()}, detach=True, tty=False, stdin_open=False)
            except ImageNotFound:
                raise EnvironmentProblem(f"the builder image {self.image} is missing",
                                         "run 'wasmbuild builder build'") from None
            except APIError as exc:
                raise _api_problem(exc) from None
        try:
            self.container.start()
        except APIError as exc:
            raise _api_problem(exc) from None

    def stream(self, relay: Relay) -> int:
        from docker.errors import DockerException
        from requests.exceptions import RequestException

        try:
            for chunk in self.container.logs(stream=True, follow=True, stdout=True, stderr=True):
                relay.feed(chunk)
            relay.close()
            result = self.container.wait()
        except (DockerException, RequestException) as exc:
            raise EnvironmentProblem(f"lost the Docker daemon during the build ({api_error_text(exc)})",
                                     "check that dockerd is still running, then build again") from None
        return int(result.get("StatusCode", 1))


def owner() -> str:
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def sweep_orphans(client: Any) -> None:
    """Remove build containers whose wasmbuild process is gone: SIGKILL cannot be caught, so a
    killed build leaves its container behind; the next build on this machine clears it."""
    import socket

    from docker.errors import APIError

    host = socket.gethostname()
    try:
        found = client.containers.list(all=True, filters={"label": OWNER_LABEL})
    except APIError:
        return
    for container in found:
        owner_host, _, pid = str(container.labels.get(OWNER_LABEL, "")).rpartition(":")
        if owner_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        with suppress(APIError):
            container.remove(force=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _api_problem(exc: Exception) -> Exception:
    text = api_error_text(exc)
    if "no space left" in text.lower():
        return StorageError(f"docker: {text}", "free some disk space and try again")
    return EnvironmentProblem(f"docker refused to run the build: {text}")


class ContainerBackend:
    name = "container"

    def __init__(self, client: Any, image: str) -> None:
        self.client = client
        self.image = image

    def run(self, plan: BuildPlan, workspace: Workspace, project_dir: Path, work_dir: Path, out_dir: Path,
            keep: frozenset[str]) -> Path:
        """Run `plan`; return the module's path under out_dir. Raises BuildError on a failed step."""
        scratch, caches = work_dir / "src", work_dir / "cache"
        for directory in (scratch, caches, out_dir):
            directory.mkdir(parents=True, exist_ok=True)
        from docker.types import Mount

        # Mount objects, not "src:dst:mode" strings: a project path may contain ':'
        mounts = [Mount(str(SRC), str(project_dir), type="bind", read_only=True),
                  Mount(str(workspace.source), str(scratch), type="bind"),
                  Mount(str(workspace.cache), str(caches), type="bind"),
                  Mount(str(OUT), str(out_dir), type="bind")]
        environment = {"HOME": str(workspace.cache / "home"), "USER": os.environ.get("USER") or "wasmbuild",
                       **plan.environment}
        relay = Relay({f"{workspace.source}/": f"{project_dir}/", str(workspace.source): str(project_dir)},
                      prefix=project_prefix(project_dir))
        sweep_orphans(self.client)
        with ContainerRun(self.client, self.image) as run:
            run.start(["sh", "-c", script(plan, workspace, keep)], environment, mounts,
                      str(BUILD_ROOT), str(project_dir))
            code = run.stream(relay)
        if code != 0:
            raise relay.failure(plan.description, code)
        module = out_dir / MODULE_NAME
        if not module.is_file():
            raise relay.failure(f"{plan.description} (no module at {plan.artifact})", code)
        return module
