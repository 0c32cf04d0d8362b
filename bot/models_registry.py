"""Imports every module that defines tables, so that Base.metadata is complete for migrations."""

from bot.db import models  # noqa: F401
