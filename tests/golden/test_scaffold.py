"""Golden tests of `wasmbuild new`: every template variant's whole rendered tree, and its files parse."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures.common import REPO, run_cli
from tests.fixtures.golden import Golden
from tests.fixtures.scaffold import VARIANTS
from wasmbuild import config, scaffold
from wasmbuild.resources import templates_dir, toolchains_dir

NAME = "add-header"


def _vendored(language: str, sdk: str) -> tuple[str, str] | None:
    return next(s.vendor for s in scaffold.SDKS[language] if s.name == sdk)


def _new(tmp_path: Path, language: str, sdk: str, *extra: str) -> Path:
    project = tmp_path / NAME
    result = run_cli("new", str(project), "--lang", language, "--sdk", sdk, *extra, input="")
    assert result.returncode == 0, result.stderr
    return project


def tree_text(project: Path, header: str, vendored: tuple[str, str] | None) -> str:
    """The whole tree as one reviewable text: each file's path, mode and content."""
    out = [f"# {header}\n"]
    skip = project / vendored[1] if vendored else None
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        rel = path.relative_to(project).as_posix()
        if skip is not None and skip in path.parents:
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        data = path.read_bytes()
        out.append(f"=== {rel}  {mode:04o}\n")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            out.append(f"(binary: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})\n")
            continue
        out.append(text if text.endswith("\n") or not text else text + "\n(no newline at end of file)\n")
    if vendored:
        out.append(f"=== {vendored[1]}/  a copy of toolchains/{vendored[0]} (compared file by file)\n")
    return "".join(out)


@pytest.mark.parametrize(("language", "sdk"), VARIANTS, ids=[f"{lang}-{sdk}" for lang, sdk in VARIANTS])
def test_rendered_tree_matches_golden(tmp_path: Path, golden: Golden, language: str, sdk: str) -> None:
    project = _new(tmp_path, language, sdk)
    text = tree_text(project, f"wasmbuild new {NAME} --lang {language} --sdk {sdk}", _vendored(language, sdk))
    golden.check(f"scaffold/{language}-{sdk}.txt", text)


@pytest.mark.parametrize("platform", ["envoy", "gloo"])
def test_platform_variants_match_golden(tmp_path: Path, golden: Golden, platform: str) -> None:
    """The platform changes the README's deploy section and wasmbuild.toml, nothing else."""
    language, sdk = VARIANTS[0]
    project = _new(tmp_path, language, sdk, "--platform", platform, "--platform-version", "1.17",
                   "--root-id", "my.root:id")
    text = tree_text(project, f"wasmbuild new {NAME} --lang {language} --sdk {sdk} --platform {platform} "
                     "--platform-version 1.17 --root-id my.root:id", _vendored(language, sdk))
    golden.check(f"scaffold/{language}-{sdk}-{platform}.txt", text)


def test_every_language_has_a_template() -> None:
    assert {lang for lang, _ in VARIANTS} == set(scaffold.LANGUAGES)
    assert len(VARIANTS) == sum(len(sdks) for sdks in scaffold.SDKS.values())


def test_every_variant_has_a_golden(golden: Golden) -> None:
    """A template that lands without its goldens fails here, not silently."""
    missing = [f"{lang}-{sdk}" for lang, sdk in VARIANTS if not golden.path(f"scaffold/{lang}-{sdk}.txt").exists()]
    if not golden.update:
        assert missing == []


