"""A pull stores nothing it has not verified: corrupted blobs (damaged in a real registry's storage),
a transfer cut off half-way (real registry behind a proxy that drops the connection), and compat
layers holding anything but plugin.wasm and runtime-config.json are all refused, and the store is
left exactly as it was."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.common import run_cli
from tests.fixtures.oci import CuttingProxy
from tests.fixtures.registry import RegistryServer
from tests.fixtures.wasm import wasm_module
from wasmbuild import runtime_config
from wasmbuild.oci import mediatypes as mt
from wasmbuild.oci.auth import repository_scope
from wasmbuild.oci.image import Blob, canonical_json, pack, sha256_digest
from wasmbuild.oci.layer import gzip_deterministic
from wasmbuild.oci.registry import Registry
from wasmbuild.paths import store_dir
from wasmbuild.store import Store

pytestmark = pytest.mark.registry

OLD_MODULE = wasm_module("the module that was there before")
CONFIG = runtime_config.default(["v0.2.1"], ["root"])


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def push_blobs(registry: RegistryServer, repo: str, manifest: bytes, blobs: list[Blob], tag: str = "v1") -> None:
    """Push an arbitrary image with wasmbuild's registry client (to build images wasmbuild would not)."""
    scopes = (repository_scope(repo, "pull,push"),)
    with Registry(registry.host) as client:
        for blob in blobs:
            client.upload_blob(repo, blob.digest, blob.data, scopes)
        client.put_manifest(repo, tag, manifest, mt.OCI_MANIFEST)


