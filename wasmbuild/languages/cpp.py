"""C++: Bazel (the template's //:filter.wasm through its toolchain/) or a direct compile without
Bazel, with clang for wasm32-wasi, emscripten, or zig (a pip-installable clang, host only)."""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath

from wasmbuild.build.plan import EXCLUDED_NAMES, EXCLUDED_PREFIXES, BuildPlan, Tools, Workspace, make_plan
from wasmbuild.config import Project
from wasmbuild.errors import ConfigError
from wasmbuild.languages import probe

NAME = "cpp"
TARGET = "//:filter.wasm"
BAZEL_CONFIGS = {"clang": "wasi", "emscripten": "emcc"}
VENDORED_SDK = "third_party/proxy-wasm-cpp-sdk"
SDK_SOURCE = "proxy_wasm_intrinsics.cc"
SDK_JS_LIBRARY = "proxy_wasm_intrinsics.js"
SDK_HEADER = "proxy_wasm_intrinsics.h"
SOURCE_SUFFIXES = (".cc", ".cpp", ".cxx", ".c")
# Directories whose sources belong to the build system or to vendored code, not to the filter.
NOT_FILTER_SOURCES = frozenset({"third_party", "toolchain", "bazel", "test", "tests"})
DIRECT_OUTPUT = "build/filter.wasm"
# Bazel's client idles its server this long on the host; in the container it runs --batch.
HOST_BAZEL_IDLE_SECONDS = 300

# The same flags as the template's Bazel toolchains (templates/cpp/toolchain/BUILD), so the direct
# mode builds what Bazel builds.
COMPILE_FLAGS = ("-std=c++17", "-O2", "-fno-exceptions")
WASI_LINK_FLAGS = ("-O2", "-mexec-model=reactor", "-Wl,--strip-all")
EMSCRIPTEN_LINK_FLAGS = ("-O2", "-sSTANDALONE_WASM", "-sPURE_WASI", "--no-entry", "-sERROR_ON_UNDEFINED_SYMBOLS=0",
                         "-sWARN_ON_UNDEFINED_SYMBOLS=0", "-sALLOW_MEMORY_GROWTH=1", "-sMAXIMUM_MEMORY=1073741824",
                         "-sINITIAL_MEMORY=1048576", "-sTOTAL_STACK=65536")
# Debian's emscripten with its prebuilt cache, and no sanity check that would write to it.
EMSCRIPTEN_ENV = {"EM_CACHE": "/usr/share/emscripten/cache", "EMCC_SKIP_SANITY_CHECK": "1"}
DEFAULT_ABI = "0.2.1"


def has_bazel_workspace(directory: Path) -> bool:
    return any((directory / name).is_file() for name in ("WORKSPACE", "WORKSPACE.bazel", "MODULE.bazel"))


def filter_sources(directory: Path) -> list[str]:
    """The project's own C/C++ sources, relative and sorted (stable argv, stable output)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_NAMES and d not in NOT_FILTER_SOURCES
                             and not d.startswith(EXCLUDED_PREFIXES) and not d.startswith("."))
        for name in filenames:
            if name.endswith(SOURCE_SUFFIXES):
                found.append((Path(dirpath) / name).relative_to(directory).as_posix())
    return sorted(found)


def default_bazel_config(directory: Path) -> str | None:
    """The config the project's .bazelrc applies to every build (`build --config=wasi`), if any."""
    try:
        lines = (directory / ".bazelrc").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) == 2 and words[0] == "build" and words[1].startswith("--config="):
            return words[1].partition("=")[2]
    return None


def uses_the_sdk(directory: Path, sources: list[str]) -> bool:
    """Whether the filter is written against the proxy-wasm C++ SDK (rather than the raw ABI)."""
    for source in sources:
        try:
            text = (directory / source).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if SDK_HEADER in text:
            return True
    return False


