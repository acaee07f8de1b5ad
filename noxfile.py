"""Our own sessions: tests, lint, typecheck (more join as the features land)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.11"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The full test suite: unit, golden and integration (real docker, registry, compilers)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS)
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "wasmbuild", "tests", "bench", "noxfile.py")


@nox.session(python=PYTHONS)
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".", "mypy", "types-PyYAML", "types-requests")
    session.run("mypy")
