"""Files users name on the command line: errors name their file (never our temporary one), a
directory where a file goes and a file where a directory goes are usage errors, and nothing is
left half-written."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.fixtures.common import run_cli
from tests.fixtures.deploy import REF, StoredModule
from tests.fixtures.scaffold import locked


def assert_one_error(stderr: str, *words: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def test_deploy_output_that_is_a_directory_is_a_usage_error(stored_module: StoredModule, tmp_path: Path) -> None:
    result = run_cli("deploy", "envoy", REF, "--root-id", "x", "--output", str(tmp_path))
    assert result.returncode == 2
    assert_one_error(result.stderr, str(tmp_path), "is a directory")
    assert list(tmp_path.iterdir()) == []


def test_deploy_output_under_a_file_names_that_file(stored_module: StoredModule, tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep\n")
    result = run_cli("deploy", "envoy", REF, "--root-id", "x", "--output", str(blocker / "envoy.yaml"))
    assert result.returncode == 2
    assert_one_error(result.stderr, f"{blocker} is a file, not a directory")
    assert blocker.read_text() == "keep\n"


def test_deploy_output_in_an_unwritable_directory_names_the_file_not_a_temporary(
        stored_module: StoredModule, unwritable_dir: Path) -> None:
    target = unwritable_dir / "envoy.yaml"
    result = run_cli("deploy", "envoy", REF, "--root-id", "x", "--output", str(target))
    assert result.returncode == 8
    error = assert_one_error(result.stderr, f"cannot write {target}:")
    assert ".tmp" not in error
    assert list(unwritable_dir.iterdir()) == []


def test_deploy_output_in_a_missing_directory_says_which(stored_module: StoredModule, tmp_path: Path) -> None:
    result = run_cli("deploy", "envoy", REF, "--root-id", "x", "--output", str(tmp_path / "no" / "envoy.yaml"))
    assert result.returncode == 3
    assert_one_error(result.stderr, f"its directory {tmp_path / 'no'} does not exist")


def test_logout_with_an_unwritable_docker_config_names_the_config(tmp_path: Path) -> None:
    # the config file itself is writable; its directory is not: the atomic rename cannot happen
    config = tmp_path / "docker"
    config.mkdir()
    auth = base64.b64encode(b"me:secret").decode()
    (config / "config.json").write_text(json.dumps({"auths": {"localhost:5000": {"auth": auth}}}))
    with locked(config):
        result = run_cli("logout", "localhost:5000", env={"DOCKER_CONFIG": str(config)})
    assert result.returncode == 8, result.stderr
    error = assert_one_error(result.stderr, f"cannot write {config / 'config.json'}:")
    assert ".config.json." not in error
    assert json.loads((config / "config.json").read_text())["auths"]  # untouched
    assert sorted(p.name for p in config.iterdir()) == ["config.json"]


def test_new_force_into_an_unwritable_directory_names_the_project_file(unwritable_dir: Path) -> None:
    result = run_cli("new", str(unwritable_dir), "--lang", "rust", "--force", input="")
    assert result.returncode == 2
    error = assert_one_error(result.stderr, f"cannot write {unwritable_dir}/")
    assert "wasmbuild-new" not in error
    assert list(unwritable_dir.iterdir()) == []


def test_build_refuses_an_empty_tag_or_output(tmp_path: Path) -> None:
    # `-t "$TAG"` with TAG unset must not quietly fall back to the default reference
    for option in ("-t", "-o"):
        result = run_cli("build", str(tmp_path), option, "")
        assert result.returncode == 2
        assert_one_error(result.stderr, "is empty")
