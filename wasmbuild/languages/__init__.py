"""One module per language: how to plan its build and how to find its toolchain on this machine.

`LANGUAGES` maps the wasmbuild.toml `language` to its implementation (pre-commit's language
modules, cibuildwheel's platform registry). Plans are template-agnostic: they read the project's
own files (BUILD, Cargo.toml, package.json) rather than assuming one template.
"""

from __future__ import annotations

from typing import Protocol

from wasmbuild.build.plan import BuildPlan, Tools, Workspace
from wasmbuild.config import Project
from wasmbuild.languages import assemblyscript, cpp, rust


class Language(Protocol):
    name: str

    def plan(self, project: Project, workspace: Workspace, tools: Tools) -> BuildPlan: ...

    def probe_host(self, project: Project) -> Tools | str:
        """The tools to use on this machine, or a hint naming what is missing."""
        ...


LANGUAGES: dict[str, Language] = {
    "cpp": cpp.LANGUAGE,
    "rust": rust.LANGUAGE,
    "assemblyscript": assemblyscript.LANGUAGE,
}

__all__ = ["LANGUAGES", "Language"]
