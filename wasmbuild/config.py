"""wasmbuild.toml, the project's self-description, as pydantic models.

Precedence: model defaults < wasmbuild.toml < WASMBUILD_<SECTION>_<KEY> environment < CLI flags,
merged into one dict before a single validation. Unknown keys are errors, and every validation
error becomes one `wasmbuild.toml: key: message` line (copier's way).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wasmbuild import refs, tomlfile
from wasmbuild.errors import ConfigError, NotFoundError, UsageError
from wasmbuild.names import NAME_MAX, NAME_PATTERN, to_ident

PROJECT_FILE = "wasmbuild.toml"

# The same values as wasmbuild.scaffold's LANGUAGES, ABI_VERSIONS and PLATFORMS (which `new` uses
# without importing pydantic); tests/unit/test_config.py keeps them equal.
Language = Literal["cpp", "assemblyscript", "rust"]
AbiVersion = Literal["0.1.0", "0.2.0", "0.2.1"]
Platform = Literal["istio", "envoy", "gloo"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSection(_Strict):
    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_MAX)
    language: Language
    abi: AbiVersion = "0.2.1"
    root_id: str = Field(default="", max_length=255)
    sdk: Literal["bundled", "upstream", "gcore", "solo-io"] = "bundled"
    platform: Platform = "istio"
    platform_version: str = ""
    version: str = "0.1.0"


class BuildSection(_Strict):
    backend: Literal["auto", "container", "host"] = "auto"
    output: str = "build/filter.wasm"
    toolchain: Literal["clang", "emscripten", "zig"] = "clang"
    mode: Literal["bazel", "direct"] = "bazel"
    image: str = ""

    @field_validator("output")
    @classmethod
    def _relative_output(cls, value: str) -> str:
        if not value or Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError("must be a relative path inside the project")
        return value


class PackageSection(_Strict):
    ref: str = ""
    variant: Literal["compat", "oci"] = "compat"
    runtime_config: str = "runtime-config.json"

    @field_validator("ref")
    @classmethod
    def _valid_ref(cls, value: str) -> str:
        if value:
            try:
                refs.parse(value)
            except UsageError as error:
                raise ValueError(error.message) from None
        return value


class ProjectConfig(_Strict):
    project: ProjectSection
    build: BuildSection = BuildSection()
    package: PackageSection = PackageSection()

    @property
    def default_ref(self) -> str:
        return refs.normalize(self.package.ref or f"{self.project.name}:latest")

    @property
    def root_id(self) -> str:
        """The root id; by default the name with `_` for `-`, as `wasmbuild new` writes it."""
        return self.project.root_id or to_ident(self.project.name)


@dataclass(frozen=True)
class Project:
    """A loaded project: where it is and what it says about itself."""

    directory: Path
    config: ProjectConfig

    @property
    def output_path(self) -> Path:
        return self.directory / self.config.build.output

    @property
    def runtime_config_path(self) -> Path:
        return self.directory / self.config.package.runtime_config


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """WASMBUILD_BUILD_BACKEND=host -> {"build": {"backend": "host"}} for the known sections."""
    found: dict[str, dict[str, str]] = {}
    for key, value in environ.items():
        if not key.startswith("WASMBUILD_"):
            continue
        section, _, name = key[len("WASMBUILD_"):].lower().partition("_")
        if section in ("project", "build", "package") and name:
            found.setdefault(section, {})[name] = value
    return found


def merge(base: Mapping[str, Any], *layers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Merge section-by-section: later layers win; None values in a layer are ignored."""
    merged: dict[str, Any] = {k: dict(v) if isinstance(v, Mapping) else v for k, v in base.items()}
    for layer in layers:
        for section, values in layer.items():
            target = merged.setdefault(section, {})
            if isinstance(target, dict):
                target.update({k: v for k, v in values.items() if v is not None})
    return merged


def format_validation_error(error: ValidationError, source: str = PROJECT_FILE) -> str:
    """One `source: key: message` line per problem."""
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        elif problem["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{source}: {key}: {message}")
    return "\n".join(lines)


def validate(data: Mapping[str, Any], source: str = PROJECT_FILE) -> ProjectConfig:
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, source),
                          f"fix {source}; see the README's wasmbuild.toml reference") from None


def find_project(path: Path | str = ".") -> Path:
    """The project directory for `path` (a directory holding wasmbuild.toml, or that file)."""
    candidate = Path(path)
    if candidate.name == PROJECT_FILE and candidate.is_file():
        return candidate.parent
    if not candidate.exists():
        raise NotFoundError(f"{candidate}: no such directory",
                            "pass the directory that holds wasmbuild.toml, or run 'wasmbuild new DIR' to create one")
    if not (candidate / PROJECT_FILE).is_file():
        raise NotFoundError(f"{candidate} is not a wasmbuild project (it has no {PROJECT_FILE})",
                            "run 'wasmbuild new DIR' to create one, or pass the project's directory")
    return candidate


def load_project(path: Path | str = ".", overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 environ: Mapping[str, str] | None = None) -> Project:
    """Load and validate a project: defaults < file < environment < `overrides` (CLI flags)."""
    directory = find_project(path)
    data = tomlfile.load(directory / PROJECT_FILE)
    merged = merge(data, _env_overrides(os.environ if environ is None else environ), overrides or {})
    return Project(directory.resolve(), validate(merged))
