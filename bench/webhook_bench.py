"""Webhook throughput and latency: (a) bare aiohttp vs (b) `pufa serve` end to end, one run.

Load comes from wrk in a second process on loopback. Each request is a signed plaintext text
message with a unique MsgId (so every request takes the full path: verify, parse, dedup insert,
answer, log, reply). Also measures cold start (process start -> first correct answer).

    .venv/bin/python -m bench.webhook_bench [--duration 10] [--postgres URL]

Writes the "## Webhook" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.report import write_section
from bot.wechat import signature

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchtoken"
APPID = "wxbench0000000001"
PACKAGES = ["bot", "handlers", "knowledge", "scheduler", "sandbox", "admin", "reports"]  # as in the Makefile
QUESTIONS = ["老板欠我工钱不给咋办", "离婚了娃儿归哪个", "网上买的东西不想要了能退吗", "邻居家狗咬了我咋办",
             "承包地被村里收回了", "你好"]

LUA = r"""
local counter = 0
local questions = {%(questions)s}
local template = "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBench%%08d]]></FromUserName><CreateTime>%(ts)s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%%s]]></Content><MsgId>%%d</MsgId></xml>"
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  base = tid * 1000000000 + %(run)d * 100000000000
end
function request()
  counter = counter + 1
  local q = questions[(counter %% #questions) + 1]
  local body = string.format(template, counter %% 5000, q, base + counter)
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "text/xml"}, body)
end
"""


NOTES = """Targets (issue 2): p99 < 50 ms at 64 connections in one process, b/a ≥ 0.15 on SQLite, cold start
< 2 s. Read the ratios, not the absolute numbers: on this 2-core machine wrk itself takes one core, other
work shares the machine, and the machine's speed varies from day to day — the reference figure for (a)
on an idle machine was ≈ 25k req/s, 16–17k on 2026-11-29 morning, 6–8k later the same day.

Ninth session of 2026-11-30 (03:08 UTC on; the table above is this session's run, 05:10–05:15 UTC, on
the slowest host of these days — the VM's steal time was a few per cent even idle: bare aiohttp 7.2k
req/s at 64 connections, 10.1k in a check at 03:12 UTC, 18–22k the session before. Every absolute
figure suffers: p99 at 64 connections 239 ms, cold start 2.2 s (0.93 s in the eighth session's run; the
< 2 s target is missed in this run only); b/a 0.09 / 0.07 with every match computed, 0.19 / 0.13 with
repeats remembered.)
Nothing on the webhook's path was made faster this session; the match now reads voice slips back
(+7 % of a match side by side, docs/benchmarks.md "Knowledge base"). Per request at 64 connections
(CPU time read from /proc over a 6-s cell, 835 req/s): the server 0.90 ms, the match helper 0.73 ms
(0.54 ms of it the match itself, the rest the socket and pickling), with wrk on the same two cores —
the two processes' CPU per request, not waiting, bounds (b). Answering by reference instead of by value
from the preloaded helper (entry ids rather than pickled entries) was measured at 39 against 58 µs per
match for the pickling and unpickling, ≈ 1 % of a request: not done. **b/a ≥ 0.15 is not met.**

Eighth session of 2026-11-30 (00:21 UTC on; that session's run, 01:30 UTC, on a
host slower than the seventh session's: (a) 18–22k req/s against 28–33k, cold start 0.93 s against
0.70 s). A text reply is now stored once, as text; a retry's XML is rebuilt from it and the completion
time, byte for byte (tested with a retry a second later). Before, each message's row gained its reply
twice at completion (≈ 1.0 KB of text and 1.2 KB of XML, on 4 KB pages). Side by side, alternating,
three rounds of 6-s cells, every match computed: 1,734 / 1,939 req/s at 16 / 64 connections before,
1,819 / 2,096 after (+5 / +8 %, inside the ±15 % between rounds: 1,517–1,865 before at 16). On this
host b/a is 0.10 / 0.10 with every match computed and 0.11 / 0.11 with repeats remembered — **b/a ≥ 0.15
is not met** — and p99 at 64 connections was 53 ms in the table's run (45–58 ms over six cells side by
side this session; 38 ms with repeats remembered): the 50 ms target is met only in the faster runs on
this host. py-spy at 64 connections (loop thread, self time) as in the seventh session: SQLite
statements and commits ~16 %, socket writes to wrk and to the match helper ~10 %, the rest spread over
aiohttp's request path, the webhook's parse and the dispatcher, no single hot spot left.

