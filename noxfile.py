"""Our own sessions: lint, typecheck, tests (the default set), walkthrough and bench."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.11"]
DEV_TOOLS = ["ruff", "mypy", "types-PyYAML", "types-requests"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The full test suite: unit, golden and integration (real docker, registries, compilers)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS)
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "wasmbuild", "tests", "bench", "noxfile.py")


@nox.session(python=PYTHONS)
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test]", *DEV_TOOLS)  # nox and pytest are imported by wasmbuild.nox/testing
    session.run("mypy")


@nox.session(python=PYTHONS)
def walkthrough(session: nox.Session) -> None:
    """The seed article's walk for cpp, assemblyscript and rust: new, build, list, run, push,
    pull, deploy, check (tests/integration/test_walkthrough.py)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-v", "tests/integration/test_walkthrough.py", *session.posargs)


@nox.session(python=PYTHONS)
def bench(session: nox.Session) -> None:
    """Every benchmark in bench/, then one table of figures, baselines and ratios."""
    session.install("-e", ".[test]")
    session.run("python", "bench/run_all.py", *session.posargs)
