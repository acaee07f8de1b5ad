"""Push and pull against a real registry (Debian's docker-registry on 127.0.0.1): both variants
round-trip bit-exact, digests are deterministic, the manifests have the shapes Istio reads, and
docker itself can pull the compat image and finds the module in its layer."""

from __future__ import annotations

import io
import json
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.common import run_cli
from tests.fixtures.registry import RegistryServer
from tests.fixtures.wasm import wasm_module
from wasmbuild import runtime_config
from wasmbuild.oci import mediatypes as mt
from wasmbuild.store import Store

pytestmark = pytest.mark.registry

RUNTIME_CONFIG = runtime_config.default(["v0.2.1"], ["add_header_root"])


def fetch_manifest(registry: RegistryServer, repo: str, reference: str) -> tuple[dict[str, Any], str]:
    request = urllib.request.Request(registry.url(f"/v2/{repo}/manifests/{reference}"),
                                     headers={"Accept": mt.ACCEPT})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read()), response.headers["Content-Type"]


def pushed_digest(stdout: str, ref_name: str) -> str:
    line = stdout.strip().splitlines()[-1]
    name, _, digest = line.partition("@")
    assert name == ref_name
    assert digest.startswith("sha256:")
    return digest


@pytest.mark.parametrize("variant", ["compat", "oci"])
def test_round_trip_is_bit_exact(variant: str, registry: RegistryServer, unique_repo: str,
                                 tmp_path: Path) -> None:
    module = wasm_module(f"roundtrip-{variant}", 4096)
    ref = f"{registry.host}/{unique_repo}:v1"
    Store().put(ref, module, RUNTIME_CONFIG)

    pushed = run_cli("push", ref, "--variant", variant)
    assert pushed.returncode == 0, pushed.stderr
    digest = pushed_digest(pushed.stdout, f"{registry.host}/{unique_repo}")

    other_home = tmp_path / "elsewhere"
    pulled = run_cli("pull", ref, env={"WASMBUILD_HOME": str(other_home)})
    assert pulled.returncode == 0, pulled.stderr
    assert pushed_digest(pulled.stdout, f"{registry.host}/{unique_repo}") == digest
    entry = Store(other_home / "store").get(ref)
    assert entry.read_module() == module
    assert dict(entry.runtime_config) == RUNTIME_CONFIG
    info = json.loads((entry.directory / "image.json").read_text())
    assert info["variant"] == variant and info["digest"] == digest


def test_same_module_same_digest_from_any_store(registry: RegistryServer, unique_repo: str, tmp_path: Path) -> None:
    module = wasm_module("deterministic", 2048)
    digests = set()
    for n, home in enumerate((None, tmp_path / "second-home")):
        ref = f"{registry.host}/{unique_repo}-{n}:v{n}"
        store = Store(home / "store") if home else Store()
        store.put(ref, module, dict(reversed(list(RUNTIME_CONFIG.items()))))  # key order must not matter
        env = {"WASMBUILD_HOME": str(home)} if home else None
        result = run_cli("push", ref, env=env)
        assert result.returncode == 0, result.stderr
        digests.add(pushed_digest(result.stdout, ref.rsplit(":", 1)[0]))
    assert len(digests) == 1

    # and a module pulled back and pushed again keeps its digest
    source = f"{registry.host}/{unique_repo}-0:v0"
    Store().remove(source)
    assert run_cli("pull", source).returncode == 0
    again = run_cli("push", source)
    assert again.returncode == 0, again.stderr
    assert pushed_digest(again.stdout, source.rsplit(":", 1)[0]) in digests
    assert "already there" in again.stderr


def test_compat_manifest_is_what_istio_and_docker_read(registry: RegistryServer, unique_repo: str) -> None:
    ref = f"{registry.host}/{unique_repo}:v1"
    Store().put(ref, wasm_module("compat-shape"), RUNTIME_CONFIG)
    assert run_cli("push", ref).returncode == 0
    manifest, content_type = fetch_manifest(registry, unique_repo, "v1")
    assert content_type == mt.OCI_MANIFEST == manifest["mediaType"]
    assert manifest["annotations"][mt.VARIANT] == "compat"
    assert manifest["annotations"][mt.ABI_VERSION] == "v0.2.1"
    assert [layer["mediaType"] for layer in manifest["layers"]] == [mt.OCI_LAYER_TAR_GZIP]  # exactly one
    assert manifest["config"]["mediaType"] == mt.OCI_CONFIG


def test_oci_manifest_is_what_wasme_pushed(registry: RegistryServer, unique_repo: str) -> None:
    ref = f"{registry.host}/{unique_repo}:v1"
    Store().put(ref, wasm_module("oci-shape"), RUNTIME_CONFIG)
    assert run_cli("push", ref, "--variant", "oci").returncode == 0
    manifest, _ = fetch_manifest(registry, unique_repo, "v1")
    assert manifest["config"]["mediaType"] == mt.WASM_CONFIG
    assert [(layer["mediaType"], layer["annotations"][mt.TITLE]) for layer in manifest["layers"]] == [
        (mt.WASM_CONFIG, "runtime-config.json"), (mt.WASM_CONTENT_LAYER, "filter.wasm")]  # Istio: exactly two
    assert manifest["layers"][0]["digest"] == manifest["config"]["digest"]
    assert manifest["annotations"] == {mt.ABI_VERSION: "v0.2.1", mt.RUNTIME_TYPE: "envoy_proxy"}


