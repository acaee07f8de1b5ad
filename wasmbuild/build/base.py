"""The builder's base image, made offline: debootstrap a minbase Debian bookworm from the Debian
mirror this machine already uses and import it into the Docker daemon.

Docker Hub (and so `debian:bookworm-slim`) may be unreachable, while the apt mirror nearly always
is: it is what installed Docker in the first place. The image tag derives from everything that
decides the result (suite, variant, architecture, the apt sources written into it), so it is made
once per machine and reused afterwards.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmbuild import console
from wasmbuild.errors import EnvironmentProblem, StorageError, WasmbuildError

SUITE = "bookworm"
VARIANT = "minbase"
REPOSITORY = "wasmbuild-base"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY = "http://deb.debian.org/debian-security"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# Bump when the way the base is made changes (cleanup steps, sources format) to force a new tag.
RECIPE_VERSION = "1"
_SUITE_RE = re.compile(rf"^{SUITE}(-updates|-security)?$")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suite: str
    components: tuple[str, ...]

    def line(self) -> str:
        return f"deb {self.uri} {self.suite} {' '.join(self.components)}"


def _one_line_sources(text: str) -> Iterator[AptSource]:
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        words = line.split()[1:]
        if words and words[0].startswith("["):  # options like [arch=amd64 signed-by=...]
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 3:
            yield AptSource(words[0].rstrip("/"), words[1], tuple(words[2:]))


def _deb822_sources(text: str) -> Iterator[AptSource]:
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for raw in stanza.splitlines():
            if raw.startswith("#") or not raw.strip():
                continue
            if raw[0].isspace() and key:
                fields[key] += " " + raw.strip()
                continue
            key, _, value = raw.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                yield AptSource(uri.rstrip("/"), suite, tuple(fields.get("components", "main").split()))


def host_sources(root: Path = Path("/")) -> list[AptSource]:
    """The Debian bookworm entries of this machine's apt configuration (one-line and deb822 files)."""
    found: list[AptSource] = []
    main_list = root / "etc/apt/sources.list"
    files = [main_list] if main_list.is_file() else []
    directory = root / "etc/apt/sources.list.d"
    if directory.is_dir():
        files += sorted(p for p in directory.iterdir() if p.suffix in (".list", ".sources"))
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        parser = _deb822_sources if path.suffix == ".sources" else _one_line_sources
        found += [s for s in parser(text) if _SUITE_RE.match(s.suite) and s.uri.startswith(("http://", "https://"))]
    return found


def image_sources(root: Path = Path("/")) -> list[AptSource]:
    """What the base image's apt will use: the host's bookworm entries, or Debian's defaults.

    Only `main` is kept: the toolchains all live there, and it keeps the image's apt state small.
    """
    chosen: dict[str, AptSource] = {}
    for source in host_sources(root):
        if "main" in source.components:
            chosen.setdefault(source.suite, AptSource(source.uri, source.suite, ("main",)))
    if SUITE not in chosen:
        chosen = {SUITE: AptSource(DEFAULT_MIRROR, SUITE, ("main",)),
                  f"{SUITE}-updates": AptSource(DEFAULT_MIRROR, f"{SUITE}-updates", ("main",)),
                  f"{SUITE}-security": AptSource(DEFAULT_SECURITY, f"{SUITE}-security", ("main",))}
    order = [SUITE, f"{SUITE}-updates", f"{SUITE}-security"]
    return [chosen[s] for s in order if s in chosen]


def architecture() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "ppc64le": "ppc64el",
            "s390x": "s390x", "riscv64": "riscv64"}.get(machine, machine)


def base_tag(sources: list[AptSource] | None = None) -> str:
    """`wasmbuild-base:bookworm-<hash>`, from the inputs that decide the image's content."""
    sources = image_sources() if sources is None else sources
    digest = hashlib.sha256("\n".join(
        [RECIPE_VERSION, SUITE, VARIANT, architecture(), *(s.line() for s in sources)]).encode()).hexdigest()
    return f"{REPOSITORY}:{SUITE}-{digest[:12]}"


def image_exists(client: Any, tag: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(tag)
    except ImageNotFound:
        return False
    return True


def ensure_base(client: Any, work_dir: Path, force: bool = False) -> str:
    """Return the tag of the debootstrapped base image, making it when it is not there yet."""
    sources = image_sources()
    tag = base_tag(sources)
    if not force and image_exists(client, tag):
        console.info(f"base image {tag} is present")
        return tag
    _require_tools()
    work_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="base-", dir=work_dir))
    try:
        rootfs = scratch / "rootfs"
        _debootstrap(rootfs, sources[0].uri)
        _finish_rootfs(rootfs, sources)
        tarball = scratch / "rootfs.tar"
        _tar(rootfs, tarball)
        _import(client, tarball, tag)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    console.done(f"base image {tag} imported")
    return tag


