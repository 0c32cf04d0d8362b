"""Imports every module that defines tables, so that Base.metadata is complete for migrations."""

from admin import models as admin_models  # noqa: F401
from bot.db import models  # noqa: F401
from reports import models as reports_models  # noqa: F401
from scheduler import models as scheduler_models  # noqa: F401
