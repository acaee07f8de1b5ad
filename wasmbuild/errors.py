"""The error model: library code raises these; only `wasmbuild.cli.main` turns them into exit codes.

Every error carries a one-line message naming the problem and, where we know one, a hint saying
what to do about it. The exit codes are part of the CLI contract (documented in the README).
"""

from __future__ import annotations

# Exit codes, one per family of failure, so scripts can tell them apart.
EXIT_OK = 0
EXIT_FAILED = 1  # a check found errors, a filter failed under the local host
EXIT_USAGE = 2  # bad command line, bad configuration, invalid names
EXIT_NOT_FOUND = 3  # a file, project, store entry or image that is not there
EXIT_BUILD = 4  # the compiler (or the post-build ABI check) failed
EXIT_ENVIRONMENT = 5  # docker daemon down, builder image or host tool missing
EXIT_REGISTRY = 6  # registry refused, authentication failed, digest mismatch, network
EXIT_DEPLOY = 7  # kubectl missing or failed, invalid manifests
EXIT_IO = 8  # disk full, permission denied, lock held
EXIT_INTERNAL = 70  # a bug: unexpected exception (a crash log is written)
EXIT_INTERRUPTED = 130


class WasmbuildError(Exception):
    """Base of all expected failures. `message` is one line; `hint` says what to do next."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(WasmbuildError):
    """Invalid command-line input (a bad name, flag value or reference)."""

    exit_code = EXIT_USAGE


class ConfigError(WasmbuildError):
    """An invalid wasmbuild.toml, runtime-config.json or plugin configuration."""

    exit_code = EXIT_USAGE


class NotFoundError(WasmbuildError):
    """A file, project, store entry, tag or image that does not exist."""

    exit_code = EXIT_NOT_FOUND


class BuildError(WasmbuildError):
    """The build failed: a compile error or a module that fails the ABI check."""

    exit_code = EXIT_BUILD


class EnvironmentProblem(WasmbuildError):
    """Something the machine must provide is missing: the docker daemon, an image, a host tool."""

    exit_code = EXIT_ENVIRONMENT


class RegistryError(WasmbuildError):
    """A registry refused a request, authentication failed or a blob did not verify."""

    exit_code = EXIT_REGISTRY


class DeployError(WasmbuildError):
    """Rendering or applying deployment manifests failed."""

    exit_code = EXIT_DEPLOY


class StorageError(WasmbuildError):
    """Writing to disk failed: no space, no permission, a lock that is held."""

    exit_code = EXIT_IO


class FilterFailure(WasmbuildError):
    """The filter under the local host trapped, ran out of its budget or broke the ABI."""

    exit_code = EXIT_FAILED


def from_os_error(exc: OSError, what: str) -> WasmbuildError:
    """Turn an OSError raised while doing `what` into the matching error with a hint."""
    import errno

    name = str(exc.filename) if exc.filename else ""
    target = f"{what}: {name}" if name and name not in what else what  # the path once, not twice
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return StorageError(f"{target}: no space left on device", "free some disk space and try again")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageError(f"{target}: {reason}", "check the permissions of that path")
    if exc.errno == errno.ENOENT:
        return NotFoundError(f"{target}: no such file or directory")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):  # mkdir or open through a path a file blocks
        return StorageError(f"{target}: {reason}", "a file is in the way: something else exists at that path")
    return StorageError(f"{target}: {reason}")
