"""A project's sources: which files count (build outputs and dependency trees do not), their digest
for the build key, and a mirror into the host backend's scratch copy.

On the no-op build's path, so nothing heavy at import: shutil only where files are copied.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath

# Never copied into the scratch tree nor hashed into the build key: build outputs, dependency
# trees and VCS data. (The configured [build] output's directory is excluded too: output_excludes.)
EXCLUDED_NAMES = frozenset({"build", "node_modules", "target", ".git", ".hg", ".svn", "__pycache__",
                            ".nox", ".venv", ".tox", ".pytest_cache", ".mypy_cache", ".ruff_cache",
                            ".wasmbuild", ".cache", ".idea", ".vscode"})
EXCLUDED_PREFIXES = ("bazel-",)


def excluded(name: str, extra: frozenset[str] = frozenset()) -> bool:
    return name in EXCLUDED_NAMES or name in extra or name.startswith(EXCLUDED_PREFIXES)


def output_excludes(output: str) -> frozenset[str]:
    """The top-level name holding the configured output (e.g. `dist` for dist/filter.wasm)."""
    first = PurePosixPath(output).parts[0] if output else ""
    return frozenset({first}) if first else frozenset()


def walk(directory: Path, extra: frozenset[str] = frozenset()) -> list[str]:
    """Relative POSIX paths of the project's files and symlinks, sorted.

    The fixed exclusions (node_modules, target, bazel-* ...) apply at every level; `extra` (the
    output directory) only at the top. Symlinked directories are listed, not followed."""
    found: list[str] = []
    root = str(directory)
    for dirpath, dirnames, filenames in os.walk(root):
        top = dirpath == root
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        descend: list[str] = []
        for name in sorted(dirnames):
            if excluded(name, extra if top else frozenset()):
                continue
            if os.path.islink(os.path.join(dirpath, name)):
                found.append(prefix + name)
            else:
                descend.append(name)
        dirnames[:] = descend
        found += [prefix + name for name in filenames if not excluded(name, extra if top else frozenset())]
    return sorted(found)


def digest(directory: Path, files: list[str]) -> str:
    """sha256 over each file's path, kind, exec bit and content (symlinks: their target text)."""
    total = hashlib.sha256()
    for rel in files:
        path = directory / rel
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            total.update(f"L\0{rel}\0{os.readlink(path)}\0".encode())
            continue
        data = path.read_bytes()
        total.update(f"F\0{rel}\0{int(bool(st.st_mode & 0o111))}\0{len(data)}\0".encode())
        total.update(data)
    return total.hexdigest()


def mirror(source: Path, target: Path, files: list[str], keep: frozenset[str]) -> None:
    """Make `target` hold exactly `files` from `source` (changed ones copied with their mtime),
    leaving the names in `keep` (node_modules, bazel-*, build outputs) alone at the top level."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = set(files)
    for rel in files:
        src, dst = source / rel, target / rel
        src_stat = os.lstat(src)
        try:
            dst_stat: os.stat_result | None = os.lstat(dst)
        except FileNotFoundError:
            dst_stat = None
        if stat.S_ISLNK(src_stat.st_mode):
            link = os.readlink(src)
            if dst_stat is not None and (not stat.S_ISLNK(dst_stat.st_mode) or os.readlink(dst) != link):
                _remove(dst)
                dst_stat = None
            if dst_stat is None:
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(link, dst)
            continue
        if (dst_stat is not None and stat.S_ISREG(dst_stat.st_mode) and dst_stat.st_size == src_stat.st_size
                and int(dst_stat.st_mtime) == int(src_stat.st_mtime)
                and stat.S_IMODE(dst_stat.st_mode) == stat.S_IMODE(src_stat.st_mode)):
            continue
        if dst_stat is not None:
            _remove(dst)
        dst.parent.mkdir(parents=True, exist_ok=True)
        import shutil

        shutil.copy2(src, dst)
    # delete what the project no longer has (files first, then directories left empty of wanted files)
    wanted_dirs = {str(PurePosixPath(rel).parent) for rel in files}
    wanted_dirs |= {str(parent) for rel in files for parent in PurePosixPath(rel).parents}
    for dirpath, dirnames, filenames in os.walk(target):
        rel_dir = os.path.relpath(dirpath, target).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if not (excluded(d) or d in keep)]
            filenames = [f for f in filenames if not (excluded(f) or f in keep)]
        for name in list(dirnames):
            path = Path(dirpath) / name
            if path.is_symlink() and prefix + name not in wanted:
                path.unlink()
                dirnames.remove(name)
            elif not path.is_symlink() and prefix + name not in wanted_dirs:
                _remove(path)
                dirnames.remove(name)
        for name in filenames:
            if prefix + name not in wanted:
                (Path(dirpath) / name).unlink()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    else:
        path.unlink()
