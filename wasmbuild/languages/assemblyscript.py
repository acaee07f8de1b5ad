"""AssemblyScript: install the project's locked packages (offline, from the builder image's npm cache,
or from the registry on the host), then run asc with the flags its SDK needs."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

from wasmbuild.build.plan import BuildPlan, Tools, Workspace, make_plan
from wasmbuild.config import Project
from wasmbuild.errors import ConfigError
from wasmbuild.languages import probe

NAME = "assemblyscript"
ENTRY = "assembly/index.ts"
OUTPUT = "build/filter.wasm"
WASI_SHIM_CONFIG = "node_modules/@assemblyscript/wasi-shim/asconfig.json"
ASCONFIG = "asconfig.json"


def read_package(directory: Path) -> dict[str, str]:
    """{package: version spec} from package.json (dependencies and devDependencies)."""
    path = directory / "package.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise ConfigError(f"{directory}: an assemblyscript project needs a package.json",
                          "run 'wasmbuild new --lang assemblyscript' for a working layout") from None
    except ValueError as error:
        raise ConfigError(f"package.json: not valid JSON: {error}") from None
    return {**data.get("dependencies", {}), **data.get("devDependencies", {})}


def asc_major_minor(spec: str) -> tuple[int, int] | None:
    match = re.search(r"(\d+)\.(\d+)", spec)
    return (int(match.group(1)), int(match.group(2))) if match else None


class AssemblyScript:
    name = NAME

    def plan(self, project: Project, workspace: Workspace, tools: Tools) -> BuildPlan:
        packages = read_package(project.directory)
        if "assemblyscript" not in packages:
            raise ConfigError("package.json: assemblyscript is not among the dependencies",
                              'add "assemblyscript" to devDependencies (wasmbuild pins 0.28.x and 0.14.13)')
        entry = ENTRY if (project.directory / ENTRY).is_file() else None
        if entry is None:
            raise ConfigError(f"{project.directory}: the entry file {ENTRY} is missing")
        version = asc_major_minor(packages["assemblyscript"]) or (0, 28)
        output_flag = "-o" if version >= (0, 20) else "-b"  # --outFile since 0.20, --binaryFile before
        if (project.directory / ASCONFIG).is_file():
            # the project's asconfig.json decides the options; its release target, written where we collect it
            flags = ["--target", "release", output_flag, OUTPUT, "--noColors"]
        else:
            flags = [output_flag, OUTPUT, "--use", "abort=abort_proc_exit", "-O3", "--noColors"]
            if version >= (0, 20) and "@assemblyscript/wasi-shim" in packages:
                flags += ["--config", WASI_SHIM_CONFIG]
        # through sh: an installed wheel may not keep the script's exec bit
        install = ("sh", str(workspace.tools / "wasmbuild-npm-install"))
        compile_step = (*tools("node"), "node_modules/.bin/asc", entry, *flags)
        env = {"WASMBUILD_NPM_OFFLINE": "1" if workspace.offline else "0",
               **tools.env}
        if workspace.npm_cache:
            env["WASMBUILD_NPM_CACHE"] = workspace.npm_cache
        steps = [("mkdir", "-p", str(PurePosixPath(OUTPUT).parent)), install, compile_step]
        return make_plan(NAME, f"asc {entry} (assemblyscript {'.'.join(map(str, version))})", steps, env, OUTPUT)

    def probe_host(self, project: Project) -> Tools | str:
        node, npm = probe.which("node", "nodejs"), probe.which("npm")
        missing = [name for name, path in (("node", node), ("npm", npm)) if not path]
        if node is None or npm is None:
            return f"missing on this machine: {' and '.join(missing)} (Debian: apt-get install nodejs npm)"
        return Tools({"node": (node,), "npm": (npm,)})


LANGUAGE = AssemblyScript()