Seventh session of 2026-11-29 (21:25 UTC on; that session's run, 22:30 UTC, on an
AMD EPYC host with the machine otherwise idle: (a) 28–33k req/s, above the 25k reference). With every
match computed the p99 < 50 ms target at 64 connections holds (27 ms; 29–38 ms in three side-by-side
rounds earlier), cold start 0.70 s; b/a is 0.10 / 0.12 at 16 / 64 connections (0.09–0.12 over six cells
side by side), 0.14 with repeats remembered: the target 0.15 is not met on this host, where (a) is a third
faster than the reference while (b) is bound by SQLite. py-spy under load at 64 connections, loop thread:
the SQLite group writes take ~50 % (claims ~23 %, completions ~14 %, commits ~11 %; a batch holds 4–6
writes on average), the aiohttp request path ~16 %, the webhook's parse ~9 %, the dispatcher ~11 %, the
match helper's replies ~8 %. Tried and not kept (side by side, alternating, same minutes): flushing the
group writes 1 ms later for bigger batches (+15 % at 64 connections, −15 % at 16), or one or two loop
turns later (no difference beyond the ±15 % noise between rounds), or the claims of a batch as one
multi-row `INSERT … RETURNING` on SQLite (16 / 64 connections, three rounds: 2,640–2,766 / 3,486–3,714
req/s against 2,863–2,949 / 3,685–3,823 one statement per claim). What would move (b) is fewer written
bytes per message — at completion each message's row gains its reply twice (the text for the staff
pages, ≈ 1.0 KB on average in this run, and the XML kept to answer WeChat's retries identically,
≈ 1.2 KB) on 4 KB pages — not attempted this session.

Sixth session of 2026-11-29 (18:33–20:45 UTC; that session's run, on a host
about 2.5× faster than the fifth session's: (a) 17–19k req/s, cold start 0.85 s). PostgreSQL: the
claims and completions of one group-write batch now run as set-based statements — one
`INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING RETURNING` for the claims, one `SELECT … = ANY(…)`
each for the attempts that lost and for the winners' conversations, and the completions as one
pipelined `executemany` per statement (bot/journal.py `_Claims`, `_Completes`; array parameters, so
one SQL text whatever the batch size and no re-prepare). Before, every message cost two or three round
trips, and py-spy showed ~30 % of the loop's samples in socket writes to PostgreSQL and another ~30 %
idle in `select` waiting for it. Side by side, alternating, same minutes (other work on the machine):
64 connections 344 / 266 req/s before → 404 / 621 / 567 after; at 16 connections, where a batch holds
a few messages, no difference beyond noise (277 / 278 vs 215 / 328 / 261). The table's PostgreSQL row
(1,202 req/s at 64 connections, p99 74 ms) is from the quieter, faster minutes of the full run. SQLite
is unchanged (its statements already run in-process on the loop). uvloop was tried as the server's
loop and not kept: the server process's CPU per request, read from /proc over the same 6-s cells,
alternating, three rounds: asyncio 0.41 / 0.42 / 0.42 ms, uvloop 0.41 / 0.40 / 0.52 ms. At 64
connections the server's samples are ~33 % in the `send` of responses (to wrk) and of match requests
(to the helper) — each a system call that wakes another process on this VM — ~19 % in the SQLite group
writes, and the rest in aiohttp's request path and the webhook code. On this host p99 < 50 ms at 64
connections is met only with repeated texts remembered (34 ms; every match computed: 64 ms), and b/a is
0.08 with every match computed, 0.15 with repeats remembered: (a) gained from the faster host far more
than (b), whose every request wakes other processes several times.

Fifth session of 2026-11-29 (16:10–19:00 UTC; its run: SQLite 790–1,090 req/s at 64 connections). Cold start:
`pufa serve` now forks the match helper before it imports anything heavy, and the helper loads the
knowledge snapshot (≈ 0.65 s, jieba's dictionary most of it) while the server imports aiohttp and
SQLAlchemy (≈ 1.3 s here); the server adopts it when the snapshot is the one its entries need and keeps
only the entries itself, so it no longer imports the engine (numpy, jieba) at all unless it must load
its own copy (bot/matchworker.py `preload`, knowledge/view.py `DeferredView`). Side by side, alternating,
four rounds each: before (a0bec0a) 2.21 / 2.50 / 2.61 / 2.46 s to the first correct answer (helper
serving after 2.9–3.3 s), after 1.69 / 1.78 / 1.64 / 1.42 s (helper serving at once). The first cell of
each row after a start had a p99 of ~330 ms at 16 connections: the scheduler's first pass read and
decoded every entry for the campaign drafts inside a write transaction, and on SQLite that holds the
write lock the residents' message log needs; read in a read-only transaction now (6-s cell right after a
start: p99 332 → 43–46 ms). The p99 < 50 ms target at 64 connections is still not met on this host
(86–139 ms in this session's runs, at 790–1,090 req/s: at 64 connections p50 is 64 / throughput, so
the target needs ≈ 1.5× this throughput), nor b/a ≥ 0.15 in this session's two full runs (0.13 and
0.12 at 64 connections; 0.15–0.23 in earlier runs on this host kind: (a) moved from 6.1k to 8.7k req/s
between the two runs, b much less); the loop's samples under that load: SQLite group writes 27 % (the
two statements per message, ~14 % executing SQL), the aiohttp request path ~18 %, the webhook's parse
and the dispatcher ~12 %. The preloaded helper's answers travel by value (~21 µs to unpickle a match
against ~14 µs by reference: under 1 % of the loop at these rates). Without the helper
(`match_process = false`) nothing is preloaded: that row's cold start is the old path.

