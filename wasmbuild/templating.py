"""Render template layers into a directory, copier's way, and move the result into place atomically.

Rules (the same for every template, so a template author never has to guess):
- Every path segment is rendered with Jinja2 when it holds `{{` or `{%`; a segment that renders
  empty drops the file (how a template leaves a file out for some answers).
- Only `*.jinja` files are rendered, and lose the suffix; every other file is copied byte for
  byte. Both keep their mode, so shell scripts stay executable.
- Undefined variables are errors (StrictUndefined): a typo in a template fails the golden tests
  instead of rendering an empty string into somebody's project.
- Layers are applied in order; a later layer's file replaces an earlier one at the same path.
- Everything is written to a temporary directory next to the destination first. A new project
  directory is then renamed into place in one step; with --force into an existing directory each
  file is replaced atomically and files the template does not write are left alone.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from wasmbuild.errors import UsageError, WasmbuildError, from_os_error

TEMPLATE_SUFFIX = ".jinja"
# Litter that must never travel from a template or an SDK directory into a user's project.
IGNORED_NAMES = frozenset({"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".nox",
                           "node_modules", "target", ".DS_Store"})


@dataclass(frozen=True)
class OutputFile:
    """One file of the project to be: its relative path, its mode and where its bytes come from."""

    path: PurePosixPath
    mode: int
    data: bytes | None = None  # rendered text (UTF-8)
    source: Path | None = None  # copied byte for byte


@dataclass(frozen=True)
class Layer:
    """A template directory; `name` prefixes its templates for `{% include "name/file" %}`."""

    name: str
    directory: Path


def _ignored(name: str) -> bool:
    return name in IGNORED_NAMES or name.startswith("bazel-") or name.endswith((".pyc", ".pyo", "~"))


def walk(directory: Path) -> Iterable[PurePosixPath]:
    """Relative paths of the files under `directory`, sorted, without litter."""
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        base = PurePosixPath(Path(root).relative_to(directory).as_posix())
        for name in sorted(files):
            if not _ignored(name):
                yield base / name


def copy_tree(source: Path, target: PurePosixPath) -> list[OutputFile]:
    """Files that copy `source` to `target` inside the project (the vendored SDKs)."""
    files = []
    for rel in walk(source):
        path = source / rel
        files.append(OutputFile(target / rel, stat.S_IMODE(path.stat().st_mode), source=path))
    return files


def render_layers(layers: Sequence[Layer], context: Mapping[str, Any]) -> list[OutputFile]:
    """Render every layer with `context`; later layers win on equal paths. Pure: writes nothing."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PrefixLoader({layer.name: jinja2.FileSystemLoader(str(layer.directory)) for layer in layers}),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
    )
    out: dict[PurePosixPath, OutputFile] = {}
    for layer in layers:
        for rel in walk(layer.directory):
            parts = []
            for segment in rel.parts:
                if "{{" in segment or "{%" in segment:
                    segment = _render(env.from_string(segment), context, f"{layer.name}/{rel}")
                parts.append(segment)
            if not all(parts):
                continue  # a segment rendered empty: the template leaves this file out
            source = layer.directory / rel
            mode = stat.S_IMODE(source.stat().st_mode)
            if parts[-1].endswith(TEMPLATE_SUFFIX):
                parts[-1] = parts[-1][: -len(TEMPLATE_SUFFIX)]
                template = env.get_template(f"{layer.name}/{rel.as_posix()}")
                text = _render(template, context, f"{layer.name}/{rel}")
                output = OutputFile(PurePosixPath(*parts), mode, data=text.encode("utf-8"))
            else:
                output = OutputFile(PurePosixPath(*parts), mode, source=source)
            out[output.path] = output
    return [out[path] for path in sorted(out)]


def _render(template: Any, context: Mapping[str, Any], where: str) -> str:
    import jinja2

    try:
        text: str = template.render(context)
    except jinja2.TemplateError as error:
        # Our templates are part of wasmbuild: a failure here is a bug, reported with its file.
        raise RuntimeError(f"template {where}: {error}") from error
    return text


