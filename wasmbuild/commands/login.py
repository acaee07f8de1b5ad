"""`wasmbuild login [-u USER] [--password-stdin] REGISTRY`: check credentials with the registry, then
save them where docker keeps them (its credential helper if one is configured, else
~/.docker/config.json with mode 0600), so docker, skopeo and wasmbuild share one login."""

from __future__ import annotations

import argparse
import sys

from wasmbuild.commands.push import add_registry_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("registry", metavar="REGISTRY", help="host[:port] of the registry, e.g. localhost:5000")
    parser.add_argument("-u", "--username", help="the user name (prompted for on a terminal when omitted)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password (or token) from standard input instead of prompting")
    add_registry_options(parser)
    parser.epilog = ("exit codes: 0 saved; 2 bad input, or no terminal to prompt on without --password-stdin; "
                     "5 the configured credential helper is missing; 6 the registry refused the credentials "
                     "or could not be reached (nothing is saved then)")


def registry_name(text: str) -> str:
    """`host[:port]` from what people type: `host:5000`, `https://host:5000/`, `https://host/v2/`."""
    from wasmbuild import refs
    from wasmbuild.errors import UsageError

    name = text.strip().split("://", 1)[-1].split("/", 1)[0]
    try:
        parsed = refs.parse(f"{name}/x")
    except UsageError:
        parsed = None
    if not name or parsed is None or parsed.registry != name:
        raise UsageError(f"{text!r} is not a registry host[:port]", "for example: wasmbuild login localhost:5000")
    return name


def _read_secret(args: argparse.Namespace) -> tuple[str, str]:
    import getpass

    from wasmbuild import console
    from wasmbuild.errors import UsageError

    username = args.username
    if args.password_stdin:
        if not username:
            raise UsageError("--password-stdin needs --username", "for example: "
                             "wasmbuild login -u USER --password-stdin REGISTRY < password.txt")
        password = sys.stdin.read().rstrip("\r\n")
    else:
        if not console.interactive():
            raise UsageError("no terminal to ask for the password on",
                             "pipe it in: wasmbuild login -u USER --password-stdin REGISTRY")
        if not username:
            username = input("Username: ").strip()
        password = getpass.getpass("Password: ")
    if not username:
        raise UsageError("the user name is empty", "pass it with -u USER")
    if not password:
        where = "stdin had nothing (before its end or a newline)" if args.password_stdin else "nothing was typed"
        raise UsageError(f"the password is empty: {where}",
                         "for example: wasmbuild login -u USER --password-stdin REGISTRY < password.txt")
    return username, password


def run(args: argparse.Namespace) -> int:
    from wasmbuild import console
    from wasmbuild.oci import dockerconfig
    from wasmbuild.oci.registry import Registry

    registry = registry_name(args.registry)
    username, password = _read_secret(args)
    credentials = dockerconfig.Credentials(username, password, None,
                                           "stdin" if args.password_stdin else "what was typed")
    asked = []

    def provide() -> dockerconfig.Credentials:
        asked.append(True)
        return credentials

    with Registry(registry, plain_http=args.plain_http, insecure=args.insecure, credentials=provide) as client:
        client.ping()
    if not asked:
        console.warn(f"{registry} does not ask for credentials; saving them unchecked")
    where = dockerconfig.save(registry, credentials)
    console.done(f"logged in to {registry} as {username} (saved in {where})")
    return 0
