"""The ``pufa`` command. Each sub-command group lives in its own module with ``register(sub)``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot.config import ConfigError

# Sub-command name = module name under bot.cli, in the order of the help text. Modules are imported
# only when needed: importing them all (matplotlib and openpyxl for reports, among others) took
# about a second of `pufa serve`'s cold start (measured with py-spy).
GROUPS = ("serve", "db", "ask", "simulate", "kb", "menu", "report", "ledger", "posts", "campaigns", "staff")


def _command(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line, if it can be told without parsing."""
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--config":
            i += 2
            continue
        if arg.startswith("--config="):
            i += 1
            continue
        return arg if arg in GROUPS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every sub-command, or with ``only`` that one (same behaviour for it)."""
    parser = argparse.ArgumentParser(prog="pufa", description="普法助手 — WeChat legal-publicity assistant")
    parser.add_argument("--config", help="TOML config file (default: $PUFA_CONFIG, else built-in defaults)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in (only,) if only else GROUPS:
        importlib.import_module(f"bot.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head and the like
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