class Cpp:
    name = NAME

    def plan(self, project: Project, workspace: Workspace, tools: Tools) -> BuildPlan:
        build = project.config.build
        if build.mode == "bazel":
            return self._bazel(project, workspace, tools)
        return self._direct(project, workspace, tools)

    def _bazel(self, project: Project, workspace: Workspace, tools: Tools) -> BuildPlan:
        toolchain = project.config.build.toolchain
        if not has_bazel_workspace(project.directory):
            raise ConfigError(f"{project.directory}: [build] mode is bazel but there is no WORKSPACE file",
                              "build without Bazel with --mode direct (or mode = \"direct\" in wasmbuild.toml)")
        if toolchain not in BAZEL_CONFIGS:
            raise ConfigError(f"the {toolchain} toolchain builds only without Bazel",
                              "add --mode direct, or pick --toolchain clang or emscripten")
        startup = [f"--output_user_root={workspace.cache / 'bazel'}"]
        if workspace.executor == "container":
            startup.insert(0, "--batch")  # the container goes away after the build; so would a server
        else:
            startup.append(f"--max_idle_secs={HOST_BAZEL_IDLE_SECONDS}")
        config = BAZEL_CONFIGS[toolchain]
        # a config the project's .bazelrc already applies by default would be expanded twice (a warning)
        configs = () if default_bazel_config(project.directory) == config else (f"--config={config}",)
        step = (*tools("bazel"), *startup, "build", *configs, "--curses=no", "--show_progress_rate_limit=2", TARGET)
        env = dict(tools.env)
        return make_plan(NAME, f"bazel build {TARGET} ({toolchain})", [step], env, "bazel-bin/filter.wasm")

    def _direct(self, project: Project, workspace: Workspace, tools: Tools) -> BuildPlan:
        toolchain = project.config.build.toolchain
        sources = filter_sources(project.directory)
        if not sources:
            raise ConfigError(f"{project.directory}: no C++ sources (*.cc, *.cpp) to compile",
                              "add the filter's sources to the project directory")
        vendored = project.directory / VENDORED_SDK
        sdk = PurePosixPath(VENDORED_SDK) if (vendored / SDK_SOURCE).is_file() else workspace.sdk / "cpp"
        units = [*sources]
        uses_sdk = uses_the_sdk(project.directory, sources)
        if uses_sdk and not any(PurePosixPath(s).name == SDK_SOURCE for s in sources):
            units.append(str(sdk / SDK_SOURCE))
        includes: tuple[str, ...] = ("-I", str(sdk)) if uses_sdk else ()
        abi = project.config.project.abi
        if uses_sdk and abi != DEFAULT_ABI:  # the SDK exports this ABI's marker and callbacks
            includes += (f"-DPROXY_WASM_ABI_VERSION_{abi.replace('.', '_')}",)
        output = ("-o", DIRECT_OUTPUT)
        env = dict(tools.env)
        if toolchain == "emscripten":
            # the SDK's --js-library only names the host's functions; undefined symbols are allowed anyway
            js = ["--js-library", str(sdk / SDK_JS_LIBRARY)] if (vendored / SDK_JS_LIBRARY).is_file() else []
            compile_step = (*tools("em++"), *COMPILE_FLAGS, *EMSCRIPTEN_LINK_FLAGS, *js, *includes, *units, *output)
            env.update(EMSCRIPTEN_ENV)
        elif toolchain == "zig":
            if workspace.executor == "container":
                raise ConfigError("the zig toolchain is not in the builder image",
                                  "build it on this machine with --backend host, or pick --toolchain clang")
            compile_step = (*tools("zig-c++"), "-target", "wasm32-wasi", *COMPILE_FLAGS, *WASI_LINK_FLAGS,
                            *includes, *units, *output)
        else:
            compile_step = (*tools("clang++"), "--target=wasm32-wasi", *COMPILE_FLAGS, *WASI_LINK_FLAGS,
                            *includes, *units, *output)
        steps = [("mkdir", "-p", str(PurePosixPath(DIRECT_OUTPUT).parent)), compile_step]
        return make_plan(NAME, f"{toolchain} (direct, {len(sources)} source files)", steps, env, DIRECT_OUTPUT)

    # -- host ----------------------------------------------------------------------------------------

    def probe_host(self, project: Project) -> Tools | str:
        build = project.config.build
        commands: dict[str, tuple[str, ...]] = {}
        missing: list[str] = []
        if build.mode == "bazel":
            bazel = probe.which("bazel", "bazel-4")
            if bazel:
                commands["bazel"] = (bazel,)
            else:
                missing.append("bazel (Debian: apt-get install bazel-bootstrap bazel-platforms)")
        if build.toolchain == "clang":
            clang = probe.which("clang++", "clang++-14")
            if clang:
                commands["clang++"] = (clang,)
            else:
                missing.append("clang++ (Debian: apt-get install clang lld)")
            if not probe.which("wasm-ld", "wasm-ld-14"):
                missing.append("wasm-ld (Debian: apt-get install lld)")
            if not wasi_sysroot_present():
                missing.append("wasi-libc and libc++ for wasm32 (Debian: apt-get install wasi-libc "
                               "libc++-dev-wasm32 libclang-rt-14-dev-wasm32)")
        elif build.toolchain == "emscripten":
            emxx = probe.which("em++")
            if emxx:
                commands["em++"] = (emxx,)
            else:
                missing.append("em++ (Debian: apt-get install emscripten)")
        elif build.toolchain == "zig":
            if zig_available():
                commands["zig-c++"] = (sys.executable, "-m", "ziglang", "c++")
            else:
                missing.append(f"zig (pip install ziglang, into {sys.executable})")
        if missing:
            return "missing on this machine: " + "; ".join(missing)
        return Tools(commands)


def wasi_sysroot_present() -> bool:
    """Debian's layout (wasi-libc + libc++-dev-wasm32) or a wasi-sdk sysroot via WASI_SYSROOT."""
    roots = [Path(os.environ["WASI_SYSROOT"]) / "lib/wasm32-wasi"] if os.environ.get("WASI_SYSROOT") else []
    roots.append(Path("/usr/lib/wasm32-wasi"))
    return any((root / "libc.a").is_file() and (root / "libc++.a").is_file() for root in roots)


def zig_available() -> bool:
    from importlib.util import find_spec

    return find_spec("ziglang") is not None


LANGUAGE = Cpp()
