"""Giving the memory of a finished index build back to the operating system.

A build allocates far more than the finished index keeps (per-term builder arrays, every text's
analysis). CPython frees those objects, but glibc keeps the freed heap pages in the process unless
asked, so a server that built its index once stayed at the build's peak RSS for good.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_free_memory() -> None:
    """Collect garbage, then return free heap pages to the OS (glibc only; elsewhere a no-op)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
