"""The template engine's rules, on small fixture templates (copier's rules, see wasmbuild.templating)."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

import pytest

from wasmbuild.errors import NotFoundError, UsageError
from wasmbuild.templating import Layer, OutputFile, copy_tree, render_layers, write_tree

CONTEXT = {"name": "add-header", "ident": "add_header", "sdk": "gcore", "language": "assemblyscript"}


def _write(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(mode)


@pytest.fixture
def layers(tmp_path: Path) -> list[Layer]:
    common, lang = tmp_path / "t" / "common", tmp_path / "t" / "lang"
    _write(common / "README.md.jinja", "# {{ name }}\n{% include 'common/_part.txt' %}")
    _write(common / "_part.txt", "shared part for {{ ident }}\n")
    _write(common / "{{ ident }}" / "{{ name }}.txt.jinja", "{{ sdk }}\n")
    _write(common / "{% if sdk == 'solo-io' %}solo.txt{% endif %}", "only for solo-io\n")
    _write(common / "raw.txt", "{{ not_rendered }}\n")
    _write(common / "blob.bin", bytes(range(256)))
    _write(common / "run.sh", "#!/bin/sh\necho hi\n", 0o755)
    _write(common / "override.txt", "from common\n")
    _write(common / "__pycache__" / "x.pyc", b"litter")
    _write(lang / "override.txt.jinja", "from {{ language }}\n")
    return [Layer("common", common), Layer("lang", lang)]


def _by_path(files: list[OutputFile]) -> dict[str, OutputFile]:
    return {str(f.path): f for f in files}


def test_render_rules(layers: list[Layer]) -> None:
    files = _by_path(render_layers(layers, CONTEXT))
    assert sorted(files) == ["README.md", "_part.txt", "add_header/add-header.txt", "blob.bin", "override.txt",
                             "raw.txt", "run.sh"]
    assert files["README.md"].data == b"# add-header\nshared part for add_header\n"
    assert files["add_header/add-header.txt"].data == b"gcore\n"
    assert files["raw.txt"].data is None  # copied, never rendered
    assert files["run.sh"].mode == 0o755
    assert files["override.txt"].data == b"from assemblyscript\n"  # the later layer wins


def test_write_tree_copies_bytes_and_modes(layers: list[Layer], tmp_path: Path) -> None:
    destination = tmp_path / "out" / "project"
    write_tree(render_layers(layers, CONTEXT), destination)
    assert (destination / "raw.txt").read_text() == "{{ not_rendered }}\n"
    assert (destination / "blob.bin").read_bytes() == bytes(range(256))
    assert stat.S_IMODE((destination / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((destination / "README.md").stat().st_mode) == 0o644
    assert not (destination / "solo.txt").exists()
    assert [p.name for p in destination.parent.iterdir()] == ["project"]  # no temp dir left


def test_a_segment_rendering_empty_drops_the_file(layers: list[Layer]) -> None:
    files = _by_path(render_layers(layers, {**CONTEXT, "sdk": "solo-io"}))
    assert files["solo.txt"].source is not None


def test_undefined_variable_is_an_error_naming_the_template(tmp_path: Path) -> None:
    _write(tmp_path / "t" / "bad.txt.jinja", "{{ nmae }}\n")
    with pytest.raises(RuntimeError, match=r"template t/bad.txt.jinja: 'nmae' is undefined"):
        render_layers([Layer("t", tmp_path / "t")], CONTEXT)


def test_a_failure_while_staging_leaves_nothing(tmp_path: Path) -> None:
    files = [OutputFile(PurePosixPath("a.txt"), 0o644, data=b"a"),
             OutputFile(PurePosixPath("b.txt"), 0o644, source=tmp_path / "vanished")]
    with pytest.raises(NotFoundError):
        write_tree(files, tmp_path / "project")
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_files_one_by_one_and_keeps_others(tmp_path: Path) -> None:
    destination = tmp_path / "project"
    _write(destination / "keep.txt", "mine\n")
    _write(destination / "a.txt", "old\n")
    os.symlink("keep.txt", destination / "link.txt")
    files = [OutputFile(PurePosixPath("a.txt"), 0o600, data=b"new\n"),
             OutputFile(PurePosixPath("link.txt"), 0o644, data=b"replaces the link, not its target\n"),
             OutputFile(PurePosixPath("sub/b.txt"), 0o644, data=b"b\n")]
    with pytest.raises(UsageError, match="not empty"):
        write_tree(files, destination)
    write_tree(files, destination, force=True)
    assert (destination / "keep.txt").read_text() == "mine\n"
    assert (destination / "a.txt").read_text() == "new\n"
    assert stat.S_IMODE((destination / "a.txt").stat().st_mode) == 0o600
    assert not (destination / "link.txt").is_symlink()
    assert (destination / "sub" / "b.txt").read_text() == "b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["project"]


def test_copy_tree_skips_build_litter(tmp_path: Path) -> None:
    source = tmp_path / "sdk"
    _write(source / "lib.rs", "// sdk\n")
    _write(source / "tool.sh", "#!/bin/sh\n", 0o755)
    _write(source / "target" / "debug" / "x", "litter\n")
    _write(source / "bazel-out" / "y", "litter\n")
    _write(source / "sub" / "__pycache__" / "z.pyc", b"litter")
    files = copy_tree(source, PurePosixPath("third_party/sdk"))
    assert [(str(f.path), f.mode) for f in files] == [("third_party/sdk/lib.rs", 0o644),
                                                     ("third_party/sdk/tool.sh", 0o755)]


def test_force_never_writes_through_a_symlinked_directory(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    destination = tmp_path / "project"
    destination.mkdir()
    os.symlink(outside, destination / "sub")
    files = [OutputFile(PurePosixPath("a.txt"), 0o644, data=b"a\n"),
             OutputFile(PurePosixPath("sub/b.txt"), 0o644, data=b"b\n")]
    with pytest.raises(UsageError, match="is a symbolic link"):
        write_tree(files, destination, force=True)
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in destination.iterdir()) == ["sub"]
