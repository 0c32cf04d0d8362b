"""A persisted snapshot of a built knowledge index, so that a restart does not rebuild it.

Even with the analysis cache warm, a start spent ≈1.5–2 s building the index (jieba's dictionary,
our dictionaries, BM25 over entries and ~4,900 articles) before it could answer. Loading the pickled
result of that build takes a fraction of it.

The object is pickled generically (whatever ``knowledge.engine`` holds today), so changes to the
engine need no change here. The file is keyed by a hash of everything the build reads: the entries
as passed, every file of the law directory, every file of the ``knowledge`` package (its source,
dictionaries and calibration) and the versions of Python and jieba. Any change there starts a new
file; a snapshot that does not load for any reason is ignored and rebuilt.

The file lives in the application's own cache directory and is written only by :func:`save`;
loading it is as trusted as the analysis cache next to it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any

log = logging.getLogger("pufa.knowledge.snapshot")

FORMAT = b"pufa-knowledge-snapshot-1"
PACKAGE_DIR = Path(__file__).resolve().parent
PREFIX = "knowledge-"
SUFFIX = ".pickle"


def _hash_tree(h: Any, root: Path) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")


def fingerprint(content: Iterable[object], trees: Iterable[Path]) -> str:
    """Hash of the build's inputs: ``content`` by repr (entries are frozen dataclasses), ``trees``
    by every file under them, plus the ``knowledge`` package and the interpreter, jieba and pypinyin
    versions."""
    from knowledge.homophones import readings_version
    from knowledge.jieba_loader import jieba  # here: loading a snapshot (bot.matchworker.preload) needs no key

    h = hashlib.sha256(FORMAT)
    h.update(sys.version.encode())
    h.update(str(getattr(jieba, "__version__", "")).encode())
    h.update(readings_version().encode())
    for item in content:
        h.update(repr(item).encode())
        h.update(b"\0")
    for tree in (PACKAGE_DIR, *trees):
        h.update(str(tree).encode())
        _hash_tree(h, Path(tree))
    return h.hexdigest()[:32]


def _mapping_proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


def _new_lock() -> Any:
    return threading.Lock()


def _new_rlock() -> Any:
    return threading.RLock()


# Reconstructors by reference to this module: the builtin types themselves cannot be pickled by name.
_LOCK_TYPES = {type(threading.Lock()): _new_lock, type(threading.RLock()): _new_rlock}


class _Pickler(pickle.Pickler):
    """Pickles what the standard pickler refuses: read-only mapping views and (unheld) locks."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is MappingProxyType:
            return _mapping_proxy, (dict(obj),)
        factory = _LOCK_TYPES.get(kind)
        if factory is not None:
            return factory, ()  # a lock is never held across a snapshot: the copy starts free
        return NotImplemented


def path_for(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir) / f"{PREFIX}{key}{SUFFIX}"


def latest(cache_dir: str | Path) -> str | None:
    """The key of the newest snapshot in the cache directory (``save`` keeps only one), if any."""
    dated = []
    for path in Path(cache_dir).glob(f"{PREFIX}*{SUFFIX}"):
        with contextlib.suppress(OSError):  # a concurrent save() may have just replaced it
            dated.append((path.stat().st_mtime_ns, path.name))
    return max(dated)[1][len(PREFIX):-len(SUFFIX)] if dated else None


def load(cache_dir: str | Path, key: str) -> Any | None:
    path = path_for(cache_dir, key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    # Millions of small objects at once: the cyclic collector would rescan them over and over
    # while they are created (measured: half the load time), and none of them is garbage yet.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # Our own file in our own cache directory, written by save() below.
        return pickle.loads(data)
    except Exception as exc:  # a damaged or incompatible snapshot only costs a rebuild
        log.warning("knowledge snapshot ignored: %s", type(exc).__name__)
        return None
    finally:
        if was_enabled:
            gc.enable()


def save(obj: Any, cache_dir: str | Path, key: str) -> None:
    """Write atomically, then drop snapshots of older inputs (they can never match again)."""
    directory = Path(cache_dir)
    path = path_for(directory, key)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".knowledge-")
        try:
            with os.fdopen(fd, "wb") as f:
                _Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
            os.replace(tmp, path)  # a reader sees the old file or the whole new one
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        log.warning("knowledge snapshot not written: %s", type(exc).__name__)
        return
    for old in directory.glob(f"{PREFIX}*{SUFFIX}"):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()
