"""The pre-commit hook, for real: `pre-commit try-repo` against a fresh git clone of this repository
installs it with pip into a new virtualenv and runs `wasmbuild check` on the files it is given.

Only localhost: pip gets PIP_NO_INDEX and a wheelhouse repacked from the installed distributions
(tests/fixtures/wheelhouse.py), and the machine's pip configuration is switched off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import wheelhouse
from tests.fixtures.common import REPO
from tests.fixtures.wasm import filter_module

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".nox", ".venv", ".mypy_cache", ".pytest_cache",
                                 ".ruff_cache", "*.egg-info", "build", "dist")


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=wasmbuild tests", "-c", "user.email=tests@localhost",
                    "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True, capture_output=True)


def clone_of_this_checkout(dest: Path) -> Path:
    """The working tree as it is (committed or not) in a new git repository, like a fresh clone."""
    if (REPO / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=REPO, check=True, capture_output=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            source = REPO / name
            if source.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / name)
    else:  # an sdist: no git metadata
        shutil.copytree(REPO, dest, ignore=IGNORED, dirs_exist_ok=True)
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "snapshot", cwd=dest)
    return dest


def offline_env(wheels: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUALENV_", "PRE_COMMIT"))}
    env.update({
        "PRE_COMMIT_HOME": str(home),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "NO_COLOR": "1",
    })
    return env


@pytest.mark.slow
def test_pre_commit_try_repo_checks_wasm_files_offline(tmp_path: Path) -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    wheels = tmp_path / "wheels"
    wheelhouse.build([*pyproject["build-system"]["requires"], *pyproject["project"]["dependencies"]], wheels)
    repo = clone_of_this_checkout(tmp_path / "wasmbuild")
    assert (repo / ".pre-commit-hooks.yaml").is_file()

    project = tmp_path / "filter"
    project.mkdir()
    (project / "good.wasm").write_bytes(filter_module("0.2.1"))
    (project / "bad.wasm").write_bytes(filter_module("0.2.1", allocator=None))
    (project / "notes.txt").write_text("not a module\n")
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)

    env = offline_env(wheels, tmp_path / "pre-commit-home")

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repo), "wasmbuild-check",
                               "--verbose", "--files", *files], cwd=project, env=env, capture_output=True,
                              text=True, timeout=900)

    passed = try_repo("good.wasm", "notes.txt")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "wasmbuild check (proxy-wasm ABI)" in passed.stdout and "Passed" in passed.stdout
    assert "good.wasm: ok (ABI 0.2.1)" in passed.stdout
    assert "notes.txt" not in passed.stdout  # only .wasm files reach the hook

    failed = try_repo("good.wasm", "bad.wasm")
    assert failed.returncode == 1
    assert "Failed" in failed.stdout
    assert "bad.wasm: error [missing-allocator] malloc:" in failed.stdout
    assert "Wasm module is missing malloc function." in failed.stdout
