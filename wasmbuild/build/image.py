"""The builder image: choose a base, build the toolchains on it, describe what is inside.

The tag is `wasmbuild-builder:<hash of the inputs>` (see context.py), so an image with that tag is
exactly the toolchains this wasmbuild expects and is reused as is; any change to the Dockerfile,
the pinned packages, the npm lock files or the bundled SDKs gives a new tag and a rebuild.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wasmbuild import console
from wasmbuild.build import base as base_image
from wasmbuild.build import context
from wasmbuild.build.dockerapi import api_error_text
from wasmbuild.build.units import human_size
from wasmbuild.errors import EnvironmentProblem, NotFoundError, StorageError, WasmbuildError
from wasmbuild.paths import home

DEFAULT_BASE = "debian:bookworm-slim"
_STEP_RE = re.compile(r"^Step (\d+)/(\d+) : (.*)$")


@dataclass(frozen=True)
class ImageInfo:
    tag: str
    id: str
    size: int
    created: str
    labels: Mapping[str, str]

    @property
    def base(self) -> str:
        return self.labels.get(f"{context.LABEL_PREFIX}.base", "?")

    def toolchains(self) -> dict[str, str]:
        prefix = f"{context.LABEL_PREFIX}."
        return {k[len(prefix):]: v for k, v in sorted(self.labels.items())
                if k.startswith((prefix + "deb.", prefix + "npm."))}


def find(client: Any, tag: str) -> ImageInfo | None:
    from docker.errors import ImageNotFound

    try:
        image = client.images.get(tag)
    except ImageNotFound:
        return None
    attrs = image.attrs
    return ImageInfo(tag, attrs["Id"], int(attrs.get("Size", 0)), attrs.get("Created", ""),
                     dict((attrs.get("Config") or {}).get("Labels") or {}))


# -- base selection -------------------------------------------------------------------------------

def choose_base(client: Any, requested: str | None, bootstrap: bool) -> str:
    """The base image to build on, made available locally.

    --bootstrap: always the debootstrapped base. --base IMAGE: that image (pulled when missing).
    Default: debian:bookworm-slim if present, else a debootstrapped base made earlier, else a pull
    of debian:bookworm-slim, else (no registry reachable, as on offline machines) debootstrap.
    """
    if bootstrap:
        return base_image.ensure_base(client, home() / "tmp")
    if requested:
        if not base_image.image_exists(client, requested):
            _pull(client, requested)
        return requested
    if base_image.image_exists(client, DEFAULT_BASE):
        return DEFAULT_BASE
    made = base_image.base_tag()
    if base_image.image_exists(client, made):
        console.info(f"using the debootstrapped base {made}")
        return made
    try:
        _pull(client, DEFAULT_BASE)
        return DEFAULT_BASE
    except EnvironmentProblem as problem:
        console.warn(f"{problem.message}; making a base image offline with debootstrap instead")
    return base_image.ensure_base(client, home() / "tmp")


def _pull(client: Any, image: str) -> None:
    from docker.errors import APIError, DockerException

    console.step(f"pulling {image}")
    layers: dict[str, tuple[int, int]] = {}
    try:
        with console.progress(f"pull {image}") as bar:
            for event in client.api.pull(image, stream=True, decode=True):  # docker-py splits off tag or digest
                if "error" in event:
                    raise EnvironmentProblem(f"cannot pull {image}: {event['error']}",
                                             "pass --bootstrap to make the base offline with debootstrap")
                detail = event.get("progressDetail") or {}
                if event.get("id") and detail.get("total"):
                    layers[event["id"]] = (int(detail.get("current", 0)), int(detail["total"]))
                    bar.total = sum(t for _, t in layers.values())
                    bar.n = sum(c for c, _ in layers.values())
                    bar.refresh()
    except (APIError, DockerException) as exc:
        raise EnvironmentProblem(f"cannot pull {image}: {api_error_text(exc)}",
                                 "pass --bootstrap to make the base offline with debootstrap") from None


# -- building -----------------------------------------------------------------------------------------

def build(client: Any, base: str, force: bool = False, verbose: bool = False) -> ImageInfo:
    """Build the builder image on `base` (unless the expected tag exists and not force)."""
    files = context.context_files()
    tag = context.builder_tag(files)
    if not force:
        existing = find(client, tag)
        if existing is not None:
            console.info(f"builder image {tag} is up to date")
            return existing
    console.step(f"building {tag} on {base} (the first build downloads the toolchains: a few minutes)")
    tar = context.context_tar(files, context.host_ca_bundle())
    args = context.build_args(base)
    stream = client.api.build(fileobj=tar, custom_context=True, tag=tag, buildargs=args, network_mode="host",
                              labels=context.labels(tag, base), rm=True, forcerm=True, decode=True, pull=False)
    _follow_build(stream, verbose)
    info = find(client, tag)
    if info is None:  # the daemon said it succeeded; it must be there
        raise WasmbuildError(f"the build of {tag} finished but the image is missing")
    console.done(f"builder image {tag} ({info.id[7:19]}, {human_size(info.size)})")
    return info


def _follow_build(stream: Iterable[Mapping[str, Any]], verbose: bool) -> None:
    """Turn docker's JSON build stream into a step bar, step lines and, on failure, the last lines."""
    tail: list[str] = []
    with console.progress("builder image", unit="step") as bar:
        for event in stream:
            if "error" in event:
                _raise_build_error(str(event["error"]), tail)
            text = str(event.get("stream") or event.get("status") or "")
            for line in text.splitlines():
                line = line.rstrip()
                if not line:
                    continue
                match = _STEP_RE.match(line)
                if match:
                    bar.total = int(match.group(2))
                    bar.n = int(match.group(1)) - 1
                    bar.refresh()
                    if match.group(3).split(" ", 1)[0].upper() in ("FROM", "RUN", "COPY"):
                        console.info(f"  step {match.group(1)}/{match.group(2)}: {match.group(3)[:100]}")
                    continue
                tail = [*tail[-29:], line]
                if verbose:
                    console.info("    " + line)
                else:
                    bar.set_postfix_str(line[:60])


