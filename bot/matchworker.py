"""Knowledge matches in a helper process forked from the server, so they do not hold its GIL.

The match is pure Python (jieba, BM25) and was the largest share of the event loop's CPU under
load (py-spy, 64 connections, every match computed); a thread would not help, since it needs the
GIL the loop needs. A child forked after the view is built shares the index's pages (the heap is
frozen, so neither collector dirties them) and answers over a socket pair.

Protocol: length-prefixed pickle frames. The server sends ``[(request id, text), …]`` — every
text asked for in one turn of the loop, so a busy server pays one round trip for many matches —
and the child answers ``[(request id, ok, match or error name), …]`` in the same order. Entries
and articles of the view are sent as references (entry id; law, number, sub) and resolved to the
server's own objects, so an answer carries the very objects an in-process match would.

The child does nothing else: it closes every other descriptor (the listening socket, the
database files), ignores the signals meant for the server, never runs the server's clean-up
(``os._exit``) and exits when the server's end of the socket closes, also when the server dies.
If the child fails, its pending texts and every later one are matched in the server's loop.

At ``pufa serve``'s start the helper is forked before anything else (``preload``) and loads the
knowledge snapshot itself while the server imports the rest; its first frame names the snapshot it
loaded, and the server adopts it only if that is the one its knowledge base needs. Such a helper's
view is its own copy, so its answers travel by value.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import itertools
import logging
import os
import pickle
import signal
import socket
import struct
import time
from typing import Any, Protocol

from knowledge.entries import Entry
from knowledge.laws import Article
from knowledge.match import Match

log = logging.getLogger("pufa.knowledge.worker")

_HEADER = struct.Struct("!I")
_READY = pickle.dumps([], protocol=pickle.HIGHEST_PROTOCOL)  # the child's first frame: warmed up
# Past this the child is treated as stuck and the waiting texts are matched in the loop.
STALL_SECONDS = 5.0


class View(Protocol):
    """What the child needs of a knowledge view (knowledge.view.KnowledgeView)."""

    @property
    def corpus(self) -> Any: ...

    def match(self, text: str) -> Match: ...

    def entry(self, entry_id: str) -> Entry | None: ...

    def warm_up(self) -> None: ...


class _RefPickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, view: View) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.view = view

    def persistent_id(self, obj: Any) -> Any:
        kind, shared = type(obj), obj
        if kind is Entry and self.view.entry(obj.id) is shared:
            return ("e", obj.id)
        if kind is Article and self.view.corpus.get(obj.law, obj.number, obj.sub) is shared:
            return ("a", obj.law, obj.number, obj.sub)
        return None  # anything else (or an object not of this view) travels by value


class _RefUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, view: View) -> None:
        super().__init__(io.BytesIO(data))
        self.view = view

    def persistent_load(self, pid: Any) -> Any:
        found = self.view.entry(pid[1]) if pid[0] == "e" else self.view.corpus.get(pid[1], pid[2], pid[3])
        if found is None:
            raise pickle.UnpicklingError(f"no such shared object: {pid!r}")
        return found


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


async def _recv_exact_async(loop: asyncio.AbstractEventLoop, sock: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = await loop.sock_recv(sock, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _child(sock: socket.socket, view: View, by_value: bool = False) -> None:
    """The child's whole life: answer frames until the server's end closes. ``by_value``: the
    server does not share this view's objects, so entries and articles travel as copies."""
    while True:
        header = _recv_exact(sock, _HEADER.size)
        if header is None:
            return
        payload = _recv_exact(sock, _HEADER.unpack(header)[0])
        if payload is None:
            return
        answers: list[tuple[int, bool, Any]] = []
        for request_id, text in pickle.loads(payload):
            try:
                answers.append((request_id, True, view.match(text)))
            except Exception as exc:  # the server decides; the child keeps serving
                answers.append((request_id, False, type(exc).__name__))
        buf = io.BytesIO()
        buf.write(b"\0" * _HEADER.size)
        (pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL) if by_value else _RefPickler(buf, view)).dump(answers)
        frame = buf.getbuffer()
        _HEADER.pack_into(frame, 0, len(frame) - _HEADER.size)
        sock.sendall(frame)
        del frame


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _detach(sock: socket.socket) -> None:
    """A child's first steps: deaf to the server's signals, holding no descriptor of the server's."""
    # The inherited wakeup fd is the server loop's self-pipe: a signal here must not wake it.
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # the server stops us by closing the socket
    keep = sock.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))


