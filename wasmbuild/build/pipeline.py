"""`wasmbuild build` from start to finish: load the project, choose where to build, plan, look the
build key up in the cache, run the plan, check the module, and deliver it to the project's output
and the local store.

The daemon is asked only over its socket (rawdocker) until a container must run, so a cache hit
never imports docker-py; an unchanged project does not even get here (noop.py answers it from the
memo this module writes after every build).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wasmbuild import console, refs
from wasmbuild.build import deliver, noop, rawdocker, sources
from wasmbuild.build.cache import BuildCache, final_key, key_base
from wasmbuild.build.deliver import BuildRequest, BuildResult
from wasmbuild.build.dockerapi import DAEMON_HINT, describe_host, with_docker_host
from wasmbuild.build.plan import CONTAINER_TOOLS, Backend, BuildPlan, Tools, Workspace
from wasmbuild.config import Project, load_project
from wasmbuild.errors import EnvironmentProblem, UsageError, from_os_error
from wasmbuild.languages import LANGUAGES, Language
from wasmbuild.paths import home


@dataclass(frozen=True)
class Executor:
    """Where the plan runs and what identifies its toolchain in the build key."""

    backend: str  # "container" | "host"
    tools: Tools
    identity: str
    image: str = ""


def work_dir_for(project: Project) -> Path:
    """The project's persistent scratch copy and tool caches (one per project directory)."""
    digest = hashlib.sha256(str(project.directory).encode()).hexdigest()[:12]
    return home() / "cache" / "work" / f"{project.config.project.name}-{digest}"


def choose_executor(requested: str, language: Language, project: Project) -> Executor:
    problem: str | None = None
    if requested in ("container", "auto"):
        problem = rawdocker.ping_problem()
        if problem is None:
            return _container_executor(project)
        if requested == "container":
            raise EnvironmentProblem(f"the Docker daemon at {describe_host()} does not answer ({problem})",
                                     with_docker_host(DAEMON_HINT))
    tools = language.probe_host(project)
    if isinstance(tools, str):
        if requested == "host":
            raise EnvironmentProblem(f"cannot build {project.config.project.language} here: {tools}",
                                     "install those, or build in the builder container: --backend container")
        raise EnvironmentProblem(f"no way to build here: the Docker daemon at {describe_host()} does not answer, "
                                 f"and {tools}", with_docker_host(f"{DAEMON_HINT}; or install the missing tools"))
    if requested == "auto":  # say why: the host's toolchain is not the pinned one of the builder image
        console.info(f"the Docker daemon at {describe_host()} does not answer ({problem}): "
                     "building with this machine's tools")
    return Executor("host", tools, tools.identity())


def _container_executor(project: Project) -> Executor:
    from wasmbuild.build.context import builder_tag

    tag = project.config.build.image or builder_tag()
    try:
        image_id = rawdocker.image_id(tag)
    except OSError as exc:
        raise EnvironmentProblem(f"the Docker daemon did not answer about {tag}: {exc}", DAEMON_HINT) from None
    if image_id is None:
        from wasmbuild.build import dockerapi, image

        image_id = image.ensure(dockerapi.connect(), tag).id
    return Executor("container", CONTAINER_TOOLS, f"image={image_id}", tag)


def _workspace(executor: Executor, project: Project, work_dir: Path) -> Workspace:
    if executor.backend == "container":
        from wasmbuild.build.container import workspace_for

        return workspace_for(project.config.project.name)
    from wasmbuild.build.host import workspace_for as host_workspace

    return host_workspace(work_dir)


