from __future__ import annotations

import pytest

from wasmbuild import refs
from wasmbuild.errors import UsageError


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "canonical"),
    [
        ("add-header", None, "add-header", "latest", "add-header:latest"),
        ("add-header:v1", None, "add-header", "v1", "add-header:v1"),
        ("localhost:5000/filters/add-header:v1", "localhost:5000", "filters/add-header", "v1",
         "localhost:5000/filters/add-header:v1"),
        ("registry.example.com/a/b", "registry.example.com", "a/b", "latest", "registry.example.com/a/b:latest"),
        ("localhost/x", "localhost", "x", "latest", "localhost/x:latest"),
        ("user/filter:1.0", None, "user/filter", "1.0", "user/filter:1.0"),
    ],
)
def test_parse_valid(text: str, registry: str | None, repository: str, tag: str, canonical: str) -> None:
    ref = refs.parse(text)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
    assert str(ref) == canonical


def test_digest_reference_keeps_no_tag() -> None:
    digest = "sha256:" + "ab" * 32
    ref = refs.parse(f"localhost:5000/f@{digest}")
    assert ref.tag is None and ref.digest == digest and ref.reference == digest


@pytest.mark.parametrize("text", ["", " x", "Upper", "a//b", "x:", "x:-bad", "x@sha256:zz", "-x", "a/../b"])
def test_parse_invalid_names_the_problem_and_hints(text: str) -> None:
    with pytest.raises(UsageError) as info:
        refs.parse(text)
    assert "invalid image reference" in info.value.message
    assert info.value.hint and "[REGISTRY/]NAME[:TAG]" in info.value.hint