def _become_child(sock: socket.socket, view: View) -> None:
    code = 0
    try:
        _detach(sock)
        # Objects made since the server's freeze (a reload's index) would otherwise be scanned
        # and their shared pages copied.
        gc.freeze()
        # The first matches write to the shared pages they touch (reference counts), and the kernel
        # copies each such page: done here, before the child says it is ready, rather than under the
        # first residents' requests (p99 of the first seconds after a start was 0.4-0.7 s).
        view.warm_up()
        _send(sock, _READY)
        _child(sock, view)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _become_preloaded_child(sock: socket.socket, cache_dir: str) -> None:
    """Load the newest knowledge snapshot, say which (its key; "" for none), then serve. Its view is
    its own copy, not the server's: answers go by value."""
    code = 0
    try:
        _detach(sock)
        from knowledge import snapshot  # here, not in the server's start before the fork

        key = snapshot.latest(cache_dir) or ""
        view = snapshot.load(cache_dir, key) if key else None
        if view is None or not callable(getattr(view, "match", None)):
            _send(sock, pickle.dumps(""))
            return
        gc.freeze()  # long-lived: the collector need not rescan them
        _send(sock, pickle.dumps(key))
        _send(sock, _READY)
        _child(sock, view, by_value=True)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


class Preload:
    """The server's handle on a match helper started before the server's own imports (``preload``)."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock

    async def loaded_key(self, timeout: float) -> str | None:
        """The key of the snapshot the helper loaded ("" if none), waiting while it loads, at most
        ``timeout`` seconds; None when it did not say (it died, hung or sent something else). Read on
        the loop, so a shutdown meanwhile is not held up."""
        loop = asyncio.get_running_loop()
        self.sock.setblocking(False)

        async def frame() -> bytes | None:
            header = await _recv_exact_async(loop, self.sock, _HEADER.size)
            return await _recv_exact_async(loop, self.sock, _HEADER.unpack(header)[0]) if header else None

        try:
            payload = await asyncio.wait_for(frame(), timeout)
            key = pickle.loads(payload) if payload is not None else None
        except Exception:  # silent too long, or a damaged frame: a helper not to adopt, never a failed start
            return None
        return key if isinstance(key, str) else None

    def discard(self) -> None:
        """Not adopted: stopped at once (it may still be loading, and holds nothing of the server's)."""
        self.sock.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def preload(cache_dir: str) -> Preload | None:
    """Start the match helper at once, loading the newest knowledge snapshot in ``cache_dir``.

    Called by ``pufa serve`` before it imports the web server and the database layer: on two cores the
    helper's load (~0.6 s of the cold start, jieba's dictionary most of it) then runs beside those
    imports instead of after them. The server adopts the helper (``MatchWorker.adopt``) if the
    snapshot is the one its knowledge base needs, else discards it and starts as without.
    """
    from knowledge import snapshot

    if not cache_dir or snapshot.latest(cache_dir) is None:
        return None
    parent, child = socket.socketpair()
    try:
        pid = os.fork()
    except OSError as exc:
        log.warning("no preloaded match helper (%s)", exc)
        parent.close()
        child.close()
        return None
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        parent.close()
        _become_preloaded_child(child, cache_dir)
    child.close()
    return Preload(pid, parent)


def _reap(pid: int) -> None:
    """Wait briefly for a child that was told to stop (its socket closed), then kill it."""
    deadline = time.monotonic() + 1.0
    while True:
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == 0 and time.monotonic() < deadline:
                time.sleep(0.002)
                continue
            if done == 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        return


class MatchWorker:
    """One child process answering matches for one immutable view."""

    def __init__(self, view: View, *, adopt: Preload | None = None) -> None:
        """Fork a child for ``view``; or, with ``adopt``, take over a preloaded one (its answers come
        by value and resolve to its own copy's objects, equal to the view's)."""
        self.view = view
        if adopt is None:
            parent, child = socket.socketpair()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which never returns
                parent.close()
                _become_child(child, view)
            child.close()
        else:
            pid, parent = adopt.pid, adopt.sock
        self.pid = pid
        self._sock = parent
        self._ids = itertools.count()
        self._outbox: list[tuple[int, str]] = []
        self._waiting: dict[int, tuple[str, asyncio.Future[Match]]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connected: asyncio.Future[None] | None = None
        self._flush_handle: asyncio.Handle | None = None
        self._sent_at: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._retiring = False
        self._ready: asyncio.Event | None = None
        self.failed = False
        self.answered = 0  # matches the child answered

    @property
    def serving(self) -> bool:
        """Whether matches go to the child now (it has connected and warmed up, and not failed)."""
        return not self.failed and self._ready is not None and self._ready.is_set()

    async def ready(self) -> bool:
        """Wait until the child has warmed up (or failed); whether matches now go to it."""
        await self._ensure_connected()
        if self._ready is not None and not self.failed:
            waiting = asyncio.ensure_future(self._ready.wait())
            await asyncio.wait([waiting, *([self._reader_task] if self._reader_task else [])],
                               return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        return not self.failed and self._ready is not None and self._ready.is_set()

    async def _ensure_connected(self) -> None:
        if self._writer is None and not self.failed:
            if self._connected is None:  # one connection, however many ask at once
                self._connected = asyncio.ensure_future(self._connect())
            await self._connected

    async def match(self, text: str) -> Match:
        if self.failed:
            return self.view.match(text)
        loop = asyncio.get_running_loop()
        await self._ensure_connected()
        # Until the child has warmed up, the loop answers.
        if self.failed or self._writer is None or self._ready is None or not self._ready.is_set():
            return self.view.match(text)
        request_id = next(self._ids)
        fut: asyncio.Future[Match] = loop.create_future()
        self._waiting[request_id] = (text, fut)
        self._outbox.append((request_id, text))
        if self._flush_handle is None:
            # Every text asked for in this turn of the loop goes in one frame.
            self._flush_handle = loop.call_soon(self._flush)
        return await fut

    async def _connect(self) -> None:
        self._ready = asyncio.Event()
        reader, self._writer = await asyncio.open_unix_connection(sock=self._sock)
        self._reader_task = asyncio.create_task(self._read(reader))

    def _flush(self) -> None:
        self._flush_handle = None
        if not self._outbox or self.failed or self._writer is None:
            return
        payload = pickle.dumps(self._outbox, protocol=pickle.HIGHEST_PROTOCOL)
        self._outbox = []
        self._writer.write(_HEADER.pack(len(payload)) + payload)
        if self._sent_at is None:
            self._sent_at = time.monotonic()
            self._arm_watchdog()

    def _arm_watchdog(self) -> None:
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().call_later(STALL_SECONDS, self._check_stall)

    def _check_stall(self) -> None:
        self._watchdog = None
        if self._sent_at is None:
            return
        if time.monotonic() - self._sent_at >= STALL_SECONDS:
            self._fail("no answer in time")
        else:
            self._arm_watchdog()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                header = await reader.readexactly(_HEADER.size)
                data = await reader.readexactly(_HEADER.unpack(header)[0])
                answers = _RefUnpickler(data, self.view).load()
                if self._ready is not None and not self._ready.is_set():
                    self._ready.set()  # the first frame: the child has warmed up
                    continue
                # Answers come in order: what is still waiting was sent later, or not yet.
                self._sent_at = time.monotonic() if self._waiting.keys() - {a[0] for a in answers} else None
                for request_id, ok, value in answers:
                    text, fut = self._waiting.pop(request_id, (None, None))
                    if fut is None or fut.done() or text is None:
                        continue
                    if ok:
                        self.answered += 1
                        fut.set_result(value)
                    else:
                        self._answer_here(text, fut)
                if self._retiring and not self._waiting:
                    self.close()
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(type(exc).__name__)

    def _answer_here(self, text: str, fut: asyncio.Future[Match]) -> None:
        """The child could not answer: match in the loop, so an error reaches the handler as before."""
        try:
            fut.set_result(self.view.match(text))
        except Exception as exc:
            fut.set_exception(exc)

    def _fail(self, reason: str) -> None:
        if self.failed:
            return
        self.failed = True
        log.warning("match worker %d failed (%s); matching in the server's loop from now on", self.pid, reason)
        pending, self._waiting, self._outbox = self._waiting, {}, []
        for text, fut in pending.values():
            if not fut.done():
                self._answer_here(text, fut)
        self.close()

    def retire(self) -> None:
        """A newer view took over: finish what was asked, then stop."""
        self._retiring = True
        if not self._waiting:
            self.close()

    def close(self) -> None:
        """Stop the child (it exits when its socket closes) and reap it."""
        for handle in (self._flush_handle, self._watchdog):
            if handle is not None:
                handle.cancel()
        self._flush_handle = self._watchdog = None
        # Shut down at once: the stream writer closes its socket only on a later turn of the loop, and
        # the child, seeing no end of file yet, would be killed after _reap's wait (1 s of blocked loop
        # at every reload and shutdown).
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        else:
            self._sock.close()
        if self._reader_task is not None and self._reader_task is not asyncio.current_task():
            self._reader_task.cancel()
        self._reap()

    def _reap(self) -> None:
        if self.pid <= 0:
            return
        pid, self.pid = self.pid, -self.pid
        _reap(pid)
