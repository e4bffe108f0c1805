"""`nmem completion SHELL`: a completion script generated from the parser itself (shtab for
bash, zsh and tcsh; adapters/cli/fish.py for fish)."""

from __future__ import annotations

import argparse

from .base import EXIT_OK, Commands


def register(command: Commands) -> None:
    p = command(
        "completion",
        "Print a shell completion script (bash, zsh, fish or tcsh).",
        cmd_completion,
        "example: nmem completion bash > ~/.local/share/bash-completion/completions/nmem\n"
        "         nmem completion zsh > ~/.zfunc/_nmem\n"
        "         nmem completion fish > ~/.config/fish/completions/nmem.fish",
    )
    p.add_argument("shell", choices=("bash", "zsh", "fish", "tcsh"))


def cmd_completion(args: argparse.Namespace) -> int:
    from .main import build_parser
    from .output import say

    parser = build_parser()
    if args.shell == "fish":
        from .fish import fish_script

        say(fish_script(parser))
        return EXIT_OK
    import shtab

    say(shtab.complete(parser, shell=args.shell))
    return EXIT_OK
