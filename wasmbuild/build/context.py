"""The builder image's inputs: which files make up its build context, the tag they hash to, and
the host settings (CA bundle, npm registry, proxies) passed through to the one stage that fetches.

Kept free of docker-py so `wasmbuild build` can work out the expected tag cheaply on every run.
"""

from __future__ import annotations

import configparser
import hashlib
import io
import os
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmbuild.resources import toolchains_dir

REPOSITORY = "wasmbuild-builder"
LABEL_PREFIX = "io.wasmbuild"
# Bump when image.py changes how the context is assembled (it changes the image, not the inputs).
CONTEXT_VERSION = "1"
_SKIP_DIRS = {"node_modules", "target", "__pycache__", ".git", "build"}
_NPM_FILES = ("package.json", "package-lock.json")
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


@dataclass(frozen=True)
class ContextFile:
    name: str  # path inside the build context
    source: Path
    executable: bool


def _walk(root: Path, prefix: str) -> Iterator[ContextFile]:
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("bazel-"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() and not path.exists():
                continue
            rel = path.relative_to(root).as_posix()
            yield ContextFile(f"{prefix}{rel}", path, os.access(path, os.X_OK))


def context_files(toolchains: Path | None = None) -> list[ContextFile]:
    """Every file of the image's context except the host CA bundle, in a stable order."""
    base = toolchains or toolchains_dir()
    files = list(_walk(base / "builder", ""))
    npm = base / "npm"
    if npm.is_dir():
        for package_set in sorted(p for p in npm.iterdir() if p.is_dir()):
            for name in _NPM_FILES:
                path = package_set / name
                if path.is_file():
                    files.append(ContextFile(f"npm/{package_set.name}/{name}", path, False))
    files += _walk(base / "sdk", "sdk/")
    return sorted(files, key=lambda f: f.name)


def inputs_digest(files: list[ContextFile] | None = None) -> str:
    """sha256 over names, exec bits and contents: any toolchain change gives a new tag."""
    digest = hashlib.sha256(f"wasmbuild-builder-context {CONTEXT_VERSION}\n".encode())
    for item in context_files() if files is None else files:
        data = item.source.read_bytes()
        digest.update(f"{item.name}\0{int(item.executable)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def builder_tag(files: list[ContextFile] | None = None) -> str:
    return f"{REPOSITORY}:{inputs_digest(files)[:16]}"


def pinned_packages(toolchains: Path | None = None) -> dict[str, str]:
    """packages.txt as {package: version}."""
    path = (toolchains or toolchains_dir()) / "builder" / "packages.txt"
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line:
            name, _, version = line.partition("=")
            pins[name.strip()] = version.strip()
    return pins


def npm_sets(toolchains: Path | None = None) -> dict[str, dict[str, str]]:
    """The pinned npm sets: {set: {package: version}} from each package.json."""
    import json

    found: dict[str, dict[str, str]] = {}
    npm = (toolchains or toolchains_dir()) / "npm"
    if not npm.is_dir():
        return found
    for manifest in sorted(npm.glob("*/package.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        found[manifest.parent.name] = {**data.get("dependencies", {}), **data.get("devDependencies", {})}
    return found


def labels(tag: str, base: str) -> dict[str, str]:
    """Image labels: what is inside, so `builder info` can tell without starting a container."""
    from wasmbuild import __version__

    result = {
        "org.opencontainers.image.title": "wasmbuild builder",
        "org.opencontainers.image.description": "pinned offline toolchains for proxy-wasm filters",
        f"{LABEL_PREFIX}.version": __version__,
        f"{LABEL_PREFIX}.inputs": tag.partition(":")[2],
        f"{LABEL_PREFIX}.base": base,
    }
    for name, version in pinned_packages().items():
        result[f"{LABEL_PREFIX}.deb.{name}"] = version
    for set_name, packages in npm_sets().items():
        result[f"{LABEL_PREFIX}.npm.{set_name}"] = " ".join(f"{p}@{v}" for p, v in sorted(packages.items()))
    return result


# -- host settings passed through ----------------------------------------------------------------

def host_ca_bundle(environ: Mapping[str, str] | None = None) -> bytes:
    """The host's trusted CAs (the system bundle plus NODE_EXTRA_CA_CERTS), b"" when none is found.

    Behind a TLS-intercepting proxy these are what make npm and pip work; they are used only in
    the image's fetch stage."""
    env = os.environ if environ is None else environ
    candidates = [env.get("SSL_CERT_FILE", ""), env.get("REQUESTS_CA_BUNDLE", ""), env.get("PIP_CERT", ""),
                  *CA_BUNDLES]
    bundle = b""
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            bundle = Path(candidate).read_bytes()
            break
    extra = env.get("NODE_EXTRA_CA_CERTS", "")
    if extra and Path(extra).is_file():
        data = Path(extra).read_bytes()
        if data not in bundle:
            bundle += b"\n" + data
    return bundle


def _ini_value(paths: list[Path], key: str) -> str | None:
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for raw in text.splitlines():
            name, sep, value = raw.partition("=")
            if sep and name.strip().lower() == key:
                return value.strip().strip("'\"")
    return None


def npm_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """npm's registry and proxies as build args, from the environment or the npmrc files."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME", str(Path.home())))
    npmrcs = [Path(env["NPM_CONFIG_USERCONFIG"])] if env.get("NPM_CONFIG_USERCONFIG") else []
    npmrcs += [home / ".npmrc", Path("/etc/npmrc"), Path("/usr/etc/npmrc")]
    args: dict[str, str] = {}
    for key, arg in (("registry", "NPM_CONFIG_REGISTRY"), ("proxy", "NPM_CONFIG_PROXY"),
                     ("https-proxy", "NPM_CONFIG_HTTPS_PROXY")):
        value = env.get(arg) or env.get(arg.lower()) or _ini_value(npmrcs, key)
        if value:
            args[arg] = value
    return args


def pip_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """pip's index as build args (from PIP_* or pip.conf), for anything the fetch stage installs."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME", str(Path.home())))
    parser = configparser.ConfigParser()
    parser.read([Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf"), home / ".pip/pip.conf",
                 home / ".config/pip/pip.conf"])
    args: dict[str, str] = {}
    for key, arg in (("index-url", "PIP_INDEX_URL"), ("extra-index-url", "PIP_EXTRA_INDEX_URL"),
                     ("trusted-host", "PIP_TRUSTED_HOST")):
        value = env.get(arg) or (parser.get("global", key, fallback="") or "" if parser.has_section("global") else "")
        # file:// indexes exist only on the host; the image cannot see them
        value = " ".join(v for v in value.split() if not v.startswith("file:"))
        if value:
            args[arg] = value
    return args


def proxy_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    names = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
    return {name: env[name] for name in names if env.get(name)}


def build_args(base: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    return {"BASE": base, **npm_settings(environ), **pip_settings(environ), **proxy_settings(environ)}


def context_tar(files: list[ContextFile], ca_bundle: bytes) -> bytes:
    """The build context as an uncompressed tar (small: no node_modules, no binaries)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, data: bytes, executable: bool) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if executable else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))

        for item in files:
            add(item.name, item.source.read_bytes(), item.executable)
        add("host-ca.crt", ca_bundle, False)
        if not any(f.name.startswith("sdk/") for f in files):
            add("sdk/README", b"no bundled SDKs in this build context\n", False)
        if not any(f.name.startswith("npm/") for f in files):
            add("npm/README", b"no npm sets in this build context\n", False)
    return buffer.getvalue()