def _raise_build_error(message: str, tail: list[str]) -> None:
    text = "\n".join(tail[-15:])
    if "no space left on device" in (message + text).lower():
        raise StorageError("building the builder image: no space left on device",
                           "free some disk space ('docker system prune' helps) and try again")
    hint = "run 'wasmbuild builder build --verbose' to see the whole log"
    if "Version" in text and "was not found" in text:
        hint = ("the Debian mirror no longer carries a pinned version; update toolchains/builder/packages.txt "
                "to the versions 'apt-cache policy' shows")
    raise EnvironmentProblem(f"the builder image build failed: {message.strip()}\n{text}", hint)


def ensure(client: Any, tag: str | None = None) -> ImageInfo:
    """The builder image for this wasmbuild, building it (with the default base) when missing."""
    tag = tag or context.builder_tag()
    info = find(client, tag)
    if info is not None:
        return info
    if tag != context.builder_tag():
        raise NotFoundError(f"the builder image {tag} does not exist",
                            "build it, or drop [build] image from wasmbuild.toml to use wasmbuild's own")
    console.step(f"the builder image {tag} is missing; building it now (once)")
    return build(client, choose_base(client, None, False))


def run_versions(client: Any, tag: str) -> dict[str, str]:
    """Ask the tools themselves (no network, any uid), for `builder info --verify`."""
    script = ("for c in 'clang++ --version' 'em++ --version' 'bazel --version' 'rustc --version' "
              "'cargo --version' 'node --version' 'npm --version' 'wasm-opt --version'; do "
              "printf '%s\\t' \"${c%% *}\"; $c 2>/dev/null | head -1; done; "
              "for d in /opt/wasmbuild/npm/*/node_modules/assemblyscript; do "
              "printf 'asc(%s)\\t' \"$(basename $(dirname $(dirname $d)))\"; "
              "sed -n 's/^  \"version\": \"\\(.*\\)\",$/\\1/p' $d/package.json; done")
    output = client.containers.run(tag, ["sh", "-c", script], network_disabled=True, remove=True,
                                   user="65534:65534", stdout=True, stderr=False)
    versions: dict[str, str] = {}
    for line in output.decode(errors="replace").splitlines():
        name, _, value = line.partition("\t")
        if name:
            versions[name] = value.strip().strip(",")
    return versions