@pytest.mark.parametrize(("language", "sdk"), VARIANTS, ids=[f"{lang}-{sdk}" for lang, sdk in VARIANTS])
def test_generated_files_parse(tmp_path: Path, language: str, sdk: str) -> None:
    project = _new(tmp_path, language, sdk)
    abi = next(s.abi for s in scaffold.SDKS[language] if s.name == sdk)

    loaded = config.load_project(project, environ={})
    assert loaded.config.project.name == NAME
    assert loaded.config.project.language == language
    assert loaded.config.project.sdk == sdk
    assert loaded.config.project.abi == abi
    assert loaded.config.root_id == "add_header"
    assert loaded.config.default_ref.endswith(f"{NAME}:latest")
    assert loaded.output_path == project / "build" / "filter.wasm"

    runtime = json.loads((project / "runtime-config.json").read_text())
    assert runtime == {"type": "envoy_proxy", "abiVersions": [f"v{abi}"], "config": {"rootIds": ["add_header"]}}
    vendored = _vendored(language, sdk)
    for path in project.rglob("*.json"):
        if vendored is None or project / vendored[1] not in path.parents:
            json.loads(path.read_text())
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    assert [h["id"] for repo in hooks["repos"] for h in repo["hooks"]] == ["wasmbuild-check"]
    compile((project / "noxfile.py").read_text(), "noxfile.py", "exec")
    for path in project.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_vendored_sdks_are_exact_copies(tmp_path: Path) -> None:
    """Bundled SDKs land in third_party/ byte for byte, modes included (the mechanism itself is
    unit-tested with a fixture SDK in tests/unit/test_scaffold.py)."""
    for language, sdk in VARIANTS:
        vendored = _vendored(language, sdk)
        if vendored is None:
            continue
        project = _new(tmp_path / f"{language}-{sdk}", language, sdk)
        source, target = toolchains_dir() / vendored[0], project / vendored[1]
        assert _files(target) == _files(source)
        assert _files(target)


def _files(root: Path) -> dict[str, tuple[int, bytes]]:
    return {p.relative_to(root).as_posix(): (stat.S_IMODE(p.stat().st_mode), p.read_bytes())
            for p in root.rglob("*") if p.is_file() and not _litter(p.relative_to(root))}


def _litter(rel: Path) -> bool:
    return any(part in {"target", "__pycache__", ".git"} or part.startswith("bazel-") for part in rel.parts)


def test_npm_toolchain_pins_match_the_template(tmp_path: Path) -> None:
    """toolchains/npm/<sdk> (preinstalled in the builder image) must hold exactly what projects pin."""
    for sdk in (s.name for s in scaffold.SDKS["assemblyscript"]):
        project = _new(tmp_path / sdk, "assemblyscript", sdk)
        ours = json.loads((project / "package.json").read_text())
        theirs = json.loads((toolchains_dir() / "npm" / sdk / "package.json").read_text())
        assert {**ours["dependencies"], **ours["devDependencies"]} == {**theirs["dependencies"],
                                                                      **theirs["devDependencies"]}
        for spec in {**ours["dependencies"], **ours["devDependencies"]}.values():
            assert spec[0].isdigit(), f"{spec} is not an exact pin"
        our_lock = json.loads((project / "package-lock.json").read_text())["packages"]
        their_lock = json.loads((toolchains_dir() / "npm" / sdk / "package-lock.json").read_text())["packages"]
        assert {k: v for k, v in our_lock.items() if k} == {k: v for k, v in their_lock.items() if k}
        assert our_lock[""]["dependencies"] == ours["dependencies"]
        assert our_lock[""]["devDependencies"] == ours["devDependencies"]


def test_templates_hold_no_litter() -> None:
    for path in templates_dir().rglob("*"):
        assert not _litter(path.relative_to(templates_dir())), path


def test_noxfile_selects_build_check_test(tmp_path: Path) -> None:
    """The project's noxfile really gets its sessions from wasmbuild.nox."""
    language, sdk = VARIANTS[0]
    project = _new(tmp_path, language, sdk)
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    listing = subprocess.run([sys.executable, "-m", "nox", "--list"], cwd=project, env=env, capture_output=True,
                             text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    selected = {line.split()[1] for line in listing.stdout.splitlines() if line.startswith("* ")}
    skipped = {line.split()[1] for line in listing.stdout.splitlines() if line.startswith("- ")}
    assert (selected, skipped) == ({"build", "check", "test"}, {"package", "push"})
