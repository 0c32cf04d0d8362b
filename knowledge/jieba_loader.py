"""jieba, imported without setuptools' ``pkg_resources``.

jieba 0.42 imports ``pkg_resources`` only to open the files it ships, and falls back to opening them by
path when that import fails. Importing ``pkg_resources`` scans every installed distribution: about a
tenth of a second of each cold start (docs/benchmarks.md), for nothing jieba needs. Blocked for the
duration of jieba's import only: anything that wants ``pkg_resources`` later still gets it.
"""

from __future__ import annotations

import sys

if "jieba" in sys.modules or "pkg_resources" in sys.modules:
    import jieba
else:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` fail
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]

__all__ = ["jieba"]