def test_pull_by_digest_and_unknown_tag(registry: RegistryServer, unique_repo: str) -> None:
    ref = f"{registry.host}/{unique_repo}:v1"
    Store().put(ref, wasm_module("by-digest"), RUNTIME_CONFIG)
    digest = pushed_digest(run_cli("push", ref).stdout, f"{registry.host}/{unique_repo}")
    by_digest = run_cli("pull", f"{registry.host}/{unique_repo}@{digest}")
    assert by_digest.returncode == 0, by_digest.stderr

    missing = run_cli("pull", f"{registry.host}/{unique_repo}:no-such-tag")
    assert missing.returncode == 3
    assert "not found in the registry (404 MANIFEST_UNKNOWN" in missing.stderr
    assert "Traceback" not in missing.stderr
    unknown_repo = run_cli("pull", f"{registry.host}/{unique_repo}-nothing:v1")
    assert unknown_repo.returncode == 3
    assert "404" in unknown_repo.stderr


def test_cross_repository_mount(registry: RegistryServer, unique_repo: str) -> None:
    source, target = f"{registry.host}/{unique_repo}-a:v1", f"{registry.host}/{unique_repo}-b:v1"
    Store().put(source, wasm_module("mount"), RUNTIME_CONFIG)
    assert run_cli("push", source).returncode == 0
    Store().remove(source)
    assert run_cli("pull", source).returncode == 0
    Store().tag(source, target)
    result = run_cli("push", target)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(f"mounted from {unique_repo}-a") == 2  # layer and config
    assert "0 blobs sent" in result.stderr


@pytest.mark.docker
def test_docker_pulls_the_compat_image(registry: RegistryServer, unique_repo: str, docker_client: Any) -> None:
    module = wasm_module("docker-pull", 1000)
    ref = f"{registry.host}/{unique_repo}:v1"
    Store().put(ref, module, RUNTIME_CONFIG)
    assert run_cli("push", ref).returncode == 0
    image = docker_client.images.pull(f"{registry.host}/{unique_repo}", tag="v1")
    container = docker_client.containers.create(image.id, command=["/plugin.wasm"])
    try:
        chunks, _ = container.get_archive("/plugin.wasm")
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
            member = tar.extractfile("plugin.wasm")
            assert member is not None and member.read() == module
        chunks, _ = container.get_archive("/runtime-config.json")
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
            member = tar.extractfile("runtime-config.json")
            assert member is not None and json.loads(member.read()) == RUNTIME_CONFIG
    finally:
        container.remove(force=True)
        docker_client.images.remove(image.id, force=True)


@pytest.mark.docker
def test_pull_an_image_built_and_pushed_by_docker(registry: RegistryServer, unique_repo: str, docker_client: Any,
                                                  tmp_path: Path) -> None:
    """The spec-compat recipe (`FROM scratch`, COPY plugin.wasm): docker's own manifest and layer."""
    module = wasm_module("docker-built", 500)
    context = tmp_path / "context"
    context.mkdir()
    (context / "plugin.wasm").write_bytes(module)
    (context / "runtime-config.json").write_text(json.dumps(RUNTIME_CONFIG))
    (context / "Dockerfile").write_text("FROM scratch\nCOPY runtime-config.json plugin.wasm ./\n")
    name = f"{registry.host}/{unique_repo}"
    image, _ = docker_client.images.build(path=str(context), tag=f"{name}:v1", rm=True)
    try:
        for line in docker_client.images.push(name, tag="v1", stream=True, decode=True):
            assert "error" not in line, line
    finally:
        docker_client.images.remove(image.id, force=True)
    _, content_type = fetch_manifest(registry, unique_repo, "v1")
    assert content_type == mt.DOCKER_MANIFEST
    result = run_cli("pull", f"{name}:v1")
    assert result.returncode == 0, result.stderr
    stored = Store().get(f"{name}:v1")
    assert stored.read_module() == module
    assert dict(stored.runtime_config) == RUNTIME_CONFIG
    # pushed on from the store, it is still docker's image: same manifest, same digest
    elsewhere = f"{registry.host}/{unique_repo}-copy:v1"
    assert run_cli("tag", f"{name}:v1", elsewhere).returncode == 0
    pushed = run_cli("push", elsewhere)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed_digest(pushed.stdout, elsewhere.rsplit(":", 1)[0]) == pushed_digest(result.stdout, name)
    assert fetch_manifest(registry, f"{unique_repo}-copy", "v1")[1] == mt.DOCKER_MANIFEST


