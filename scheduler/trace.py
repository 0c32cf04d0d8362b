"""Phase markers for the crash tests: with ``PUFA_SCHEDULER_TRACE=1`` the sender prints
``TRACE <phase> <post_id>`` and, at the phases listed in ``PUFA_SCHEDULER_TRACE_PAUSE_AT``
(comma-separated), pauses ``PUFA_SCHEDULER_TRACE_PAUSE`` seconds so that a test can kill -9 the
process inside that phase. Off (and free) otherwise."""

from __future__ import annotations

import asyncio
import os
import sys

_ENABLED = os.environ.get("PUFA_SCHEDULER_TRACE") == "1"
_PAUSE = float(os.environ.get("PUFA_SCHEDULER_TRACE_PAUSE", "0") or 0)
_PAUSE_AT = frozenset(filter(None, os.environ.get("PUFA_SCHEDULER_TRACE_PAUSE_AT", "").split(",")))


async def trace(phase: str, post_id: int) -> None:
    if not _ENABLED:
        return
    sys.stdout.write(f"TRACE {phase} {post_id}\n")
    sys.stdout.flush()
    if _PAUSE and phase in _PAUSE_AT:
        await asyncio.sleep(_PAUSE)
