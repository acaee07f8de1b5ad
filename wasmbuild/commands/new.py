"""`wasmbuild new PATH`: scaffold a filter project (wasme init's successor).

On a terminal, a missing language or platform is asked for (language first, then platform, as
wasme init did); without one, a missing language is an error that lists the choices, and the
platform defaults to istio. Every answer is checked before the first question is asked or the
first byte is written.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from wasmbuild.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="directory to create (its name is the default project name)")
    parser.add_argument("--lang", "--language", dest="lang", metavar="LANG",
                        help="cpp, assemblyscript or rust (asked for on a terminal)")
    parser.add_argument("--name", help="project name (default: the directory's name, normalised)")
    parser.add_argument("--root-id", metavar="ID", help="the filter's root id (default: the name with '_' for '-')")
    parser.add_argument("--abi", metavar="VERSION",
                        help="proxy-wasm ABI version: 0.2.1 (default) or 0.2.0 (assemblyscript with --sdk solo-io)")
    parser.add_argument("--sdk", help="cpp/rust: bundled (default, offline) or upstream; "
                        "assemblyscript: gcore (default) or solo-io")
    parser.add_argument("--platform", help="istio (default), envoy or gloo (asked for on a terminal)")
    parser.add_argument("--platform-version", metavar="X", help="platform version, e.g. 1.24")
    parser.add_argument("--force", action="store_true",
                        help="write into an existing non-empty directory (the template's files are overwritten, "
                        "others kept)")
    parser.add_argument("--no-prompt", action="store_true", help="never ask; fail when --lang is missing")


def _ask(question: str, options: Sequence[tuple[str, str]], default: str | None = None) -> str:
    """A numbered menu on stderr; the answer is a number or a name. EOF is an error, never a guess."""
    width = max(len(value) for value, _ in options)
    lines = [question]
    lines += [f"  {i}) {value.ljust(width)}  {summary}" for i, (value, summary) in enumerate(options, 1)]
    suffix = f" [{default}]" if default else ""
    while True:
        sys.stderr.write("\n".join(lines) + f"\nChoose 1-{len(options)}{suffix}: ")
        sys.stderr.flush()
        try:
            answer = input().strip().lower()
        except EOFError:
            sys.stderr.write("\n")
            raise UsageError(f"no answer to {question!r}", "pass the answers as options; see --help") from None
        if not answer and default:
            return default
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1][0]
        for value, _ in options:
            if answer == value:
                return value
        sys.stderr.write(f"'{answer}' is not one of the choices\n")


def _ask_text(question: str, default: str) -> str:
    sys.stderr.write(f"{question} [{default}]: ")
    sys.stderr.flush()
    try:
        answer = input().strip()
    except EOFError:
        sys.stderr.write("\n")
        raise UsageError(f"no answer to {question!r}", "pass the answers as options; see --help") from None
    return answer or default


def run(args: argparse.Namespace) -> int:
    from wasmbuild import console, names, scaffold
    from wasmbuild.templating import check_destination

    if not args.path.strip():
        raise UsageError("PATH is empty", "give the directory to create, e.g. 'wasmbuild new add-header'")
    destination = Path(args.path)
    raw_name = args.name if args.name is not None else destination.resolve().name
    # Cheap checks first, so nobody answers questions for a project that cannot be created.
    names.project_name(raw_name)
    check_destination(destination, args.force)
    lang = scaffold.language(args.lang) if args.lang is not None else None
    abi = scaffold.abi_version(args.abi) if args.abi is not None else None
    plat = scaffold.platform(args.platform) if args.platform is not None else None
    version = scaffold.platform_version(args.platform_version) if args.platform_version is not None else None
    prompt = console.interactive() and not args.no_prompt

    if lang is None:
        if not prompt:
            raise UsageError("no language given", f"pass --lang with one of: {', '.join(scaffold.LANGUAGES)}")
        lang = _ask("What language do you wish to use for the filter?",
                    [(x, scaffold.LANGUAGE_SUMMARY[x]) for x in scaffold.LANGUAGES])
    names.project_name(raw_name, lang)
    scaffold.sdk_for(lang, args.sdk, abi)  # before the platform question
    if plat is None:
        if prompt:
            plat = _ask("With which platform do you wish to use the filter?",
                        [(x, scaffold.PLATFORM_SUMMARY[x]) for x in scaffold.PLATFORMS], default="istio")
            if version is None:
                version = scaffold.platform_version(
                    _ask_text(f"Which {plat} version?", scaffold.PLATFORM_DEFAULT_VERSION[plat]))
        else:
            plat = "istio"

    answers = scaffold.resolve(language_name=lang, name=raw_name, root_id=args.root_id, abi=abi, sdk=args.sdk,
                               platform_name=plat, version=version)
    if answers.name != raw_name:
        console.info(f"project name: {answers.name} (from {raw_name!r})")
    files = scaffold.create(answers, destination, force=args.force)
    console.done(f"created {destination} ({len(files)} files): {answers.language} filter {answers.name}, "
                 f"SDK {answers.sdk}, proxy-wasm ABI {answers.abi}, root id {answers.root_id}, "
                 f"for {answers.platform} {answers.platform_version}")
    here = destination.resolve() == Path.cwd().resolve()
    cd = "" if here else f"cd {shlex.quote(str(destination))} && "
    console.info(f"next: {cd}wasmbuild build && wasmbuild run build/filter.wasm")
    return 0
