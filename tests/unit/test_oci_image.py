"""Deterministic packing of both image variants, and the compat layer reader's refusals."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import pytest

from wasmbuild.errors import RegistryError
from wasmbuild.oci import layer
from wasmbuild.oci import mediatypes as mt
from wasmbuild.oci.image import canonical_json, pack

MODULE = b"\0asm\x01\0\0\0" + bytes(range(256)) * 8
CONFIG = {"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": ["my_root"]}}


@pytest.mark.parametrize("variant", ["compat", "oci"])
def test_same_input_same_bytes_whatever_the_key_order(variant: str) -> None:
    first = pack(MODULE, CONFIG, variant)
    shuffled = {"config": {"rootIds": ["my_root"]}, "abiVersions": ["v0.2.1"], "type": "envoy_proxy"}
    second = pack(bytes(MODULE), shuffled, variant)
    assert first.manifest == second.manifest
    assert [b.data for b in first.blobs()] == [b.data for b in second.blobs()]
    assert pack(MODULE + b"\0", CONFIG, variant).digest != first.digest


def test_digests_are_pinned() -> None:
    """A change here changes every image digest users have deployed by: make it on purpose only."""
    assert pack(MODULE, CONFIG, "oci").digest == PINNED["oci"]
    assert pack(MODULE, CONFIG, "compat").digest == PINNED["compat"]


PINNED = {
    "oci": "sha256:" + hashlib.sha256(canonical_json({
        "annotations": {mt.ABI_VERSION: "v0.2.1", mt.RUNTIME_TYPE: "envoy_proxy"},
        "config": {"digest": "sha256:" + hashlib.sha256(canonical_json(CONFIG)).hexdigest(),
                   "mediaType": mt.WASM_CONFIG, "size": len(canonical_json(CONFIG))},
        "layers": [
            {"annotations": {mt.TITLE: "runtime-config.json"},
             "digest": "sha256:" + hashlib.sha256(canonical_json(CONFIG)).hexdigest(),
             "mediaType": mt.WASM_CONFIG, "size": len(canonical_json(CONFIG))},
            {"annotations": {mt.TITLE: "filter.wasm"}, "digest": "sha256:" + hashlib.sha256(MODULE).hexdigest(),
             "mediaType": mt.WASM_CONTENT_LAYER, "size": len(MODULE)}],
        "mediaType": mt.OCI_MANIFEST, "schemaVersion": 2})).hexdigest(),
    # the compat digest also depends on zlib's deflate output at level 1 (stable across zlib 1.2/1.3)
    "compat": "sha256:3ca00419274d996d61e9f3f0262e00d4f98bced8048361ac7f2c0f31ce6efcc0",
}


def test_compat_layer_headers_are_fixed() -> None:
    image = pack(MODULE, CONFIG, "compat")
    (only,) = image.layers
    assert only.media_type == mt.OCI_LAYER_TAR_GZIP
    assert only.data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, mtime 0
    raw = gzip.decompress(only.data)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["plugin.wasm", "runtime-config.json"]
        for m in members:
            fields = (m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode, m.type)
            assert fields == (0, 0, 0, "", "", 0o644, tarfile.REGTYPE)
        plugin = tar.extractfile("plugin.wasm")
        assert plugin is not None and plugin.read() == MODULE
    config = json.loads(image.config.data)
    assert config["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    manifest = json.loads(image.manifest)
    assert manifest["annotations"][mt.VARIANT] == "compat"


def test_compat_without_runtime_config_holds_only_the_module() -> None:
    image = pack(MODULE, None, "compat")
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(image.layers[0].data))) as tar:
        assert tar.getnames() == ["plugin.wasm"]
    assert mt.ABI_VERSION not in json.loads(image.manifest)["annotations"]


def test_oci_variant_has_two_layers_and_wasme_annotations() -> None:
    image = pack(MODULE, CONFIG, "oci")
    manifest = json.loads(image.manifest)
    assert manifest["config"]["mediaType"] == mt.WASM_CONFIG
    assert len(manifest["layers"]) == 2
    assert image.layers[1].data == MODULE  # raw, not compressed
    assert len(image.blobs()) == 2  # the config blob is shared by config and layer 0


def _tar(**files: bytes) -> bytes:
    return layer.pack(files).gzipped


def test_unpack_round_trip_and_diff_id() -> None:
    packed = layer.pack({"plugin.wasm": MODULE, "runtime-config.json": b"{}"})
    files = layer.unpack(io.BytesIO(packed.gzipped), "the layer", packed.diff_id)
    assert files == {"plugin.wasm": MODULE, "runtime-config.json": b"{}"}
    with pytest.raises(RegistryError, match="does not match the image config"):
        layer.unpack(io.BytesIO(packed.gzipped), "the layer", "sha256:" + "0" * 64)


def test_unpack_refuses_garbage_and_bombs(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RegistryError, match="not a valid tar\\+gzip layer"):
        layer.unpack(io.BytesIO(b"not gzip at all"), "the layer")
    bomb = layer.pack({"plugin.wasm": b"\0" * 5_000_000}).gzipped
    assert len(bomb) < 50_000
    monkeypatch.setattr(layer, "MAX_MODULE_BYTES", 1_000_000)
    monkeypatch.setattr(layer, "MAX_CONFIG_BYTES", 1000)
    with pytest.raises(RegistryError, match="refused"):
        layer.unpack(io.BytesIO(bomb), "the layer")


def test_our_tar_writer_matches_tarfile_ustar() -> None:
    """The hand-written ustar writer produces what tarfile writes for the same members."""
    files = {"plugin.wasm": MODULE, "runtime-config.json": canonical_json(CONFIG)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode, info.uid, info.gid = len(files[name]), 0, 0o644, 0, 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    assert layer.pack(files).tar == buffer.getvalue()


def test_a_canonical_layer_is_read_without_tarfile(monkeypatch: pytest.MonkeyPatch) -> None:
    """What pack writes is read by slicing (tarfile and gzip cost a pull more than the unpacking)."""
    packed = layer.pack({"plugin.wasm": MODULE, "runtime-config.json": b"{}"})
    monkeypatch.setattr(tarfile, "open", lambda *a, **k: pytest.fail("tarfile was used"))
    assert layer.unpack(io.BytesIO(packed.gzipped), "the layer", packed.diff_id) == {
        "plugin.wasm": MODULE, "runtime-config.json": b"{}"}
    with pytest.raises(RegistryError, match="does not match the image config"):
        layer.unpack(io.BytesIO(packed.gzipped), "the layer", "sha256:" + "0" * 64)
    # the gzip framing may differ (another compressor, level, header): the tar is what must be ours
    assert layer.unpack(io.BytesIO(gzip.compress(packed.tar, compresslevel=9, mtime=5)), "the layer") == {
        "plugin.wasm": MODULE, "runtime-config.json": b"{}"}


def _almost_canonical() -> dict[str, bytes]:
    """Layers one detail away from what pack writes: each must go the general (tarfile) way."""
    tar = layer.pack({"plugin.wasm": MODULE}).tar
    with_mtime = bytearray(tar)
    with_mtime[136:147] = b"%011o" % 1_700_000_000
    with_mtime[148:156] = b"%06o\0 " % (sum(with_mtime[:148]) + 8 * 32 + sum(with_mtime[156:512]))
    return {
        "mtime set": layer.gzip_deterministic(bytes(with_mtime)),
        "data after the end": layer.gzip_deterministic(tar + b"\0" * 10240 + b"x" + b"\0" * 511),
        "two gzip members": layer.gzip_deterministic(tar[:1024]) + layer.gzip_deterministic(tar[1024:]),
    }


@pytest.mark.parametrize("case", sorted(_almost_canonical()))
def test_a_layer_that_is_not_exactly_canonical_goes_through_tarfile(case: str, monkeypatch: pytest.MonkeyPatch
                                                                     ) -> None:
    data = _almost_canonical()[case]
    opened = []
    real_open = tarfile.open

    def spy(*args: object, **kwargs: object) -> tarfile.TarFile:
        opened.append(True)
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tarfile, "open", spy)
    assert layer.unpack(io.BytesIO(data), "the layer") == {"plugin.wasm": MODULE}
    assert opened


def test_the_canonical_reader_leaves_everything_else_to_the_general_path() -> None:
    """Unknown files, no module, garbage and bombs: the general path reads or refuses them, with its messages."""
    assert layer._unpack_canonical(layer.pack({"install.sh": b"#!/bin/sh"}).gzipped) is None
    assert layer._unpack_canonical(layer.pack({"runtime-config.json": b"{}"}).gzipped) is None
    assert layer._unpack_canonical(b"not gzip at all") is None
    assert layer._unpack_canonical(layer.gzip_deterministic(b"\0" * (layer._FAST_PATH_BYTES + 512))) is None


def test_read_tar_takes_only_what_write_tar_writes() -> None:
    files = {"a.json": b"{}", "blobs/sha256/" + "0" * 64: bytes(range(256)) * 3}
    raw = layer.write_tar(files)
    assert layer.read_tar(raw) == files
    negative = bytearray(raw)
    negative[124:136] = b"-0000000001\0"
    assert layer.read_tar(bytes(negative)) is None
    assert layer.read_tar(raw[:700]) is None  # cut inside a member
    gnu = io.BytesIO()
    with tarfile.open(fileobj=gnu, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("a.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    assert layer.read_tar(gnu.getvalue()) is None  # not ustar
