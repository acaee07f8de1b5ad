"""Finding what a filter needs to run without being told: its project, built module and root id.

SDKs dispatch a root context only to a factory registered under the same root id, so running a
scaffolded filter with the wrong (or empty) root id silently does nothing. The root id comes, in
order, from a runtime-config.json beside the module, the enclosing project's wasmbuild.toml
([project] root_id), the project's runtime-config.json, else "".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wasmbuild import runtime_config

PROJECT_FILE = "wasmbuild.toml"
DEFAULT_OUTPUT = "build/filter.wasm"


def find_project(start: Path) -> Path | None:
    """The nearest directory at or above `start` holding a wasmbuild.toml."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    return None


def _read_toml(project: Path) -> dict[str, Any]:
    """wasmbuild.toml's settings, or none when it is unreadable: only defaults are looked for here."""
    from wasmbuild import tomlfile
    from wasmbuild.errors import WasmbuildError

    try:
        return tomlfile.load(project / PROJECT_FILE)
    except WasmbuildError:
        return {}


def project_module(start: Path | None = None) -> Path:
    """The built module of the project around `start` (default: the current directory).

    Reads [build] output from wasmbuild.toml (default build/filter.wasm).
    """
    from wasmbuild.errors import NotFoundError

    origin = Path.cwd() if start is None else Path(start)
    project = find_project(origin)
    if project is None:
        raise NotFoundError(f"no {PROJECT_FILE} in {origin} or above, so there is no project module to load",
                            "pass the .wasm path explicitly, or run from inside a wasmbuild project")
    output = _read_toml(project).get("build", {}).get("output", DEFAULT_OUTPUT)
    module = project / str(output)
    if not module.is_file():
        raise NotFoundError(f"{module} does not exist", "run 'wasmbuild build' first")
    return module


def discover_root_id(module: Path) -> str:
    """The root id to run `module` with when none is given (see the module docstring)."""
    beside = runtime_config.first_root_id(module.parent / runtime_config.FILE)
    if beside is not None:
        return beside
    project = find_project(module.parent)
    if project is None:
        return ""
    data = _read_toml(project)
    explicit = data.get("project", {}).get("root_id")
    if isinstance(explicit, str) and explicit:
        return explicit
    config_name = data.get("package", {}).get("runtime_config", runtime_config.FILE)
    from_config = runtime_config.first_root_id(project / str(config_name))
    return from_config or ""
