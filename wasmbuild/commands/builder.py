"""`wasmbuild builder build|info`: make or describe the hermetic builder image.

The image's tag is a hash of its inputs (Dockerfile, pinned Debian packages, npm lock files,
bundled SDKs): `builder build` does nothing when that tag exists, unless --force.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
    build = sub.add_parser("build", help="build the builder image (reused when it is up to date)",
                           description="Build the builder image. The default base is debian:bookworm-slim; when "
                                       "it cannot be pulled, a base is made offline with debootstrap from this "
                                       "machine's Debian mirror.")
    base = build.add_mutually_exclusive_group()
    base.add_argument("--base", metavar="IMAGE", help="build on this Debian bookworm image instead")
    base.add_argument("--bootstrap", action="store_true",
                      help="make the base offline with debootstrap from this machine's Debian mirror")
    build.add_argument("--force", action="store_true", help="rebuild even when the image is up to date")
    build.add_argument("-v", "--verbose", action="store_true", help="show the whole build log")
    info = sub.add_parser("info", help="show the builder image's id, size, tag and toolchain versions",
                          description="Show the builder image's id, size, tag, base and pinned toolchain versions "
                                      "(--verify also asks each tool in a container).")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.add_argument("--verify", action="store_true",
                      help="also ask each tool for its version (starts a container, no network)")


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        return _build(args)
    return _info(args)


def _build(args: argparse.Namespace) -> int:
    from wasmbuild import console
    from wasmbuild.build import dockerapi, image
    from wasmbuild.build.context import builder_tag

    if args.base is not None:  # a usage error before the daemon is asked anything
        from wasmbuild import refs
        from wasmbuild.errors import UsageError

        try:
            refs.parse(args.base)
        except UsageError as error:
            raise UsageError(f"--base {args.base!r} is not an image reference ({error.message.split(': ', 1)[-1]})",
                             "for example --base debian:bookworm-slim") from None
    client = dockerapi.connect(hint=dockerapi.START_HINT)
    info = None if args.force else image.find(client, builder_tag())
    if info is not None:
        asked = f"on {args.base}" if args.base else "on a debootstrapped base" if args.bootstrap else ""
        # the tag follows the toolchains, not the base: say why the base asked for was not used
        console.info(f"builder image {info.tag} is up to date" + (
            f"; add --force to rebuild it {asked}" if asked else ""))
    else:
        base = image.choose_base(client, args.base, args.bootstrap)
        info = image.build(client, base, force=True, verbose=args.verbose)
    sys.stdout.write(f"{info.tag} {info.id}\n")
    return 0


def _info(args: argparse.Namespace) -> int:
    from wasmbuild.build import context, dockerapi, image
    from wasmbuild.build.units import human_size
    from wasmbuild.errors import NotFoundError

    tag = context.builder_tag()
    client = dockerapi.connect(hint=dockerapi.START_HINT)
    info = image.find(client, tag)
    if info is None:
        others = sorted(t for i in client.images.list(context.REPOSITORY) for t in i.tags)
        hint = "run 'wasmbuild builder build' (a few minutes, once)"
        if others:
            hint += f"; other builder images here (older toolchains): {', '.join(others)}"
        raise NotFoundError(f"the builder image {tag} is not built yet", hint)
    versions = image.run_versions(client, tag) if args.verify else {}
    if args.json:
        json.dump({"tag": info.tag, "id": info.id, "size": info.size, "created": info.created, "base": info.base,
                   "toolchains": info.toolchains(), **({"verified": versions} if versions else {})},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    rows = [("tag", info.tag), ("id", info.id), ("size", human_size(info.size)), ("created", info.created),
            ("base", info.base)]
    rows += [(name, version) for name, version in info.toolchains().items()]
    rows += [(f"{name} (run)", version) for name, version in versions.items()]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        sys.stdout.write(f"{name.ljust(width)}  {value}\n")
    return 0
