"""The pieces around the plans: source walking and mirroring, the build key, the builder image's
tag and context, the apt sources the base is made from, and the human units."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from tests.fixtures.builder import copy_project
from wasmbuild.build import base, cache, context, sources
from wasmbuild.build.output import Relay
from wasmbuild.build.plan import make_plan
from wasmbuild.build.units import human_age, human_size


def test_walk_skips_outputs_and_dependency_trees_but_keeps_sources(tmp_path: Path) -> None:
    project = copy_project("rust", tmp_path / "p")
    for junk in ("target/x", "build/filter.wasm", "node_modules/a/b.js", ".git/HEAD", "src/target/keep.rs"):
        (project / junk).parent.mkdir(parents=True, exist_ok=True)
        (project / junk).write_text("x")
    os.symlink("/nonexistent/bazel-out", project / "bazel-bin")
    files = sources.walk(project, sources.output_excludes("build/filter.wasm"))
    assert files == ["Cargo.toml", "src/lib.rs", "wasmbuild.toml"]


def test_digest_changes_with_content_names_and_exec_bits(tmp_path: Path) -> None:
    project = copy_project("rust", tmp_path / "p")
    files = sources.walk(project)
    first = sources.digest(project, files)
    assert sources.digest(project, files) == first
    lib = project / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\n")
    second = sources.digest(project, files)
    assert second != first
    lib.chmod(0o755)
    assert sources.digest(project, files) != second


def test_mirror_copies_changes_and_deletes_what_the_project_dropped(tmp_path: Path) -> None:
    project = copy_project("rust", tmp_path / "p")
    scratch = tmp_path / "scratch"
    sources.mirror(project, scratch, sources.walk(project), frozenset({"build"}))
    (scratch / "node_modules").mkdir()
    (scratch / "build").mkdir()
    (scratch / "src" / "old.rs").write_text("gone soon")
    (project / "src" / "lib.rs").write_text("changed")
    (project / "src" / "new").mkdir()
    (project / "src" / "new" / "mod.rs").write_text("new")
    sources.mirror(project, scratch, sources.walk(project), frozenset({"build"}))
    assert (scratch / "src" / "lib.rs").read_text() == "changed"
    assert (scratch / "src" / "new" / "mod.rs").read_text() == "new"
    assert not (scratch / "src" / "old.rs").exists()
    assert (scratch / "node_modules").is_dir() and (scratch / "build").is_dir()  # tool state survives


def test_build_key_depends_on_plan_config_toolchain_and_sources() -> None:
    plan = make_plan("rust", "cargo", [("cargo", "build")], {"A": "1"}, "out.wasm")
    key = cache.build_key(plan, {"abi": "0.2.1"}, "image=sha256:1", "src1")
    assert key == cache.build_key(plan, {"abi": "0.2.1"}, "image=sha256:1", "src1")
    other_plan = make_plan("rust", "cargo", [("cargo", "build", "--release")], {"A": "1"}, "out.wasm")
    assert len({key, cache.build_key(other_plan, {"abi": "0.2.1"}, "image=sha256:1", "src1"),
                cache.build_key(plan, {"abi": "0.2.0"}, "image=sha256:1", "src1"),
                cache.build_key(plan, {"abi": "0.2.1"}, "image=sha256:2", "src1"),
                cache.build_key(plan, {"abi": "0.2.1"}, "image=sha256:1", "src2")}) == 5


def test_build_cache_round_trip_and_refuses_a_damaged_entry(tmp_path: Path) -> None:
    store = cache.BuildCache(tmp_path)
    assert store.get("ab" * 32) is None
    store.put("ab" * 32, b"\0asm-module", "0.2.1", "plan")
    hit = store.get("ab" * 32)
    assert hit is not None and hit.module == b"\0asm-module" and hit.abi == "0.2.1"
    (tmp_path / "ab" / ("ab" * 32) / cache.MODULE).write_bytes(b"tampered")
    assert store.get("ab" * 32) is None


def test_builder_tag_follows_every_input(tmp_path: Path) -> None:
    toolchains = tmp_path / "toolchains"
    (toolchains / "builder").mkdir(parents=True)
    (toolchains / "builder" / "Dockerfile").write_text("FROM x\n")
    (toolchains / "builder" / "packages.txt").write_text("clang=1\n")
    (toolchains / "npm" / "gcore").mkdir(parents=True)
    (toolchains / "npm" / "gcore" / "package-lock.json").write_text("{}")
    (toolchains / "npm" / "gcore" / "node_modules").mkdir()
    (toolchains / "sdk" / "cpp").mkdir(parents=True)
    (toolchains / "sdk" / "cpp" / "x.h").write_text("//")
    tags = [context.builder_tag(context.context_files(toolchains))]
    for path, text in (("builder/packages.txt", "clang=2\n"), ("npm/gcore/package-lock.json", '{"a": 1}'),
                       ("sdk/cpp/x.h", "// v2"), ("builder/Dockerfile", "FROM y\n")):
        (toolchains / path).write_text(text)
        tags.append(context.builder_tag(context.context_files(toolchains)))
    (toolchains / "npm" / "gcore" / "node_modules" / "big.js").write_text("ignored")
    tags.append(context.builder_tag(context.context_files(toolchains)))
    assert len(set(tags)) == 5 and tags[-1] == tags[-2]
    assert all(t.startswith("wasmbuild-builder:") for t in tags)


def test_the_context_carries_the_ca_bundle_but_the_tag_does_not(tmp_path: Path) -> None:
    files = context.context_files()
    data = context.context_tar(files, b"-----BEGIN CERTIFICATE-----\n")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        ca = tar.extractfile("host-ca.crt")
        assert ca is not None and ca.read().startswith(b"-----BEGIN")
    assert {"Dockerfile", "packages.txt", "bin/wasmbuild-npm-install", "host-ca.crt"} <= set(names)
    assert not any("node_modules" in n for n in names)
    assert context.builder_tag(files) == context.builder_tag()


def test_host_settings_pass_through(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text("registry=https://npm.example.test/\nfund=false\n")
    env = {"HOME": str(tmp_path), "HTTPS_PROXY": "http://proxy.test:3128", "PIP_INDEX_URL": "https://pypi.test/simple"}
    args = context.build_args("base:1", env)
    assert args["BASE"] == "base:1" and args["NPM_CONFIG_REGISTRY"] == "https://npm.example.test/"
    assert args["HTTPS_PROXY"] == "http://proxy.test:3128" and args["PIP_INDEX_URL"] == "https://pypi.test/simple"
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(b"CA")
    assert context.host_ca_bundle({"SSL_CERT_FILE": str(bundle)}) == b"CA"


def test_apt_sources_from_one_line_and_deb822_files(tmp_path: Path) -> None:
    apt = tmp_path / "etc" / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    (apt / "sources.list").write_text("# comment\ndeb [arch=amd64] http://mirror.test/debian bookworm main contrib\n"
                                      "deb-src http://mirror.test/debian bookworm main\n")
    (apt / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://security.test/debian-security\nSuites: bookworm-security\nComponents: main\n\n"
        "Types: deb\nURIs: http://other.test/\nSuites: nodistro\nComponents: main\n")
    (apt / "sources.list.d" / "x.list.disabled").write_text("deb http://x.test bookworm main\n")
    chosen = base.image_sources(tmp_path)
    assert [s.line() for s in chosen] == [
        "deb http://mirror.test/debian bookworm main",
        "deb http://mirror.test/debian bookworm-updates main",
        "deb http://security.test/debian-security bookworm-security main",
    ]
    assert base.base_tag(chosen).startswith("wasmbuild-base:bookworm-")
    assert base.base_tag(chosen) != base.base_tag(chosen[:1])


def test_apt_sources_default_to_debian_when_the_host_is_not_bookworm(tmp_path: Path) -> None:
    (tmp_path / "etc" / "apt").mkdir(parents=True)
    (tmp_path / "etc" / "apt" / "sources.list").write_text("deb http://archive.ubuntu.com/ubuntu jammy main\n")
    assert base.image_sources(tmp_path)[0].uri == base.DEFAULT_MIRROR


def test_relay_rewrites_scratch_paths_and_keeps_the_last_lines() -> None:
    out = io.StringIO()
    relay = Relay({"/build/p/": "/home/me/p/"}, out)
    relay.feed(b"/build/p/filter.cc:3:1: error: expected ';'\n")
    relay.feed(b"partial")
    relay.feed(b" line\n1 error generated.")
    relay.close()
    assert out.getvalue().splitlines() == ["/home/me/p/filter.cc:3:1: error: expected ';'", "partial line",
                                           "1 error generated."]
    error = relay.failure("clang", 1)
    assert error.exit_code == 4 and "/home/me/p/filter.cc:3:1" in error.message


@pytest.mark.parametrize(("size", "text"), [(0, "0 B"), (999, "999 B"), (11477, "11.5 kB"), (2_960_606_728, "2.96 GB")])
def test_human_size_is_si(size: int, text: str) -> None:
    assert human_size(size) == text


def test_human_age() -> None:
    assert human_age(100.0, now=100.5) == "just now"
    assert human_age(0.0, now=59) == "59 seconds ago"
    assert human_age(0.0, now=3600 * 5) == "5 hours ago"
    assert human_age(0.0, now=86400) == "1 day ago"