def build(request: BuildRequest) -> BuildResult:
    started = time.monotonic()
    overrides = {"build": {"backend": request.backend, "toolchain": request.toolchain, "mode": request.mode}}
    project = load_project(request.path, overrides)
    config = project.config
    flags = [f for f, v in (("--toolchain", request.toolchain), ("--mode", request.mode)) if v is not None]
    if flags and config.project.language != "cpp":
        named = " and ".join(flags)
        raise UsageError(f"{named} only appl{'y' if len(flags) > 1 else 'ies'} to C++ projects; "
                         f"{config.project.name} is {config.project.language}", f"leave {named} out")
    ref = refs.normalize(request.ref or config.default_ref)
    output = Path(request.output).resolve() if request.output else project.output_path
    runtime_config = deliver.runtime_config_for(project.runtime_config_path, config.project.abi, config.root_id)
    language = LANGUAGES[config.project.language]
    executor = choose_executor(config.build.backend, language, project)
    work_dir = work_dir_for(project) / executor.backend  # never shared: paths differ between the two
    workspace = _workspace(executor, project, work_dir)
    plan = language.plan(project, workspace, executor.tools)
    keep = sources.output_excludes(config.build.output)
    # the project's own settings reach the key through key_config; the runtime config does not
    # change the module: editing either must not recompile
    unhashed = sorted({"wasmbuild.toml", config.package.runtime_config})
    files = [f for f in sources.walk(project.directory, keep) if f not in unhashed]
    # what decides the module (and its check) besides the plan and the sources
    key_config = {"language": config.project.language, "abi": config.project.abi, "sdk": config.project.sdk,
                  "toolchain": config.build.toolchain, "mode": config.build.mode, "image": config.build.image}
    base = key_base(plan, key_config)
    key = final_key(base, executor.identity, sources.digest(project.directory, files))
    cache = BuildCache()
    cached = None if request.no_cache else cache.get(key)
    if cached is not None:
        module, abi = cached.module, cached.abi
    else:
        module, abi = _compile(executor, plan, workspace, project, work_dir, keep)
        cache.put(key, module, abi, plan.description)
    deliver.write_output(module, output)
    entry = deliver.store_module(module, ref, runtime_config)
    noop.remember(request, project.directory, noop.Memo(
        requested=config.build.backend, backend=executor.backend, image=executor.image,
        tools=executor.tools.executables() if executor.backend == "host" else {}, key_base=base,
        keep=sorted(keep), unhashed=unhashed, output=str(output), ref=ref,
        runtime_config=str(project.runtime_config_path), abi=config.project.abi, root_id=config.root_id,
        store_entry=str(entry), store_stamp=deliver.entry_stamp(entry)))
    return BuildResult(output, len(module), hashlib.sha256(module).hexdigest(), abi, time.monotonic() - started,
                       cached is not None, ref, executor.backend)


def _compile(executor: Executor, plan: BuildPlan, workspace: Workspace, project: Project, work_dir: Path,
             keep: frozenset[str]) -> tuple[bytes, str | None]:
    from wasmbuild.build.verify import check_module

    backend: Backend
    if executor.backend == "container":
        from wasmbuild.build import dockerapi
        from wasmbuild.build.container import ContainerBackend

        backend = ContainerBackend(dockerapi.connect(), executor.image)
        where = f"in {executor.image}"
    else:
        from wasmbuild.build.host import HostBackend

        backend = HostBackend()
        where = "on this machine"
    console.step(f"building {project.config.project.name} {where}: {plan.description}")
    with _locked(work_dir, project.config.project.name):
        out_dir = Path(tempfile.mkdtemp(prefix="out-", dir=work_dir))
        try:
            module_path = backend.run(plan, workspace, project.directory, work_dir, out_dir, keep)
            module = module_path.read_bytes()
        except OSError as exc:
            raise from_os_error(exc, "building") from exc
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
    report = check_module(module, project.config.project.abi, f"the module built from {project.directory.name}")
    return module, report.abi


@contextmanager
def _locked(work_dir: Path, name: str) -> Iterator[None]:
    """One build at a time per project: they share the scratch copy and the tool caches."""
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(work_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise from_os_error(exc, "cannot prepare the build directory") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            console.info(f"waiting for another build of {name} to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


__all__ = ["BuildRequest", "BuildResult", "build"]
