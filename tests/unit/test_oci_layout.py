"""The packed image kept with a store entry (wasmbuild.oci.layout): what push sends instead of packing
again, byte for byte what packing gives, and never used when any of it is missing or damaged."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from wasmbuild.oci import layout
from wasmbuild.oci.image import pack
from wasmbuild.oci.layer import read_tar, write_tar
from wasmbuild.store import IMAGE_FILE, Store, StoreEntry

MODULE = b"\0asm\x01\0\0\0" + bytes(range(256)) * 64
CONFIG = {"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": ["my_root"]}}
REF = "localhost:5000/f/kept:v1"


def stored(tmp_path: Path, ref: str = REF) -> tuple[Store, StoreEntry]:
    store = Store(tmp_path / "store")
    return store, store.put(ref, MODULE, CONFIG, image=layout.packed(MODULE, CONFIG))


def rewrite(entry: StoreEntry, change: str) -> None:
    """Damage image.tar the way a crash or a disk might."""
    path = entry.directory / IMAGE_FILE
    files = read_tar(path.read_bytes())
    assert files is not None
    image = pack(MODULE, CONFIG, "compat")
    layer = layout.blob_path(image.layers[0].digest)
    if change == "flipped byte":
        data = bytearray(files[layer])
        data[len(data) // 2] ^= 0x01
        files[layer] = bytes(data)
    elif change == "truncated blob":
        files[layer] = files[layer][:-10]
    elif change == "missing blob":
        del files[layer]
    elif change == "index garbled":
        files["index.json"] = b'{"manifests": ['
    elif change == "manifest missing":
        del files[layout.blob_path(image.digest)]
    if change == "truncated file":
        path.write_bytes(path.read_bytes()[:1100])  # inside the second member
    elif change == "empty file":
        path.write_bytes(b"")
    else:
        path.write_bytes(write_tar(files))


def test_the_kept_image_is_the_packed_image(tmp_path: Path) -> None:
    _, entry = stored(tmp_path)
    kept = layout.read(entry, "compat")
    expected = pack(MODULE, CONFIG, "compat")
    assert kept is not None
    assert kept.digest == expected.digest and kept.manifest == expected.manifest
    assert [(b.media_type, b.data, b.digest) for b in kept.blobs()] == [
        (b.media_type, b.data, b.digest) for b in expected.blobs()]
    assert kept.media_type == expected.media_type
    assert layout.read(entry, "oci") is None  # only compat is packed ahead (oci packing costs nothing)


def test_the_kept_image_is_an_oci_layout_in_a_tar(tmp_path: Path) -> None:
    _, entry = stored(tmp_path)
    with tarfile.open(entry.directory / IMAGE_FILE) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    (described,) = json.loads(files["index.json"])["manifests"]
    assert described["annotations"] == {"org.opencontainers.image.ref.name": "compat"}
    manifest = files[layout.blob_path(described["digest"])]
    assert len(manifest) == described["size"]
    for blob in (json.loads(manifest)["config"], *json.loads(manifest)["layers"]):
        assert len(files[layout.blob_path(blob["digest"])]) == blob["size"]


def test_push_uses_the_kept_image_without_reading_the_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, entry = stored(tmp_path)
    monkeypatch.setattr(StoreEntry, "read_module", lambda self: pytest.fail("the module was read to pack it again"))
    assert layout.image_of(store, entry, "compat").digest == pack(MODULE, CONFIG, "compat").digest


DAMAGE = ["flipped byte", "truncated blob", "missing blob", "index garbled", "manifest missing", "truncated file",
          "empty file"]


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_kept_image_is_packed_again_never_pushed(damage: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    store, entry = stored(tmp_path)
    expected = pack(MODULE, CONFIG, "compat")
    rewrite(entry, damage)
    with pytest.raises(layout.Damaged):
        layout.read(entry, "compat")

    image = layout.image_of(store, entry, "compat")
    assert image.manifest == expected.manifest
    assert [b.data for b in image.blobs()] == [b.data for b in expected.blobs()]
    assert "damaged" in capsys.readouterr().err
    # and the entry keeps an intact image again
    again = layout.read(entry, "compat")
    assert again is not None and again.digest == expected.digest


def test_an_entry_without_a_kept_image_gets_one_on_first_push(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    entry = store.put(REF, MODULE, CONFIG)  # as stored by an older wasmbuild
    assert layout.read(entry, "compat") is None
    assert layout.image_of(store, entry, "compat").digest == pack(MODULE, CONFIG, "compat").digest
    kept = layout.read(entry, "compat")
    assert kept is not None and kept.digest == pack(MODULE, CONFIG, "compat").digest
    assert store.get(REF) == entry  # the entry itself is untouched
    assert not [p for p in store.root.iterdir() if p.name.startswith((".tmp-", ".trash-"))]


def test_an_image_is_not_kept_for_an_entry_that_changed_meanwhile(tmp_path: Path) -> None:
    store, entry = stored(tmp_path)
    store.put(REF, MODULE + b"\0", CONFIG)  # another build replaced it after push read the entry
    assert not store.keep_image(entry, layout.packed(MODULE, CONFIG))
    assert layout.read(store.get(REF), "compat") is None


def test_tag_copies_the_kept_image_and_extra_files_leave_it_out(tmp_path: Path) -> None:
    store, entry = stored(tmp_path)
    assert IMAGE_FILE not in entry.extra_files()
    tagged = store.tag(REF, "localhost:5000/f/other:v2")
    kept = layout.read(tagged, "compat")
    assert kept is not None and kept.digest == pack(MODULE, CONFIG, "compat").digest


def test_a_module_layer_is_not_kept_twice(tmp_path: Path) -> None:
    """The oci variant's layer is the module: image.tar leaves it out, and read takes filter.wasm."""
    store = Store(tmp_path / "store")
    image = pack(MODULE, CONFIG, "oci")
    entry = store.put(REF, MODULE, CONFIG, image=layout.archive([image], MODULE))
    assert (entry.directory / IMAGE_FILE).stat().st_size < len(MODULE)
    kept = layout.read(entry, "oci")
    assert kept is not None and kept.manifest == image.manifest and kept.layers[1].data == MODULE
