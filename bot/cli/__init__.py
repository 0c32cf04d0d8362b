"""The ``pufa`` command. Each sub-command group lives in its own module with ``register(sub)``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import ask, campaigns, db, kb, ledger, menu, posts, report, serve, simulate, staff
from bot.config import ConfigError

GROUPS = (serve, db, ask, simulate, kb, menu, report, ledger, posts, campaigns, staff)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pufa", description="普法助手 — WeChat legal-publicity assistant")
    parser.add_argument("--config", help="TOML config file (default: $PUFA_CONFIG, else built-in defaults)")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
