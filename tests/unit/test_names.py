from __future__ import annotations

import pytest

from wasmbuild import names
from wasmbuild.errors import UsageError


@pytest.mark.parametrize(("raw", "expected"), [
    ("add-header", "add-header"),
    ("add_header", "add_header"),
    ("My Filter", "my-filter"),
    ("add.header", "add-header"),
    ("  Add--Header__ ", "add-header"),
    ("a__b", "a_b"),
    ("a-_b", "a-b"),
    ("Über-Filter", "uber-filter"),
])
def test_normalise(raw: str, expected: str) -> None:
    assert names.project_name(raw) == expected
    assert names.to_ident(expected) == expected.replace("-", "_")


@pytest.mark.parametrize(("raw", "language", "needle"), [
    ("", None, "empty"),
    ("a/b", None, "path separator"),
    ("..", None, "'..'"),
    ("x\0y", None, "NUL"),
    ("___", None, "no ASCII letters"),
    ("1st", None, "start with a letter"),
    ("self", "rust", "Rust keyword"),
    ("proc-macro", "rust", "Rust standard crate"),
    ("build", "rust", "Cargo directory"),
    ("namespace", "cpp", "C++ keyword"),
    ("int", "cpp", "C++ keyword"),
    ("favicon.ico", "assemblyscript", None),  # normalised to favicon-ico: fine
])
def test_names_no_target_can_hold(raw: str, language: str | None, needle: str | None) -> None:
    if needle is None:
        assert names.project_name(raw, language)
        return
    with pytest.raises(UsageError) as caught:
        names.project_name(raw, language)
    assert needle in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.hint


def test_keywords_only_matter_for_their_language() -> None:
    assert names.project_name("fn", "cpp") == "fn"
    assert names.project_name("class", "rust") == "class"
    assert names.project_name("class", "assemblyscript") == "class"


@pytest.mark.parametrize("raw", ["add_header", "add-header.v1", "ns:filter", "A1"])
def test_valid_root_ids(raw: str) -> None:
    assert names.root_id(raw) == raw


@pytest.mark.parametrize("raw", ["", 'a"b', "a b", "a\\b", "-x", "x" * 256, "a\nb"])
def test_invalid_root_ids(raw: str) -> None:
    with pytest.raises(UsageError):
        names.root_id(raw)