Third session of 2026-11-29 (11:20 UTC; the table above is this run): no change on the webhook path
but one at start-up — jieba is imported without setuptools' pkg_resources (it used it only to open its own
files; the import scanned every installed distribution, ≈ 0.1 s CPU in isolation, knowledge/jieba_loader.py).
The host was slower than in the afternoon before (≈ 900 req/s at 64 connections vs 1.1–1.3k). Side by side,
yesterday's code (7bc5847) against this session's (knowledge changes included), alternating, three rounds,
SQLite, every match computed, 64 connections, 6 s: 851 / 891 / 1,070 vs 924 / 915 / 877 req/s, p99 99 / 100 /
99 vs 114 / 100 / 112 ms, cold start 2.24 / 2.95 / 2.36 vs 2.30 / 2.07 / 2.20 s — no difference beyond the
noise. The targets p99 < 50 ms at 64 connections and cold start < 2 s are not met on this host (they were on
the faster host of 2026-11-29 morning: 40 ms, 1.5 s).

This round (2026-11-29, later). The SQLite group writes now run on the event loop itself when SQLite's
write lock is free at once (`DbRunner.write_on_loop`, busy timeout 0 on that connection); while
another connection holds the lock the queue goes to the writer thread, which waits for it and hands
the queue back when empty (tests/integration/test_storage.py checks that the loop keeps running and
the order holds). py-spy before: the loop thread spent ~8 % in ThreadPoolExecutor.submit alone and
the writer thread ~30 % of the process's samples, i.e. thread wake-ups and GIL hand-offs, not SQL.
After: the writes take ~24 % of the loop thread (SQL ~15 %, commit ~5 %) and there is no writer thread
on the hot path. Side by side (same script, alternating, two rounds, every match computed, 6 s cells):
before 635–751 req/s at 16 connections and 741–1,038 at 64 (b/a 0.10–0.12 / 0.11–0.16); after 987–1,104
and 1,121–1,333 (b/a 0.15–0.17 / 0.17–0.20), p99 at 64 connections 96–142 → 81–85 ms on that slow
machine. Tried and dropped in the same runs: recording the answer after the passive reply instead of
before (no measurable change: the second write was not the cost, the hand-offs were).

