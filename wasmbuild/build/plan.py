"""What a build does, as pure data: the argv steps, their environment and where the module ends up.

A language turns a project into a BuildPlan for a Workspace (where the steps run: paths inside the
builder container, or on this machine) and a Tools table (how to call each compiler there). The
container and host backends execute the same plan; tests check plans without running anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

Executor = Literal["container", "host"]

# Never copied into the scratch tree nor hashed into the build key: build outputs, dependency
# trees and VCS data. (The configured [build] output's directory is excluded too; see sources.py.)
EXCLUDED_NAMES = frozenset({"build", "node_modules", "target", ".git", ".hg", ".svn", "__pycache__",
                            ".nox", ".venv", ".tox", ".pytest_cache", ".mypy_cache", ".ruff_cache",
                            ".wasmbuild", ".cache", ".idea", ".vscode"})
EXCLUDED_PREFIXES = ("bazel-",)


@dataclass(frozen=True)
class Workspace:
    """Where a plan's steps run. All paths are absolute, in the executor's file system."""

    executor: Executor
    source: PurePosixPath  # the writable copy of the project; steps run here
    cache: PurePosixPath  # persistent per-project directory for tool caches
    sdk: PurePosixPath  # the bundled SDKs (cpp/, rust/)
    tools: PurePosixPath  # wasmbuild's helper scripts
    npm_cache: str = ""  # an npm cache with the pinned AssemblyScript sets, if any

    @property
    def offline(self) -> bool:
        """Containers run with no network, so every fetch must be served from what is baked in."""
        return self.executor == "container"


@dataclass(frozen=True)
class Tools:
    """How to invoke each tool on the executor: logical name -> argv prefix."""

    commands: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, name: str) -> tuple[str, ...]:
        return tuple(self.commands.get(name, (name,)))

    def executables(self) -> dict[str, str]:
        return {name: argv[0] for name, argv in self.commands.items()}

    def identity(self) -> str:
        """The tools' identity for the build key, from their files (no process started): an
        upgraded compiler has another size or mtime."""
        from wasmbuild.build.cache import tools_identity

        return tools_identity(self.executables())


# The builder image: every tool is on PATH under its usual name.
CONTAINER_TOOLS = Tools({"cargo": ("cargo",), "rustc": ("rustc",), "clang++": ("clang++",), "em++": ("em++",),
                         "bazel": ("bazel",), "node": ("node",), "npm": ("npm",)})


@dataclass(frozen=True)
class BuildPlan:
    """Pure data. `artifact` is relative to the workspace's source directory."""

    language: str
    description: str
    steps: tuple[tuple[str, ...], ...]
    env: tuple[tuple[str, str], ...]
    artifact: PurePosixPath

    @property
    def environment(self) -> dict[str, str]:
        return dict(self.env)

    def fingerprint(self) -> str:
        """Everything that decides the output, as text, for the build key."""
        lines = [self.language, *("\0".join(step) for step in self.steps),
                 *(f"{k}={v}" for k, v in self.env), str(self.artifact)]
        return "\n".join(lines)


def make_plan(language: str, description: str, steps: list[tuple[str, ...]], env: Mapping[str, str],
              artifact: str | PurePosixPath) -> BuildPlan:
    return BuildPlan(language, description, tuple(tuple(s) for s in steps), tuple(sorted(env.items())),
                     PurePosixPath(artifact))


class Backend(Protocol):
    """Runs a plan (container.ContainerBackend, host.HostBackend): returns the module's path under
    out_dir, raises BuildError when a step fails. `keep`: top-level names of build outputs."""

    name: str

    def run(self, plan: BuildPlan, workspace: Workspace, project_dir: Path, work_dir: Path, out_dir: Path,
            keep: frozenset[str]) -> Path: ...