@pytest.mark.parametrize("variant", ["compat", "oci"])
def test_an_image_packed_by_another_tool_keeps_its_digest_when_pushed_on(variant: str, registry: RegistryServer,
                                                                         unique_repo: str) -> None:
    """Pull keeps the image as the registry sent it (manifest and blobs, verified), so pushing it to
    another repository sends those bytes rather than wasmbuild's own packing of the module."""
    import gzip

    from wasmbuild.oci.auth import repository_scope
    from wasmbuild.oci.image import Blob, canonical_json, pack
    from wasmbuild.oci.registry import Registry
    from wasmbuild.store import IMAGE_FILE

    module = wasm_module(f"packed-elsewhere-{variant}", 50_000)
    ours = pack(module, RUNTIME_CONFIG, variant)
    layers = list(ours.layers)
    if variant == "compat":  # the same files, compressed at another level (as other tools do)
        tar = gzip.decompress(layers[0].data)
        layers[0] = Blob(mt.OCI_LAYER_TAR_GZIP, gzip.compress(tar, compresslevel=9, mtime=0))
    body = json.loads(ours.manifest)
    body["layers"] = [blob.descriptor() for blob in layers]
    body["annotations"] = {**body.get("annotations", {}), "org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
    manifest = canonical_json(body)
    scopes = (repository_scope(unique_repo, "pull,push"),)
    with Registry(registry.host) as client:
        for blob in (*layers, ours.config):
            client.upload_blob(unique_repo, blob.digest, blob.data, scopes)
        client.put_manifest(unique_repo, "v1", manifest, mt.OCI_MANIFEST)
    source = f"{registry.host}/{unique_repo}:v1"
    pulled = run_cli("pull", source)
    assert pulled.returncode == 0, pulled.stderr
    digest = pushed_digest(pulled.stdout, f"{registry.host}/{unique_repo}")
    assert digest != ours.digest
    entry = Store().get(source)
    if variant == "oci":  # the module layer is filter.wasm itself, not a second copy
        assert (entry.directory / IMAGE_FILE).stat().st_size < len(module)

    target = f"{registry.host}/{unique_repo}-copy:v1"
    Store().tag(source, target)
    pushed = run_cli("push", target, "--variant", variant)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed_digest(pushed.stdout, target.rsplit(":", 1)[0]) == digest
    assert "mounted from" in pushed.stderr  # the same registry: blobs mount rather than upload again
    other = run_cli("push", target, "--variant", "oci" if variant == "compat" else "compat")
    assert other.returncode == 0, other.stderr  # the other variant is wasmbuild's own packing
    assert pushed_digest(other.stdout, target.rsplit(":", 1)[0]) == pack(
        module, RUNTIME_CONFIG, "oci" if variant == "compat" else "compat").digest


def test_pull_through_an_image_index(registry: RegistryServer, unique_repo: str) -> None:
    """An index (as buildx writes, with an attestation manifest beside the image) resolves to the image."""
    from wasmbuild.oci.auth import repository_scope
    from wasmbuild.oci.image import canonical_json, pack
    from wasmbuild.oci.registry import Registry

    module = wasm_module("behind-an-index")
    image = pack(module, RUNTIME_CONFIG, "compat")
    attestation = pack(b"\0asm\x01\0\0\0", None, "oci")
    scopes = (repository_scope(unique_repo, "pull,push"),)
    with Registry(registry.host) as client:
        for packed, tag in ((image, "image"), (attestation, "attestation")):
            for blob in packed.blobs():
                client.upload_blob(unique_repo, blob.digest, blob.data, scopes)
            client.put_manifest(unique_repo, tag, packed.manifest, packed.media_type)
        index = canonical_json({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [
            {"mediaType": mt.OCI_MANIFEST, "digest": attestation.digest, "size": len(attestation.manifest),
             "platform": {"os": "unknown", "architecture": "unknown"}},
            {"mediaType": mt.OCI_MANIFEST, "digest": image.digest, "size": len(image.manifest),
             "platform": {"os": "linux", "architecture": "amd64"}}]})
        client.put_manifest(unique_repo, "v1", index, mt.OCI_INDEX)
    result = run_cli("pull", f"{registry.host}/{unique_repo}:v1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(image.digest)
    assert Store().get(f"{registry.host}/{unique_repo}:v1").read_module() == module


def test_chunked_upload_of_a_large_blob(registry: RegistryServer, unique_repo: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Blobs above the threshold go up in PATCHed chunks (the threshold is lowered to exercise it)."""
    from wasmbuild import refs
    from wasmbuild.oci import registry as registry_module
    from wasmbuild.oci.pull import pull
    from wasmbuild.oci.push import push
    from wasmbuild.oci.registry import Registry

    monkeypatch.setattr(registry_module, "CHUNKED_THRESHOLD", 10_000)
    monkeypatch.setattr(registry_module, "CHUNK_SIZE", 4096)
    module = wasm_module("chunked", 50_000)
    ref = refs.parse(f"{registry.host}/{unique_repo}:v1")
    with Registry(registry.host) as client:
        pushed = push(client, ref, module, RUNTIME_CONFIG, "oci")
        pulled = pull(client, ref, Store())
    assert pushed.digest == pulled.digest
    assert pulled.entry.read_module() == module