The load starts once /healthz says the match helper serves ("matching": "helper"). Until the fifth
session a helper forked after the start warmed up with every entry's question first, the loop answering
meanwhile (seconds on a slow machine); the preloaded helper serves from the first message. The time
until the helper serves is shown beside the cold start.
`make run` byte-compiles the project before `pufa serve` (this machine kind sets
PYTHONDONTWRITEBYTECODE: compiling our modules at every start cost ≈ 0.2 s of the cold start), and
so does this benchmark before it starts the server. `pufa serve` checks the schema revision with one
query against a constant (tested equal to Alembic's head) instead of importing Alembic (≈ 0.1–0.2 s).
The run before the schema-check change (already byte-compiled), same slow host: cold start 1.67–2.03 s.
Run to run on this host the figures moved by ±40 % within minutes (three full runs, 08:15–09:10 UTC,
same code but for the schema check): SQLite with every match computed b/a 0.15 / 0.17, 0.12 / 0.15 and
0.23 / 0.22 at 16 / 64 connections; p99 at 64 connections 87, 90 and 77 ms; cold start 2.03, 2.49 and
1.76 s. The table is the last run; the side-by-side comparisons above (alternating, same minutes) are
the ones to judge changes by.

Earlier this day (first round): knowledge matches moved to a helper process forked from the server
(bot/matchworker.py, `[knowledge] match_process`, default on; ~37 % of the loop's samples before),
WAL checkpoints (PASSIVE) on their own connection and thread, the start-up stall (the monthly-report job
importing matplotlib on the loop) fixed, dispatcher filters without a per-filter awaitable check. Without
the match helper (the last rows, `match_process = false`) every match is computed on the loop.

Earlier rounds (2026-11-28): match memory, statements compiled once on SQLite, gc.freeze() after the
knowledge base loads (p99 ~200 → ~55 ms), the index snapshot and lazy imports for the cold start.

Cold start counts from process start to the first correct answer, after `pufa kb import` (part of
`make run`), which fills the analysis cache and writes the index snapshot."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def signed_path() -> str:
    ts, nonce = str(int(time.time())), "12345"
    return f"/wechat?signature={signature.sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def first_answer(port: int) -> bool:
    body = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>oCold</FromUserName><CreateTime>"
        f"{int(time.time())}</CreateTime><MsgType>text</MsgType><Content>老板欠我工钱不给咋办</Content>"
        f"<MsgId>{time.time_ns() % 10**15}</MsgId></xml>"
    ).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{signed_path()}", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return "《" in resp.read().decode()
    except OSError:
        return False


def run_wrk(wrk: str, port: int, connections: int, duration: int, run: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % {"questions": ",".join(f'"{q}"' for q in QUESTIONS), "ts": int(time.time()),
                       "run": run, "path": signed_path()})
        script = f.name
    out = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script,
         f"http://127.0.0.1:{port}/wechat"],
        capture_output=True, text=True, check=True,
    ).stdout
    os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "non2xx": float(errors.group(1)) if errors else 0}


