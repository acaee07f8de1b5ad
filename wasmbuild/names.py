"""Project names: normalise what the user typed, then make sure every place it lands can hold it.

A project name becomes an npm package name (assemblyscript), a Cargo package and crate name
(rust), a Bazel workspace and target name and a C++ identifier (cpp, through `ident`), a
directory name and part of an image reference. We normalise the harmless differences (case,
spaces, dots) and refuse the rest with a message that names the rule, so a project never fails
later in a compiler for a reason the scaffolder could have seen.
"""

from __future__ import annotations

import re

from wasmbuild.errors import UsageError

NAME_MAX = 63  # an image repository path component stays short
# What a normalised name looks like; wasmbuild.config validates [project] name with it too.
NAME_PATTERN = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"
_NAME = re.compile(NAME_PATTERN)
_ROOT_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254}$")

# C++20 keywords and alternative tokens: the cpp template may use `ident` as a C++ identifier.
_CPP_WORDS = """
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
co_return co_yield decltype default delete do double dynamic_cast else enum explicit export
extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
nullptr operator or or_eq private protected public register reinterpret_cast requires return
short signed sizeof static static_assert static_cast struct switch template this thread_local
throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
xor xor_eq
"""
CPP_KEYWORDS = frozenset(_CPP_WORDS.split())

# Rust keywords (strict and reserved, all editions): cargo refuses them as package names.
_RUST_WORDS = """
as async await break const continue crate dyn else enum extern false fn for if impl in let loop
match mod move mut pub ref return self static struct super trait true type unsafe use where while
abstract become box do final macro override priv try typeof unsized virtual yield gen
"""
RUST_KEYWORDS = frozenset(_RUST_WORDS.split())

# Names cargo refuses because they clash with the standard crates or its own build directories.
RUST_RESERVED = frozenset({"std", "core", "alloc", "proc_macro", "test", "deps", "examples", "build",
                           "incremental"})

# Names npm refuses for a package.
NPM_RESERVED = frozenset({"node_modules", "favicon.ico"})


def normalise(raw: str) -> str:
    """ASCII, lower-case; runs of other characters become one `-` (`_` stays `_`); trim the ends.

    `My Filter` -> `my-filter`, `add.header` -> `add-header`, `Über` -> `uber`, `add_header` stays. Path separators
    and `..` are refused before this runs, so a name can never point somewhere else.
    """
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", raw.strip()).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9_-]", "-", ascii_text.lower())
    text = re.sub(r"[-_]{2,}", lambda run: "_" if set(run.group(0)) == {"_"} else "-", text)
    return text.strip("-_")


def check_raw(raw: str) -> None:
    """Refuse what no normalisation should quietly fix: emptiness and anything path-like."""
    if not raw.strip():
        raise UsageError("the project name is empty", "pass --name NAME, or a PATH whose last part is the name")
    if "/" in raw or "\\" in raw:
        raise UsageError(f"the project name {raw!r} contains a path separator",
                         "give the directory as PATH and a plain name with --name")
    if ".." in raw:
        raise UsageError(f"the project name {raw!r} contains '..'", "use letters, digits, '-' and '_'")
    if "\0" in raw:
        raise UsageError("the project name contains a NUL character", "use letters, digits, '-' and '_'")


def project_name(raw: str, language: str | None = None) -> str:
    """The normalised project name for `raw`, or a UsageError saying which target cannot hold it.

    With `language` None only the rules every language shares are applied (used before the
    language is known, so a bad name fails before any prompt).
    """
    check_raw(raw)
    name = normalise(raw)
    shown = repr(raw) if name == raw else f"{raw!r} (normalised to {name!r})"
    hint = "use a name that starts with a letter, e.g. 'add-header'"
    if not name:
        raise UsageError(f"the project name {raw!r} has no ASCII letters or digits", hint)
    if not name[0].isalpha():
        raise UsageError(f"the project name {shown} does not start with a letter "
                         "(Rust crate names, C++ identifiers and Bazel workspaces need one)", hint)
    if len(name) > NAME_MAX:
        raise UsageError(f"the project name {shown} is longer than {NAME_MAX} characters",
                         "choose a shorter name with --name")
    if not _NAME.match(name):  # pragma: no cover - normalise() only produces matching names
        raise UsageError(f"the project name {shown} is not valid", hint)
    ident = to_ident(name)
    if name in NPM_RESERVED:
        raise UsageError(f"the project name {shown} is reserved by npm", "choose another name with --name")
    if language == "rust" and ident in RUST_RESERVED:
        raise UsageError(f"the project name {shown} clashes with a Rust standard crate or a Cargo directory",
                         f"choose another name with --name, e.g. '{name}-filter'")
    if language == "rust" and ident in RUST_KEYWORDS:
        raise UsageError(f"the project name {shown} is a Rust keyword, which Cargo refuses as a package name",
                         f"choose another name with --name, e.g. '{name}-filter'")
    if language == "cpp" and ident in CPP_KEYWORDS:
        raise UsageError(f"the project name {shown} is a C++ keyword and cannot be the filter's identifier",
                         f"choose another name with --name, e.g. '{name}-filter'")
    return name


def to_ident(name: str) -> str:
    """`add-header` -> `add_header`: the Rust crate name and the C++/Bazel identifier."""
    return name.replace("-", "_")


def root_id(raw: str) -> str:
    """A root id goes into C++, Rust and AssemblyScript string literals, JSON, TOML and YAML."""
    if not _ROOT_ID.match(raw):
        raise UsageError(f"the root id {raw!r} is not valid",
                         "use letters, digits and '_', '-', '.', ':' (at most 255), e.g. 'add_header'")
    return raw
