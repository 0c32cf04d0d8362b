"""Helpers shared by the sub-commands."""

from __future__ import annotations

import argparse

from bot.config import Settings, load_settings
from bot.demo import apply_demo


def settings_from(args: argparse.Namespace) -> Settings:
    return apply_demo(load_settings(getattr(args, "config", None)))
