"""The packed image kept with a store entry (wasmbuild.oci.layout): what push sends instead of packing
again, byte for byte what packing gives, and never used when any of it is missing or damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasmbuild.oci import layout
from wasmbuild.oci.image import pack
from wasmbuild.store import IMAGE_DIR, Store, StoreEntry

MODULE = b"\0asm\x01\0\0\0" + bytes(range(256)) * 64
CONFIG = {"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": ["my_root"]}}
REF = "localhost:5000/f/kept:v1"


def stored(tmp_path: Path, ref: str = REF) -> tuple[Store, StoreEntry]:
    store = Store(tmp_path / "store")
    return store, store.put(ref, MODULE, CONFIG, image_files=layout.packed(MODULE, CONFIG))


def layer_path(entry: StoreEntry) -> Path:
    return entry.directory / IMAGE_DIR / layout._blob_path(pack(MODULE, CONFIG, "compat").layers[0].digest)


def test_the_kept_image_is_the_packed_image(tmp_path: Path) -> None:
    _, entry = stored(tmp_path)
    kept = layout.read(entry.directory, "compat")
    expected = pack(MODULE, CONFIG, "compat")
    assert kept is not None
    assert kept.digest == expected.digest and kept.manifest == expected.manifest
    assert [(b.media_type, b.data, b.digest) for b in kept.blobs()] == [
        (b.media_type, b.data, b.digest) for b in expected.blobs()]
    assert kept.media_type == expected.media_type
    assert layout.read(entry.directory, "oci") is None  # only compat is packed ahead (oci packing costs nothing)


def test_the_kept_image_is_an_oci_layout(tmp_path: Path) -> None:
    """What skopeo and other tools read with `oci:<entry>/image:compat`."""
    _, entry = stored(tmp_path)
    root = entry.directory / IMAGE_DIR
    assert json.loads((root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    (described,) = json.loads((root / "index.json").read_text())["manifests"]
    assert described["annotations"] == {"org.opencontainers.image.ref.name": "compat"}
    assert (root / layout._blob_path(described["digest"])).stat().st_size == described["size"]


def test_push_uses_the_kept_image_without_reading_the_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, entry = stored(tmp_path)
    monkeypatch.setattr(StoreEntry, "read_module", lambda self: pytest.fail("the module was read to pack it again"))
    assert layout.image_of(store, entry, "compat").digest == pack(MODULE, CONFIG, "compat").digest


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing", "index garbled", "manifest missing"])
def test_a_damaged_kept_image_is_packed_again_never_pushed(damage: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    store, entry = stored(tmp_path)
    expected = pack(MODULE, CONFIG, "compat")
    root = entry.directory / IMAGE_DIR
    layer = layer_path(entry)
    if damage == "flipped byte":
        data = bytearray(layer.read_bytes())
        data[len(data) // 2] ^= 0x01
        layer.write_bytes(bytes(data))
    elif damage == "truncated":
        layer.write_bytes(layer.read_bytes()[:-10])
    elif damage == "missing":
        layer.unlink()
    elif damage == "index garbled":
        (root / "index.json").write_bytes(b'{"manifests": [')
    else:
        (root / layout._blob_path(expected.digest)).unlink()
    with pytest.raises(layout.Damaged):
        layout.read(entry.directory, "compat")

    image = layout.image_of(store, entry, "compat")
    assert image.manifest == expected.manifest
    assert [b.data for b in image.blobs()] == [b.data for b in expected.blobs()]
    assert "damaged" in capsys.readouterr().err
    # and the entry keeps an intact image again
    again = layout.read(entry.directory, "compat")
    assert again is not None and again.digest == expected.digest


def test_an_entry_without_a_kept_image_gets_one_on_first_push(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    entry = store.put(REF, MODULE, CONFIG)  # as stored by an older wasmbuild
    assert layout.read(entry.directory, "compat") is None
    assert layout.image_of(store, entry, "compat").digest == pack(MODULE, CONFIG, "compat").digest
    kept = layout.read(entry.directory, "compat")
    assert kept is not None and kept.digest == pack(MODULE, CONFIG, "compat").digest
    assert store.get(REF) == entry  # the entry itself is untouched
    assert not [p for p in store.root.iterdir() if p.name.startswith((".tmp-", ".trash-"))]


def test_an_image_is_not_kept_for_an_entry_that_changed_meanwhile(tmp_path: Path) -> None:
    store, entry = stored(tmp_path)
    store.put(REF, MODULE + b"\0", CONFIG)  # another build replaced it after push read the entry
    assert not store.keep_image(entry, layout.packed(MODULE, CONFIG))
    assert layout.read(store.get(REF).directory, "compat") is None


def test_tag_copies_the_kept_image_and_extra_files_leave_it_out(tmp_path: Path) -> None:
    store, entry = stored(tmp_path)
    assert IMAGE_DIR not in entry.extra_files()
    tagged = store.tag(REF, "localhost:5000/f/other:v2")
    kept = layout.read(tagged.directory, "compat")
    assert kept is not None and kept.digest == pack(MODULE, CONFIG, "compat").digest
