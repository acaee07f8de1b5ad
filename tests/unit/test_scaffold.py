"""wasmbuild.scaffold: the answers, the SDK/ABI matrix and the vendoring of bundled SDKs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from wasmbuild import __version__, resources, scaffold
from wasmbuild.errors import EnvironmentProblem, UsageError


def test_defaults() -> None:
    answers = scaffold.resolve(language_name="AS", name="Add Header")
    assert answers.context() == {
        "name": "add-header", "ident": "add_header", "root_id": "add_header", "abi": "0.2.1",
        "abi_marker": "0_2_1", "sdk": "gcore", "platform": "istio", "platform_version": "1.24",
        "language": "assemblyscript", "wasmbuild_version": __version__,
    }


@pytest.mark.parametrize(("language", "sdk", "abi", "expected"), [
    ("cpp", None, None, ("bundled", "0.2.1")),
    ("cpp", "upstream", "0_2_1", ("upstream", "0.2.1")),
    ("rust", None, "v0.2.1", ("bundled", "0.2.1")),
    ("assemblyscript", None, None, ("gcore", "0.2.1")),
    ("assemblyscript", "solo-io", None, ("solo-io", "0.2.0")),
    ("assemblyscript", None, "0.2.0", ("solo-io", "0.2.0")),
])
def test_sdk_and_abi_matrix(language: str, sdk: str | None, abi: str | None, expected: tuple[str, str]) -> None:
    answers = scaffold.resolve(language_name=language, name="f", sdk=sdk, abi=abi)
    assert (answers.sdk, answers.abi) == expected


@pytest.mark.parametrize(("language", "sdk", "abi", "needle"), [
    ("cpp", "solo-io", None, "SDK 'solo-io' is for assemblyscript, not cpp"),
    ("rust", None, "0.2.0", "no rust SDK emits proxy-wasm ABI 0.2.0"),
    ("assemblyscript", "upstream", None, "SDK 'upstream' is for cpp, not assemblyscript"),
    ("assemblyscript", "solo-io", "0.2.1", "SDK solo-io emits proxy-wasm ABI 0.2.0, not 0.2.1"),
])
def test_nonsensical_combinations_are_refused_with_the_choices(language: str, sdk: str | None, abi: str | None,
                                                               needle: str) -> None:
    with pytest.raises(UsageError) as caught:
        scaffold.resolve(language_name=language, name="f", sdk=sdk, abi=abi)
    assert caught.value.message == needle
    assert caught.value.hint and "ABI" in caught.value.hint


def _fixture_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A templates/ and toolchains/ pair with a tiny cpp template and a bundled SDK."""
    templates, toolchains = tmp_path / "templates", tmp_path / "toolchains"
    (templates / "common").mkdir(parents=True)
    (templates / "common" / "wasmbuild.toml.jinja").write_text('[project]\nname = "{{ name }}"\n')
    (templates / "cpp" / "third_party" / "proxy-wasm-cpp-sdk").mkdir(parents=True)
    (templates / "cpp" / "third_party" / "proxy-wasm-cpp-sdk" / "stale.h").write_text("replaced by the SDK\n")
    (templates / "cpp" / "filter.cc.jinja").write_text('// {{ root_id }}\n#include "proxy_wasm_intrinsics.h"\n')
    sdk = toolchains / "sdk" / "cpp"
    (sdk / "target").mkdir(parents=True)
    (sdk / "proxy_wasm_intrinsics.h").write_text("// header\n")
    (sdk / "gen.sh").write_text("#!/bin/sh\n")
    (sdk / "gen.sh").chmod(0o755)
    (sdk / "target" / "junk").write_text("litter\n")
    monkeypatch.setattr(resources, "templates_dir", lambda: templates)
    monkeypatch.setattr(resources, "toolchains_dir", lambda: toolchains)
    return sdk


def test_bundled_sdk_is_vendored_into_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fixture_install(tmp_path, monkeypatch)
    project = tmp_path / "out"
    scaffold.create(scaffold.resolve(language_name="cpp", name="add-header"), project)
    vendored = project / "third_party" / "proxy-wasm-cpp-sdk"
    assert sorted(p.name for p in vendored.iterdir()) == ["gen.sh", "proxy_wasm_intrinsics.h"]
    assert stat.S_IMODE((vendored / "gen.sh").stat().st_mode) == 0o755
    assert (project / "filter.cc").read_text().startswith("// add_header\n")


def test_upstream_sdk_vendors_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fixture_install(tmp_path, monkeypatch)
    files = scaffold.plan(scaffold.resolve(language_name="cpp", name="add-header", sdk="upstream"))
    assert [str(f.path) for f in files if str(f.path).startswith("third_party/")] == [
        "third_party/proxy-wasm-cpp-sdk/stale.h"]  # only what the template itself ships


def test_missing_bundled_sdk_or_template_is_an_environment_problem(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    sdk = _fixture_install(tmp_path, monkeypatch)
    for path in sorted(sdk.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    sdk.rmdir()
    with pytest.raises(EnvironmentProblem, match="bundled cpp SDK is missing"):
        scaffold.plan(scaffold.resolve(language_name="cpp", name="x"))
    with pytest.raises(EnvironmentProblem, match="no rust template"):
        scaffold.plan(scaffold.resolve(language_name="rust", name="x"))
    assert not (tmp_path / "out").exists()
