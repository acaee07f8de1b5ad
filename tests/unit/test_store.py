from __future__ import annotations

import hashlib
import json
import multiprocessing
from pathlib import Path

import pytest

from wasmbuild.errors import NotFoundError
from wasmbuild.store import Store, entry_id

MODULE = b"\0asm\x01\0\0\0" + b"x" * 100


def test_put_writes_wasme_layout(tmp_path: Path) -> None:
    store = Store(tmp_path)
    entry = store.put("localhost:5000/f/add-header:v1", MODULE, {"type": "envoy_proxy", "abiVersions": ["v0.2.1"],
                                                                  "config": {"rootIds": ["r"]}})
    directory = tmp_path / hashlib.md5(b"localhost:5000/f/add-header:v1").hexdigest()
    assert entry.directory == directory
    assert sorted(p.name for p in directory.iterdir()) == [
        "descriptor.json", "filter.wasm", "image_ref", "runtime-config.json"]
    descriptor = json.loads((directory / "descriptor.json").read_text())
    assert descriptor["digest"] == "sha256:" + hashlib.sha256(MODULE).hexdigest()
    assert descriptor["size"] == len(MODULE)
    assert descriptor["mediaType"] == "application/vnd.module.wasm.content.layer.v1+wasm"
    assert (directory / "image_ref").read_text().strip() == "localhost:5000/f/add-header:v1"


def test_ref_without_tag_means_latest(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put("f", MODULE)
    assert store.get("f:latest").ref == "f:latest"
    assert entry_id("f") == entry_id("f:latest")


def test_tag_and_remove(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put("a:1", MODULE)
    store.tag("a:1", "b:2")
    assert [e.ref for e in store.entries()] == ["a:1", "b:2"]
    store.remove("a:1")
    assert [e.ref for e in store.entries()] == ["b:2"]
    with pytest.raises(NotFoundError):
        store.get("a:1")


def test_replacing_an_entry_keeps_one_copy(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put("a:1", MODULE)
    store.put("a:1", MODULE + b"y")
    assert store.get("a:1").size == len(MODULE) + 1
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 1


def test_leftovers_of_a_killed_writer_are_swept_and_never_listed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    (tmp_path / ".tmp-dead").mkdir(parents=True)
    (tmp_path / ".tmp-dead" / "filter.wasm").write_bytes(b"half")
    assert store.entries() == []
    store.put("a:1", MODULE)
    assert not (tmp_path / ".tmp-dead").exists()


def _writer(root: str, index: int) -> None:
    store = Store(Path(root))
    for round_ in range(20):
        store.put(f"f:{index}", MODULE + bytes([index, round_]))


def test_concurrent_writers_leave_a_consistent_store(tmp_path: Path) -> None:
    processes = [multiprocessing.Process(target=_writer, args=(str(tmp_path), i)) for i in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    entries = Store(tmp_path).entries()
    assert sorted(e.ref for e in entries) == [f"f:{i}" for i in range(4)]
    for entry in entries:
        assert hashlib.sha256(entry.read_module()).hexdigest() == entry.sha256
