"""`nmem completion SHELL`: a completion script generated from the parser itself."""

from __future__ import annotations

import argparse

from .base import EXIT_OK, Commands


def register(command: Commands) -> None:
    p = command(
        "completion",
        "Print a shell completion script (bash, zsh or tcsh).",
        cmd_completion,
        "example: nmem completion bash > ~/.local/share/bash-completion/completions/nmem\n"
        "         nmem completion zsh > ~/.zfunc/_nmem",
    )
    p.add_argument("shell", choices=("bash", "zsh", "tcsh"))


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    from .main import build_parser
    from .output import say

    say(shtab.complete(build_parser(), shell=args.shell))
    return EXIT_OK
