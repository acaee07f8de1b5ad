"""The host backend: the same plans, run with this machine's tools in a scratch copy of the project
(the project directory itself is never written, as in the container)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath

from wasmbuild.build import sources
from wasmbuild.build.output import Relay, project_prefix
from wasmbuild.build.plan import BuildPlan, Workspace
from wasmbuild.errors import BuildError, EnvironmentProblem
from wasmbuild.resources import toolchains_dir

MODULE_NAME = "filter.wasm"


def workspace_for(work_dir: Path) -> Workspace:
    tools = toolchains_dir()
    return Workspace("host", PurePosixPath(work_dir / "src"), PurePosixPath(work_dir / "cache"),
                     PurePosixPath(tools / "sdk"), PurePosixPath(tools / "builder" / "bin"))


class HostBackend:
    name = "host"

    def run(self, plan: BuildPlan, workspace: Workspace, project_dir: Path, work_dir: Path, out_dir: Path,
            keep: frozenset[str]) -> Path:
        """Run `plan`; return the module's path under out_dir. `keep`: top-level names of outputs."""
        scratch = Path(str(workspace.source))
        files = sources.walk(project_dir, keep)
        sources.mirror(project_dir, scratch, files, keep)
        (Path(str(workspace.cache)) / "home").mkdir(parents=True, exist_ok=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **plan.environment}
        relay = Relay({f"{scratch}/": f"{project_dir}/", str(scratch): str(project_dir)},
                      prefix=project_prefix(project_dir))
        for step in plan.steps:
            code = _run_step(list(step), scratch, env, relay)
            if code != 0:
                raise relay.failure(plan.description, code)
        artifact = scratch / Path(str(plan.artifact))
        if not artifact.is_file():
            raise BuildError(f"{plan.description} finished but wrote no module at {plan.artifact}")
        module = out_dir / MODULE_NAME
        shutil.copyfile(artifact, module)
        return module


def _run_step(argv: list[str], cwd: Path, env: dict[str, str], relay: Relay) -> int:
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise EnvironmentProblem(f"{argv[0]} is not installed on this machine",
                                 "install it, or build in the builder container with --backend container") from None
    assert proc.stdout is not None
    try:
        while chunk := os.read(proc.stdout.fileno(), 65536):
            relay.feed(chunk)
        relay.close()
        return proc.wait()
    except BaseException:
        # Ctrl-C reaches the child too (same process group); make sure it is gone before we go
        proc.kill()
        proc.wait()
        raise
