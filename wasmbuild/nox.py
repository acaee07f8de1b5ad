"""nox sessions for a filter project's CI, in one line of its noxfile.py:

    import nox
    from wasmbuild.nox import *  # noqa: F401,F403  registers build, check, test, package, push

    nox.options.sessions = ["build", "check", "test"]

Importing this module registers five sessions with nox:

* ``build``   ``wasmbuild build`` (extra arguments after ``--`` are passed on, e.g. ``-- --backend host``)
* ``check``   ``wasmbuild check`` of the built module (``--strict`` validates every function body)
* ``test``    ``pytest`` over the project's tests/, which use :mod:`wasmbuild.testing`
* ``package`` stores the built module under the project's reference (or ``-- REF``)
* ``push``    pushes the project's reference (or ``-- REF``) to its registry; not run by default

The sessions run in the environment that has wasmbuild installed (like tox's ``skip_install``):
nothing is downloaded, so they work in offline CI as well as on a laptop. Each session reads the
project's wasmbuild.toml, so the output path and reference are never repeated in the noxfile.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

__all__ = ["build", "check", "package", "push", "test"]


def _project_settings(session: nox.Session) -> tuple[Path, str]:
    """The built module's path and the project's default reference, from wasmbuild.toml."""
    from wasmbuild.config import load_project
    from wasmbuild.errors import WasmbuildError

    try:
        project = load_project(Path.cwd())
    except WasmbuildError as error:
        session.error(f"{error.message} ({error.hint})" if error.hint else error.message)
    return project.output_path, project.config.default_ref


def _wasmbuild(session: nox.Session, *args: str) -> None:
    session.run(sys.executable, "-m", "wasmbuild", *args, external=True)


@nox.session(python=False)
def build(session: nox.Session) -> None:
    """Build the filter (a cache hit when nothing changed) and check it against the ABI."""
    _wasmbuild(session, "build", *session.posargs)


@nox.session(python=False, requires=["build"])
def check(session: nox.Session) -> None:
    """Check the built module, validating every function body too."""
    module, _ = _project_settings(session)
    _wasmbuild(session, "check", "--strict", str(module), *session.posargs)


@nox.session(python=False, requires=["build"])
def test(session: nox.Session) -> None:
    """Run the project's tests against the built module under wasmbuild's local proxy-wasm host."""
    session.run(sys.executable, "-m", "pytest", *(session.posargs or ["tests"]), external=True)


@nox.session(python=False, requires=["build"], default=False)
def package(session: nox.Session) -> None:
    """Store the built module under the project's reference, or the one given after ``--``."""
    module, ref = _project_settings(session)
    target = session.posargs[0] if session.posargs else ref
    _wasmbuild(session, "package", str(module), "-t", target)


@nox.session(python=False, requires=["build"], default=False)
def push(session: nox.Session) -> None:
    """Push the project's reference (or ``-- REF``) to its registry; log in first with wasmbuild login."""
    _, ref = _project_settings(session)
    target = session.posargs[0] if session.posargs else ref
    if target != ref:
        _wasmbuild(session, "tag", ref, target)
    _wasmbuild(session, "push", target)