def start_pufa(port: int, db_url: str, workdir: Path, match_memory: int,
               match_process: bool = True) -> tuple[subprocess.Popen[bytes], float, float]:
    env = {**os.environ, "PUFA_KNOWLEDGE_MATCH_PROCESS": "true" if match_process else "false",
           "PUFA_DATABASE_URL": db_url, "PUFA_PORT": str(port), "PUFA_WECHAT_TOKEN": TOKEN,
           "PUFA_WECHAT_APPID": APPID, "PUFA_DEMO_MODE": "off", "PUFA_LOGGING_LEVEL": "WARNING",
           "PUFA_KNOWLEDGE_CACHE_DIR": str(workdir / "cache"), "PUFA_PRIVACY_OPENID_SALT": "bench",
           "PUFA_KNOWLEDGE_MATCH_MEMORY": str(match_memory)}
    pufa = str(Path(sys.executable).parent / "pufa")
    subprocess.run([pufa, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([pufa, "kb", "import"], env=env, check=True, capture_output=True)
    # As `make run` does before `pufa serve`.
    subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=ROOT, check=True, capture_output=True)
    started = time.monotonic()
    proc = subprocess.Popen([pufa, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not first_answer(port):
        if proc.poll() is not None:
            raise RuntimeError("pufa serve exited")
        if time.monotonic() - started > 60:
            proc.terminate()  # do not leave a server behind on the shared machine
            proc.wait()
            raise RuntimeError("pufa serve did not answer")
        time.sleep(0.02)
    return proc, time.monotonic() - started, started


def wait_for_matching(port: int, started: float, timeout: float = 30) -> float | None:
    """Seconds from process start until /healthz says where matches run for good ("helper" or
    "loop"): the load starts after the match helper's warm-up, which cold start (first answer) does
    not wait for — the loop answers meanwhile. None if still warming after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            if json.loads(resp.read()).get("matching") != "warming":
                return time.monotonic() - started
        first_answer(port)  # the helper connects on the first match
        time.sleep(0.05)
    return None


def reset_postgres(url: str) -> None:
    database = url.rsplit("/", 1)[1]
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    exists = subprocess.run([*psql, "-d", "postgres", "-tAc",
                             f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not exists:
        subprocess.run([*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{database}"'], check=True)
    subprocess.run([*psql, "-d", database, "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    # Its own database: the benchmark drops and recreates the schema, so never the tests' one.
    parser.add_argument("--postgres", default=os.environ.get("PUFA_BENCH_POSTGRES",
                                                             "postgresql+asyncpg://postgres@127.0.0.1:5432/pufa_bench"))
    args = parser.parse_args()
    wrk = ensure_wrk()
    results: dict[str, dict[int, dict[str, float]]] = {}
    cold: dict[str, float] = {}
    warm: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        bare = subprocess.Popen([sys.executable, "-m", "bench.bare_server", str(port)], cwd=ROOT)
        wait_http(f"http://127.0.0.1:{port}/wechat")
        results["a: bare aiohttp"] = {c: run_wrk(wrk, port, c, args.duration, 1 + i)
                                      for i, c in enumerate((16, 64))}
        bare.terminate()
        bare.wait()
        # The request stream repeats six texts: with the match memory on, every match after the first
        # six would be remembered, which real traffic does not do. So the main rows compute every
        # match ([knowledge] match_memory = 0); one row shows the default with repeats remembered.
        sqlite = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        targets = [("b: pufa serve, SQLite", sqlite, 0, True)]
        if args.postgres:
            targets.append(("b: pufa serve, PostgreSQL", args.postgres, 0, True))
        targets.append(("b: pufa serve, SQLite, repeated texts remembered", sqlite, 4096, True))
        # The same with matches in the server's own process ([knowledge] match_process = false).
        targets.append(("b: pufa serve, SQLite, no match helper process", sqlite, 0, False))
        for run, (name, url, memory, helper) in enumerate(targets, 3):
            if url.startswith("postgresql"):
                reset_postgres(url)
            port = free_port()
            proc, cold[name], started = start_pufa(port, url, work, memory, helper)
            if helper:
                warm[name] = wait_for_matching(port, started)
            try:
                results[name] = {c: run_wrk(wrk, port, c, args.duration, run * 10 + i)
                                 for i, c in enumerate((16, 64))}
            finally:
                proc.terminate()
                proc.wait()
    base = results["a: bare aiohttp"]
    lines = [
        f"Measured {dt.date.today().isoformat()} on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.platform()}. wrk -t2 (a second process on loopback, sharing the 2 cores), "
        f"{args.duration} s per cell; each request a signed text message with a unique MsgId.",
        "",
        "| target | conns | req/s | p50 ms | p99 ms | non-2xx | ratio to (a) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, by_conn in results.items():
        for c, r in by_conn.items():
            lines.append(f"| {name} | {c} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                         f"{r['non2xx']:.0f} | {r['rps'] / base[c]['rps']:.2f} |")
    lines += ["", "Cold start (process start → first correct answer, knowledge base imported):", ""]
    lines += [f"- {name}: {seconds:.2f} s" + (
        f"; match helper serving after {warm[name]:.2f} s (the load starts then)" if warm.get(name) else "")
        for name, seconds in cold.items()]
    lines += ["", NOTES]
    text = "\n".join(lines)
    print(text)
    write_section("Webhook", text)


if __name__ == "__main__":
    main()
