"""Rust: `cargo build --release --offline --target wasm32-wasi` with a rustc that has the wasm32-wasi
standard library (Debian's rustc 1.63 + libstd-rust-dev-wasm32; a rustup toolchain with the target)."""

from __future__ import annotations

from pathlib import Path

from wasmbuild import tomlfile
from wasmbuild.build.plan import BuildPlan, Tools, Workspace, make_plan
from wasmbuild.config import Project
from wasmbuild.errors import ConfigError
from wasmbuild.languages import probe

NAME = "rust"
TARGET = "wasm32-wasi"
# Debian's rustc comes first among the candidates PATH does not list first: rustup's proxy in
# ~/.cargo/bin often shadows it and has no wasm target.
RUSTC_CANDIDATES = ("/usr/bin/rustc", "/usr/local/bin/rustc")
INSTALL_HINT = ("a rustc with the wasm32-wasi target (Debian: apt-get install rustc cargo libstd-rust-dev-wasm32 "
                "lld; rustup: rustup target add wasm32-wasi)")


def crate_artifact_name(directory: Path) -> str:
    """The cdylib's file name: [lib] name, else the package name, with '-' as '_'."""
    manifest = directory / "Cargo.toml"
    if not manifest.is_file():
        raise ConfigError(f"{directory}: a rust project needs a Cargo.toml",
                          "run 'wasmbuild new --lang rust' for a working layout")
    data = tomlfile.load(manifest)
    lib = data.get("lib") or {}
    name = lib.get("name") or (data.get("package") or {}).get("name")
    if not name:
        raise ConfigError("Cargo.toml: [package] name is missing")
    crate_types = lib.get("crate-type") or []
    if "cdylib" not in crate_types:
        raise ConfigError('Cargo.toml: [lib] crate-type must include "cdylib" to produce a .wasm module',
                          'add crate-type = ["cdylib"] under [lib]')
    return str(name).replace("-", "_")


class Rust:
    name = NAME

    def plan(self, project: Project, workspace: Workspace, tools: Tools) -> BuildPlan:
        crate = crate_artifact_name(project.directory)
        # Offline in the container (no network there; a clear error instead of a retry loop). On the
        # host, cargo keeps the user's CARGO_HOME and may fetch what the lock file names.
        offline = ("--offline",) if workspace.offline else ()
        step = (*tools("cargo"), "build", "--release", *offline, "--target", TARGET)
        env = {"CARGO_TARGET_DIR": str(workspace.cache / "target"), "CARGO_TERM_PROGRESS_WHEN": "never",
               "CARGO_INCREMENTAL": "0", **tools.env}
        if workspace.offline:
            env["CARGO_HOME"] = str(workspace.cache / "cargo")
        return make_plan(NAME, f"cargo build --release --target {TARGET}", [step], env,
                         workspace.cache / "target" / TARGET / "release" / f"{crate}.wasm")

    def probe_host(self, project: Project) -> Tools | str:
        found = find_wasm_rustc()
        if found is None:
            return f"missing on this machine: {INSTALL_HINT}"
        rustc, cargo, sysroot = found
        env = {"RUSTC": rustc}
        linker = find_wasm_linker(rustc, sysroot)
        if linker is None:
            return f"missing on this machine: {LINKER_HINT}"
        if linker:
            env[LINKER_VARIABLE] = linker
        return Tools({"cargo": (cargo,), "rustc": (rustc,)}, env)


LINKER = "rust-lld"
LINKER_VARIABLE = "CARGO_TARGET_WASM32_WASI_LINKER"
LINKER_HINT = ("rust-lld, the linker rustc uses for wasm32-wasi (Debian: apt-get install lld, which its "
               "rustc package's /usr/bin/rust-lld points to)")


def find_wasm_linker(rustc: str, sysroot: str) -> str | None:
    """How `rustc` (its sysroot: `sysroot`) links wasm32-wasi: "" when it finds rust-lld itself (rustup
    ships it in the sysroot; Debian's is on PATH), the path to pass when it sits beside rustc but PATH does not
    reach it, None when there is none that works (Debian's /usr/bin/rust-lld dangles without lld).
    Without this check a missing linker shows up as a compile error after the crates compiled."""
    if any(probe.executable(p) for p in Path(sysroot).glob(f"lib/rustlib/*/bin/{LINKER}")):
        return ""
    if probe.which(LINKER):
        return ""
    beside = Path(rustc).with_name(LINKER)
    if probe.executable(beside):  # follows the symlink: a dangling one does not count
        return str(beside)
    return None


def find_wasm_rustc() -> tuple[str, str, str] | None:
    """(rustc, cargo, sysroot) of the first toolchain whose sysroot has lib/rustlib/wasm32-wasi."""
    seen: set[str] = set()
    for candidate in (probe.which("rustc"), *RUSTC_CANDIDATES):
        if not candidate or candidate in seen or not probe.executable(candidate):
            continue
        seen.add(candidate)
        sysroot = probe.output([candidate, "--print", "sysroot"])
        if not sysroot or not (Path(sysroot) / "lib/rustlib" / TARGET).is_dir():
            continue
        cargo = Path(candidate).with_name("cargo")
        if probe.executable(cargo):
            return candidate, str(cargo), sysroot
        on_path = probe.which("cargo")
        if on_path:
            return candidate, on_path, sysroot
    return None


LANGUAGE = Rust()
