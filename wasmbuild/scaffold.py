"""`wasmbuild new`: turn a few answers into a complete filter project.

The answers are validated up front (`resolve`), the whole project is rendered in memory
(`plan`: templates/common, then templates/<language>, then the vendored SDK), and only then is
anything written (`create`, through wasmbuild.templating's atomic writer). A bad answer therefore
never leaves half a project behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wasmbuild import __version__, names
from wasmbuild.errors import EnvironmentProblem, UsageError
from wasmbuild.templating import Layer, OutputFile, copy_tree, render_layers, write_tree

LANGUAGES = ("cpp", "assemblyscript", "rust")
LANGUAGE_ALIASES = {"c++": "cpp", "cxx": "cpp", "as": "assemblyscript", "ts": "assemblyscript", "rs": "rust"}
LANGUAGE_SUMMARY = {
    "cpp": "C++17, proxy-wasm C++ SDK, Bazel (clang wasm32-wasi or emscripten)",
    "assemblyscript": "AssemblyScript 0.28, @gcoredev/proxy-wasm-sdk-as (npm)",
    "rust": "Rust, the proxy-wasm crate (cargo, wasm32-wasi)",
}
ABI_VERSIONS = ("0.1.0", "0.2.0", "0.2.1")
PLATFORMS = ("istio", "envoy", "gloo")
# The version each platform is scaffolded for when none is given (only recorded in wasmbuild.toml,
# where deploy reads it).
PLATFORM_DEFAULT_VERSION = {"istio": "1.24", "envoy": "1.32", "gloo": "1.18"}
PLATFORM_SUMMARY = {
    "istio": "Istio sidecars and gateways (WasmPlugin, or EnvoyFilter)",
    "envoy": "a standalone Envoy (static bootstrap)",
    "gloo": "Gloo Gateway",
}
_PLATFORM_VERSION = re.compile(r"^\d+\.\d+(?:\.(?:\d+|x))?$")


@dataclass(frozen=True)
class Sdk:
    """A proxy-wasm SDK a language can be scaffolded against, and the ABI its modules export."""

    name: str
    abi: str
    summary: str
    vendor: tuple[str, str] | None = None  # (directory under toolchains/, directory in the project)


SDKS: dict[str, tuple[Sdk, ...]] = {  # the first one is the language's default
    "cpp": (
        Sdk("bundled", "0.2.1", "the C++ SDK bundled with wasmbuild, vendored into third_party/ (offline)",
            ("sdk/cpp", "third_party/proxy-wasm-cpp-sdk")),
        Sdk("upstream", "0.2.1", "proxy-wasm-cpp-sdk from GitHub, pinned by commit (Bazel needs network)"),
    ),
    "rust": (
        Sdk("bundled", "0.2.1", "the proxy-wasm crate bundled with wasmbuild, vendored into third_party/ (offline)",
            ("sdk/rust", "third_party/proxy-wasm")),
        Sdk("upstream", "0.2.1", 'proxy-wasm = "0.2" from crates.io (cargo needs network)'),
    ),
    "assemblyscript": (
        Sdk("gcore", "0.2.1", "@gcoredev/proxy-wasm-sdk-as 1.2.3 with AssemblyScript 0.28"),
        Sdk("solo-io", "0.2.0", "@solo-io/proxy-runtime 0.1.8 with AssemblyScript 0.14 (the SDK wasme used)"),
    ),
}


@dataclass(frozen=True)
class Answers:
    """Everything a template may depend on, validated."""

    name: str
    language: str
    root_id: str
    abi: str
    sdk: str
    platform: str
    platform_version: str

    @property
    def ident(self) -> str:
        return names.to_ident(self.name)

    def context(self) -> dict[str, str]:
        """The template context agreed for all templates (see BRIEF "Agreed decisions")."""
        return {
            "name": self.name,
            "ident": self.ident,
            "root_id": self.root_id,
            "abi": self.abi,
            "abi_marker": self.abi.replace(".", "_"),
            "sdk": self.sdk,
            "platform": self.platform,
            "platform_version": self.platform_version,
            "language": self.language,
            "wasmbuild_version": __version__,
        }


def language(raw: str) -> str:
    value = raw.strip().lower()
    value = LANGUAGE_ALIASES.get(value, value)
    if value not in LANGUAGES:
        raise UsageError(f"unknown language {raw!r}", f"choose one of: {', '.join(LANGUAGES)}")
    return value


def platform(raw: str) -> str:
    value = raw.strip().lower()
    if value not in PLATFORMS:
        raise UsageError(f"unknown platform {raw!r}", f"choose one of: {', '.join(PLATFORMS)}")
    return value


def platform_version(raw: str) -> str:
    value = raw.strip().removeprefix("v")
    if not _PLATFORM_VERSION.match(value):
        raise UsageError(f"platform version {raw!r} is not a version", "write MAJOR.MINOR, e.g. 1.24")
    return value


def abi_version(raw: str) -> str:
    """Accept `0.2.1`, `v0.2.1` and the export marker spelling `0_2_1`."""
    value = raw.strip().removeprefix("v").replace("_", ".")
    if value not in ABI_VERSIONS:
        raise UsageError(f"unknown proxy-wasm ABI version {raw!r}", f"choose one of: {', '.join(ABI_VERSIONS)}")
    return value


def sdk_for(language_name: str, sdk: str | None, abi: str | None) -> Sdk:
    """The SDK for the answers; --abi alone picks the SDK that emits that ABI."""
    choices = SDKS[language_name]
    listing = ", ".join(f"{s.name} (ABI {s.abi})" for s in choices)
    if sdk is not None:
        wanted = sdk.strip().lower()
        found = next((s for s in choices if s.name == wanted), None)
        if found is None:
            other = next((lang for lang, sdks in SDKS.items() if any(s.name == wanted for s in sdks)), None)
            problem = f"SDK {sdk!r} is for {other}" if other else f"unknown SDK {sdk!r}"
            raise UsageError(f"{problem}, not {language_name}", f"{language_name} SDKs: {listing}")
        if abi is not None and found.abi != abi:
            raise UsageError(f"SDK {found.name} emits proxy-wasm ABI {found.abi}, not {abi}",
                             f"{language_name} SDKs: {listing}")
        return found
    if abi is None:
        return choices[0]
    found = next((s for s in choices if s.abi == abi), None)
    if found is None:
        raise UsageError(f"no {language_name} SDK emits proxy-wasm ABI {abi}", f"{language_name} SDKs: {listing}")
    return found


def resolve(*, language_name: str, name: str, root_id: str | None = None, abi: str | None = None,
            sdk: str | None = None, platform_name: str = "istio", version: str | None = None) -> Answers:
    """Validate and complete the answers. Every argument is raw user input."""
    lang = language(language_name)
    project = names.project_name(name, lang)
    chosen = sdk_for(lang, sdk, abi_version(abi) if abi is not None else None)
    plat = platform(platform_name)
    return Answers(
        name=project,
        language=lang,
        root_id=names.root_id(root_id) if root_id is not None else names.to_ident(project),
        abi=chosen.abi,
        sdk=chosen.name,
        platform=plat,
        platform_version=platform_version(version) if version is not None else PLATFORM_DEFAULT_VERSION[plat],
    )


def _sdk(answers: Answers) -> Sdk:
    return next(s for s in SDKS[answers.language] if s.name == answers.sdk)


def plan(answers: Answers) -> list[OutputFile]:
    """Every file of the project, rendered in memory: common files, language files, vendored SDK."""
    from wasmbuild.resources import templates_dir, toolchains_dir

    templates = templates_dir()
    language_dir = templates / answers.language
    if not language_dir.is_dir():
        raise EnvironmentProblem(f"this wasmbuild has no {answers.language} template ({language_dir} is missing)",
                                 "reinstall wasmbuild")
    files = render_layers([Layer("common", templates / "common"), Layer(answers.language, language_dir)],
                          answers.context())
    vendor = _sdk(answers).vendor
    if vendor is not None:
        source = toolchains_dir() / vendor[0]
        if not source.is_dir():
            raise EnvironmentProblem(f"the bundled {answers.language} SDK is missing from this wasmbuild ({source})",
                                     "reinstall wasmbuild, or scaffold with --sdk upstream")
        target = PurePosixPath(vendor[1])
        files = [f for f in files if target not in f.path.parents] + copy_tree(source, target)
    return files


def create(answers: Answers, destination: Path, force: bool = False) -> list[OutputFile]:
    """Render the project and write it to `destination`; returns what was written."""
    files = plan(answers)
    write_tree(files, destination, force=force)
    return files
