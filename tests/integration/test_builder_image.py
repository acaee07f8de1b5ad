"""The builder image as users meet it: `builder build` (reused when current), `builder info`, the
pinned toolchains really installed, and a layout that works for any uid with no network."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.common import run_cli
from wasmbuild.build import base, context

pytestmark = [pytest.mark.docker]


def test_builder_build_reuses_the_current_image(builder_image: str) -> None:
    result = run_cli("builder", "build")
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stderr
    assert result.stdout.startswith(builder_image + " sha256:")


def test_builder_build_on_another_base_says_why_nothing_happened(builder_image: str) -> None:
    # the tag follows the toolchains, not the base: an up-to-date image is kept, and the user is told
    result = run_cli("builder", "build", "--base", "debian:bookworm")
    assert result.returncode == 0, result.stderr
    assert "is up to date; add --force to rebuild it on debian:bookworm" in result.stderr
    bad = run_cli("builder", "build", "--base", "Not An Image")
    assert bad.returncode == 2 and "--base 'Not An Image' is not an image reference" in bad.stderr


def test_builder_info_shows_id_size_tag_and_versions(builder_image: str) -> None:
    result = run_cli("builder", "info")
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert fields["tag"] == builder_image and fields["id"].startswith("sha256:")
    assert fields["size"].endswith("GB") or fields["size"].endswith("MB")
    assert fields["deb.clang-14"] == context.pinned_packages()["clang-14"]
    assert "assemblyscript@0.28" in fields["npm.gcore"] and "assemblyscript@0.14.13" in fields["npm.solo-io"]


def test_builder_info_verify_asks_the_tools(builder_image: str) -> None:
    result = run_cli("builder", "info", "--json", "--verify")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    verified = info["verified"]
    assert verified["clang++"].startswith("Debian clang version 14")
    assert "3.1.6" in verified["em++"] and verified["rustc"].startswith("rustc 1.63")
    assert verified["asc(gcore)"].startswith("0.28.") and verified["asc(solo-io)"] == "0.14.13"


def test_the_pinned_packages_are_what_is_installed(builder_image: str, docker_client: Any) -> None:
    output = docker_client.containers.run(builder_image, ["cat", "/opt/wasmbuild/dpkg-versions.txt"],
                                          remove=True, network_disabled=True).decode()
    installed = dict(line.split("=", 1) for line in output.splitlines())
    for package, version in context.pinned_packages().items():
        assert installed.get(package) == version, package


def test_any_uid_without_a_passwd_entry_can_use_every_tool_offline(builder_image: str, docker_client: Any) -> None:
    script = ("set -e; cd /tmp; touch WORKSPACE; "
              "bazel --batch --output_user_root=/tmp/b info output_base >/dev/null 2>&1; "
              "printf 'int main(){return 0;}' > t.cc; clang++ --target=wasm32-wasi -o t.wasm t.cc; "
              "EM_CACHE=/usr/share/emscripten/cache em++ -sSTANDALONE_WASM -o e.wasm t.cc; "
              "rustc --version; cargo --version; node /opt/wasmbuild/npm/gcore/node_modules/.bin/asc --version; "
              "id -u")
    output = docker_client.containers.run(builder_image, ["sh", "-c", script], user="12345:12345",
                                          environment={"USER": "x", "HOME": "/tmp"}, network_mode="none",
                                          remove=True).decode()
    assert output.strip().splitlines()[-1] == "12345"


def test_the_image_tag_is_the_hash_of_this_checkouts_toolchains(builder_image: str, docker_client: Any) -> None:
    labels = docker_client.images.get(builder_image).labels
    assert labels["io.wasmbuild.inputs"] == builder_image.split(":", 1)[1]
    assert builder_image == context.builder_tag()
    assert labels["io.wasmbuild.base"]  # the base it was built on is recorded


def test_the_base_comes_from_this_machines_debian_mirror(builder_image: str, docker_client: Any) -> None:
    labels = docker_client.images.get(builder_image).labels
    used = labels["io.wasmbuild.base"]
    if used.startswith(base.REPOSITORY + ":"):
        sources = docker_client.containers.run(used, ["cat", "/etc/apt/sources.list"], remove=True,
                                               network_disabled=True).decode()
        assert sources.splitlines() == [s.line() for s in base.image_sources()]
    else:
        assert used == "debian:bookworm-slim"


def test_a_base_named_by_digest_is_pulled_from_its_registry(registry: Any, docker_client: Any) -> None:
    """--base NAME@sha256:...: the whole reference goes to the daemon (a real push to the local
    registry, the image removed, then choose_base pulls it back by digest)."""
    import io
    import tarfile

    from wasmbuild.build import image

    rootfs = io.BytesIO()
    with tarfile.open(fileobj=rootfs, mode="w") as tar:
        payload = b"wasmbuild digest-pull probe\n"
        info = tarfile.TarInfo("probe.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    repository = f"{registry.host}/wasmbuild-tests/tiny-base"
    docker_client.api.import_image_from_data(rootfs.getvalue(), repository=repository, tag="v1")
    pushed = [e for e in docker_client.api.push(repository, tag="v1", stream=True, decode=True)]
    assert not [e for e in pushed if "error" in e], pushed
    (digest,) = [e["aux"]["Digest"] for e in pushed if "Digest" in (e.get("aux") or {})]
    pinned = f"{repository}@{digest}"
    docker_client.images.remove(f"{repository}:v1", force=True)
    try:
        assert not base.image_exists(docker_client, pinned)
        assert image.choose_base(docker_client, pinned, bootstrap=False) == pinned
        assert base.image_exists(docker_client, pinned)
    finally:
        docker_client.images.remove(pinned, force=True)