def check_destination(destination: Path, force: bool) -> None:
    """Refuse before anything is rendered: a file in the way, or a non-empty directory without --force."""
    if destination.is_symlink() and not destination.exists():
        raise UsageError(f"{destination} is a dangling symbolic link", "remove it or choose another PATH")
    if destination.exists():
        if not destination.is_dir():
            raise UsageError(f"{destination} exists and is not a directory", "choose another PATH")
        try:
            occupied = any(destination.iterdir())
        except OSError as error:
            raise UsageError(f"cannot read {destination}: {error.strerror}", "choose another PATH") from None
        if not force and occupied:
            raise UsageError(f"{destination} exists and is not empty",
                             "choose a new PATH, or pass --force to write the template's files into it "
                             "(files it does not write are kept)")
        return
    for parent in destination.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"cannot create {destination}: {parent} is not a directory", "choose another PATH")
            return


def _conflicts(files: Sequence[OutputFile], destination: Path) -> None:
    """With --force, a directory where we write a file (or a file where we need a directory) stops us early."""
    for output in files:
        target = destination.joinpath(*output.path.parts)
        if target.is_dir() and not target.is_symlink():
            raise UsageError(f"{target} is a directory, but the template writes a file there",
                             "move it away, or choose another PATH")
        for parent in target.parents:
            if parent == destination:
                break
            if parent.is_symlink():
                # Writing through it could land outside the project: never follow it.
                raise UsageError(f"{parent} is a symbolic link, but the template writes files inside it",
                                 "replace it with a directory, or choose another PATH")
            if parent.exists() and not parent.is_dir():
                raise UsageError(f"{parent} is not a directory, but the template writes files inside it",
                                 "move it away, or choose another PATH")


def _anchor(destination: Path) -> Path:
    """The nearest existing directory at or above the destination's parent (the temp dir goes there)."""
    for candidate in (destination.parent, *destination.parent.parents):
        if candidate.is_dir():
            return candidate
    raise UsageError(f"cannot create {destination}: no existing parent directory")  # pragma: no cover


def _stage(files: Sequence[OutputFile], stage: Path) -> None:
    for output in files:
        target = stage.joinpath(*output.path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if output.data is not None:
            with open(target, "wb") as handle:
                handle.write(output.data)
        else:
            assert output.source is not None
            shutil.copyfile(output.source, target)
        os.chmod(target, output.mode)


def write_tree(files: Sequence[OutputFile], destination: Path, force: bool = False) -> None:
    """Write `files` under `destination` all at once (new directory) or file by file (--force)."""
    check_destination(destination, force)
    existing = destination.is_dir()
    if existing:
        _conflicts(files, destination)
    anchor = _anchor(destination)
    try:
        temp = Path(tempfile.mkdtemp(prefix=f".{destination.name or 'project'}.", suffix=".wasmbuild-new",
                                     dir=anchor))
    except OSError as error:
        raise UsageError(f"cannot write to {anchor}: {error.strerror}",
                         "choose a PATH in a directory you can write to") from None
    stage = temp / "project"
    try:
        stage.mkdir()
        _stage(files, stage)
        if not existing:
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.rename(stage, destination)
        else:
            for output in files:
                target = destination.joinpath(*output.path.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(stage.joinpath(*output.path.parts), target)
    except OSError as error:
        raise _os_error(error, destination, stage) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _user_path(name: object, destination: Path, stage: Path) -> Path:
    """The path the user knows for a file an OSError names: our staging copy maps to its place."""
    path = Path(os.fsdecode(name)) if isinstance(name, (str, bytes)) else destination
    try:
        return destination / path.relative_to(stage)
    except ValueError:
        return path


def _os_error(error: OSError, destination: Path, stage: Path) -> WasmbuildError:
    import errno

    # a rename names (source, target): the target is the one in the user's tree
    where = _user_path(error.filename2 if error.filename2 is not None else error.filename, destination, stage)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UsageError(f"cannot write {where}: {error.strerror}", "choose a PATH in a directory you can write to")
    return from_os_error(OSError(error.errno, error.strerror), f"writing {where}")