def compat_image_of(tar_bytes: bytes) -> tuple[bytes, list[Blob]]:
    layer = Blob(mt.OCI_LAYER_TAR_GZIP, gzip_deterministic(tar_bytes))
    config = Blob(mt.OCI_CONFIG, canonical_json({"architecture": "amd64", "os": "linux", "config": {},
                                                 "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar_bytes)]}}))
    manifest = canonical_json({"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": config.descriptor(),
                               "layers": [layer.descriptor()]})
    return manifest, [layer, config]


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = 0o644
    return info


GOOD = wasm_module("a good module inside a bad layer")
BAD_LAYERS: dict[str, tuple[bytes, str]] = {
    "parent-path": (tar_of((entry("plugin.wasm"), GOOD), (entry("../escape.wasm"), GOOD)), "outside its root"),
    "absolute-path": (tar_of((entry("/plugin.wasm"), GOOD)), "outside its root"),
    "symlink": (tar_of((entry("plugin.wasm", tarfile.SYMTYPE, "/etc/passwd"), None)), "link"),
    "hardlink": (tar_of((entry("plugin.wasm"), GOOD),
                        (entry("runtime-config.json", tarfile.LNKTYPE, "plugin.wasm"), None)), "link"),
    "device": (tar_of((entry("plugin.wasm"), GOOD), (entry("runtime-config.json", tarfile.CHRTYPE), None)),
               "not a regular file"),
    "fifo": (tar_of((entry("plugin.wasm"), GOOD), (entry("runtime-config.json", tarfile.FIFOTYPE), None)),
             "not a regular file"),
    "extra-file": (tar_of((entry("plugin.wasm"), GOOD), (entry("install.sh"), b"#!/bin/sh\n")), "unexpected file"),
    "subdirectory": (tar_of((entry("etc", tarfile.DIRTYPE), None), (entry("etc/plugin.wasm"), GOOD)), "directory"),
    "duplicate": (tar_of((entry("plugin.wasm"), GOOD), (entry("./plugin.wasm"), OLD_MODULE)), "twice"),
    "no-module": (tar_of((entry("runtime-config.json"), b"{}"),), "holds no plugin.wasm"),
    "not-wasm": (tar_of((entry("plugin.wasm"), b"#!/bin/sh\necho hi\n"),), "not a WebAssembly binary"),
}


@pytest.mark.parametrize("case", sorted(BAD_LAYERS))
def test_bad_compat_layers_are_refused(case: str, registry: RegistryServer, unique_repo: str) -> None:
    tar_bytes, expected = BAD_LAYERS[case]
    manifest, blobs = compat_image_of(tar_bytes)
    push_blobs(registry, unique_repo, manifest, blobs)
    ref = f"{registry.host}/{unique_repo}:v1"
    Store().put(ref, OLD_MODULE, CONFIG)
    before = snapshot(store_dir())

    result = run_cli("pull", ref)
    assert result.returncode == 6, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(store_dir()) == before


def test_a_good_hand_made_compat_layer_with_dot_entries_is_accepted(registry: RegistryServer,
                                                                     unique_repo: str) -> None:
    """What other builders write (`./` prefixes, a `.` directory entry, GNU headers) is fine."""
    tar_bytes = tar_of((entry(".", tarfile.DIRTYPE), None), (entry("./plugin.wasm"), GOOD),
                       (entry("./runtime-config.json"), canonical_json(CONFIG)))
    manifest, blobs = compat_image_of(tar_bytes)
    push_blobs(registry, unique_repo, manifest, blobs)
    ref = f"{registry.host}/{unique_repo}:v1"
    result = run_cli("pull", ref)
    assert result.returncode == 0, result.stderr
    stored = Store().get(ref)
    assert stored.read_module() == GOOD
    assert dict(stored.runtime_config) == CONFIG


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("variant", ["compat", "oci"])
@pytest.mark.parametrize("damage", [_flip_a_byte, _truncate], ids=["flipped-byte", "truncated"])
def test_corrupted_blob_is_refused(variant: str, damage: Callable[[Path], None], registry: RegistryServer,
                                   unique_repo: str) -> None:
    module = wasm_module(f"corrupt-{variant}-{damage.__name__}", 3000)
    ref = f"{registry.host}/{unique_repo}:v1"
    Store().put(ref, module, CONFIG)
    assert run_cli("push", ref, "--variant", variant).returncode == 0
    image = pack(module, CONFIG, variant)
    damage(registry.blob_path(image.layers[-1].digest))  # the module's layer, damaged in the registry's storage
    Store().put(ref, OLD_MODULE, CONFIG)
    before = snapshot(store_dir())

    result = run_cli("pull", ref)
    assert result.returncode == 6, result.stderr
    assert "nothing was stored" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(store_dir()) == before


def test_transfer_cut_off_half_way_leaves_the_store_alone(registry: RegistryServer, unique_repo: str) -> None:
    module = wasm_module("cut-off", 200_000)
    Store().put(f"{registry.host}/{unique_repo}:v1", module, CONFIG)
    assert run_cli("push", f"{registry.host}/{unique_repo}:v1").returncode == 0
    with CuttingProxy(registry.host) as proxy:
        ref = f"{proxy.host}/{unique_repo}:v1"
        Store().put(ref, OLD_MODULE, CONFIG)
        before = snapshot(store_dir())
        result = run_cli("pull", ref)
        assert proxy.cuts >= 1
    assert result.returncode == 6, result.stderr
    assert "broke off" in result.stderr or "ended after" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(store_dir()) == before
    assert Store().get(ref).read_module() == OLD_MODULE


def test_a_damaged_image_kept_in_the_store_is_packed_again_not_pushed(registry: RegistryServer,
                                                                      unique_repo: str) -> None:
    """The store keeps each module's packed compat image (wasmbuild.oci.layout); a blob of it damaged
    on disk is noticed by its digest, and the push sends a freshly packed, correct image."""
    from wasmbuild.oci import layout
    from wasmbuild.oci.layer import read_tar, write_tar
    from wasmbuild.store import IMAGE_FILE

    module = wasm_module("kept-image-damaged", 20_000)
    ref = f"{registry.host}/{unique_repo}:v1"
    stored = Store().put(ref, module, CONFIG, image=layout.packed(module, CONFIG))
    expected = pack(module, CONFIG, "compat")
    files = read_tar((stored.directory / IMAGE_FILE).read_bytes())
    assert files is not None
    name = layout.blob_path(expected.layers[0].digest)
    files[name] = files[name][:100] + bytes([files[name][100] ^ 0xFF]) + files[name][101:]
    (stored.directory / IMAGE_FILE).write_bytes(write_tar(files))

    result = run_cli("push", ref)
    assert result.returncode == 0, result.stderr
    assert "is damaged" in result.stderr and "packing it again" in result.stderr
    assert result.stdout.strip().endswith(expected.digest)
    assert registry.blob_path(expected.layers[0].digest).read_bytes() == expected.layers[0].data
    again = run_cli("push", ref)  # the entry keeps an intact image again
    assert again.returncode == 0 and "is damaged" not in again.stderr
