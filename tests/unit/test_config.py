"""wasmbuild.toml loading: unknown keys rejected, one `wasmbuild.toml: key: message` line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmbuild import config
from wasmbuild.errors import ConfigError, NotFoundError

MINIMAL = '[project]\nname = "add-header"\nlanguage = "rust"\n'


def _project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "wasmbuild.toml").write_text(text)
    return tmp_path


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.load_project(_project(tmp_path, text), environ={})
    assert caught.value.hint
    return caught.value.message.splitlines()


def test_minimal_file_gets_every_default(tmp_path: Path) -> None:
    project = config.load_project(_project(tmp_path, MINIMAL), environ={})
    assert project.directory == tmp_path.resolve()
    assert project.config.project.abi == "0.2.1"
    assert project.config.root_id == "add_header"
    assert project.config.default_ref.endswith("add-header:latest")
    assert project.output_path == tmp_path.resolve() / "build" / "filter.wasm"
    assert project.runtime_config_path.name == "runtime-config.json"


def test_unknown_keys_are_rejected_one_line_each(tmp_path: Path) -> None:
    text = MINIMAL + 'colour = "blue"\n[build]\nspeed = "fast"\n[extras]\nx = 1\n'
    assert sorted(_problems(tmp_path, text)) == [
        "wasmbuild.toml: build.speed: unknown key",
        "wasmbuild.toml: extras: unknown key",
        "wasmbuild.toml: project.colour: unknown key",
    ]


def test_bad_values_name_their_key(tmp_path: Path) -> None:
    text = ('[project]\nname = "Bad Name"\nlanguage = "go"\nabi = "0.3"\n'
            '[build]\noutput = "../outside.wasm"\n[package]\nref = "UPPER/Case:tag"\n')
    problems = _problems(tmp_path, text)
    keys = sorted(line.split(": ")[1] for line in problems)
    assert keys == ["build.output", "package.ref", "project.abi", "project.language", "project.name"]
    assert all(line.startswith("wasmbuild.toml: ") for line in problems)


def test_missing_required_key(tmp_path: Path) -> None:
    assert _problems(tmp_path, '[project]\nname = "x"\n') == [
        "wasmbuild.toml: project.language: required key is missing"]


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^wasmbuild.toml: not valid TOML"):
        config.load_project(_project(tmp_path, "[project\n"), environ={})


def test_precedence_file_then_environment_then_flags(tmp_path: Path) -> None:
    _project(tmp_path, MINIMAL + '[build]\nbackend = "container"\noutput = "out/a.wasm"\n')
    environ = {"WASMBUILD_BUILD_BACKEND": "host", "WASMBUILD_BUILD_OUTPUT": "out/b.wasm", "OTHER": "x"}
    loaded = config.load_project(tmp_path, {"build": {"output": "out/c.wasm", "backend": None}}, environ=environ)
    assert loaded.config.build.backend == "host"
    assert loaded.config.build.output == "out/c.wasm"


def test_environment_values_are_validated_too(tmp_path: Path) -> None:
    _project(tmp_path, MINIMAL)
    with pytest.raises(ConfigError, match=r"wasmbuild\.toml: build\.backend: "):
        config.load_project(tmp_path, environ={"WASMBUILD_BUILD_BACKEND": "cloud"})


def test_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="is not a wasmbuild project"):
        config.load_project(tmp_path, environ={})


def test_a_missing_directory_is_not_found_with_a_hint(tmp_path: Path) -> None:
    from tests.fixtures.common import run_cli

    result = run_cli("build", str(tmp_path / "nowhere"))
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].endswith("nowhere: no such directory") and lines[1].startswith("hint: ")
    assert "wasmbuild new" in lines[1] and "Traceback" not in result.stderr


def test_the_models_accept_exactly_what_new_offers() -> None:
    from typing import get_args

    from wasmbuild import scaffold

    assert get_args(config.Language) == scaffold.LANGUAGES
    assert get_args(config.AbiVersion) == scaffold.ABI_VERSIONS
    assert get_args(config.Platform) == scaffold.PLATFORMS


def test_a_wasmbuild_toml_that_is_not_utf8_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    from tests.fixtures.common import run_cli

    (tmp_path / "wasmbuild.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    result = run_cli("build", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "error: wasmbuild.toml: not UTF-8 text" in result.stderr and "Traceback" not in result.stderr


def test_build_without_a_path_finds_the_project_above_the_current_directory(tmp_path: Path) -> None:
    from tests.fixtures.common import run_cli

    (tmp_path / "wasmbuild.toml").write_text(MINIMAL + "colour = 'blue'\n")  # loaded, hence refused
    (tmp_path / "src").mkdir()
    result = run_cli("build", cwd=tmp_path / "src")
    assert result.returncode == 2, result.stderr
    assert "wasmbuild.toml: project.colour: unknown key" in result.stderr
    outside = run_cli("build", cwd=tmp_path.parent)
    assert outside.returncode == 3 and "is not a wasmbuild project" in outside.stderr


def test_cpp_only_build_flags_on_another_language_are_usage_errors(tmp_path: Path) -> None:
    from tests.fixtures.common import run_cli

    _project(tmp_path, MINIMAL)  # a rust project: the flags would only cost a rebuild for nothing
    result = run_cli("build", str(tmp_path), "--toolchain", "zig")
    assert result.returncode == 2
    assert "error: --toolchain only applies to C++ projects; add-header is rust" in result.stderr
    both = run_cli("build", str(tmp_path), "--mode", "direct", "--toolchain", "clang")
    assert both.returncode == 2 and "--toolchain and --mode only apply to C++ projects" in both.stderr