def _require_tools() -> None:
    if shutil.which("debootstrap") is None and not Path("/usr/sbin/debootstrap").exists():
        raise EnvironmentProblem("debootstrap is not installed, and the base image cannot be pulled",
                                 "install it ('sudo apt-get install debootstrap'), or pass --base IMAGE "
                                 "naming a Debian bookworm image the daemon has")
    if os.geteuid() != 0:
        raise EnvironmentProblem("debootstrap needs root to make the base image",
                                 "run 'sudo wasmbuild builder build --bootstrap' once, or pass --base IMAGE")


def _run_logged(argv: list[str], what: str, on_line: Callable[[str], None] | None = None) -> None:
    """Run argv, feeding its output lines to on_line; on failure raise with its last lines."""
    tail: list[str] = []
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            tail = [*tail[-19:], line.rstrip()]
            if on_line:
                on_line(line.rstrip())
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        text = "\n".join(tail)
        if "No space left on device" in text:
            raise StorageError(f"{what}: no space left on device", "free some disk space and try again")
        raise EnvironmentProblem(f"{what} failed (exit {code}):\n{text}",
                                 "check that the Debian mirror in /etc/apt/sources.list* answers, or pass --base IMAGE")


def _debootstrap(rootfs: Path, mirror: str) -> None:
    argv = ["debootstrap", f"--variant={VARIANT}", f"--arch={architecture()}", "--components=main"]
    if KEYRING.is_file():
        argv.append(f"--keyring={KEYRING}")
    argv += [SUITE, str(rootfs), mirror]
    console.step(f"debootstrapping Debian {SUITE} ({VARIANT}) from {mirror}")
    with console.progress("debootstrap", unit="pkg") as bar:
        def on_line(line: str) -> None:
            if line.startswith(("I: Retrieving", "I: Extracting", "I: Unpacking", "I: Configuring")):
                bar.update(1)
                bar.set_postfix_str(line[3:60])
            elif line.startswith(("I: Base system installed", "W:", "E:")):
                console.info(line)
        _run_logged(argv, "debootstrap", on_line)


def _finish_rootfs(rootfs: Path, sources: list[AptSource]) -> None:
    """apt sources as on the host, no caches or logs, a stable machine-id-free image."""
    (rootfs / "etc/apt/sources.list").write_text("".join(s.line() + "\n" for s in sources), encoding="utf-8")
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "var/log", "tmp"):
        target = rootfs / junk
        if target.is_dir():
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    if child.name != "partial":
                        shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
    machine_id = rootfs / "etc/machine-id"
    if machine_id.exists():
        machine_id.write_text("", encoding="utf-8")
    # images never run services; keep apt quiet and small inside docker build
    apt_conf = rootfs / "etc/apt/apt.conf.d"
    apt_conf.mkdir(parents=True, exist_ok=True)
    (apt_conf / "90wasmbuild").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
        'Acquire::Languages "none";\nDpkg::Use-Pty "0";\n', encoding="utf-8")
    dpkg_conf = rootfs / "etc/dpkg/dpkg.cfg.d"
    dpkg_conf.mkdir(parents=True, exist_ok=True)
    (dpkg_conf / "90wasmbuild-nodoc").write_text(
        "path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\n"
        "path-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n"
        "path-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n", encoding="utf-8")


def _tar(rootfs: Path, tarball: Path) -> None:
    console.step("packing the root file system")
    _run_logged(["tar", "--numeric-owner", "--xattrs", "--sort=name", "-C", str(rootfs), "-cf", str(tarball), "."],
                "packing the base root file system")


def _import(client: Any, tarball: Path, tag: str) -> None:
    from docker.errors import APIError

    from wasmbuild.build.dockerapi import api_error_text

    repository, _, version = tag.partition(":")
    size = tarball.stat().st_size
    console.step(f"importing {tag} into the Docker daemon")
    with console.progress("import", total=size) as bar, open(tarball, "rb") as handle:
        def chunks() -> Iterator[bytes]:
            while block := handle.read(1 << 20):
                bar.update(len(block))
                yield block
        try:
            client.api.import_image(src=chunks(), repository=repository, tag=version, stream_src=True,
                                    changes=['CMD ["/bin/bash"]', "ENV PATH=/usr/local/sbin:/usr/local/bin:"
                                             "/usr/sbin:/usr/bin:/sbin:/bin", "ENV LANG=C.UTF-8"])
        except APIError as exc:
            raise WasmbuildError(f"docker refused to import the base image: {api_error_text(exc)}") from None
