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
work shares the machine (during this round other engineers' benchmarks often took a whole core), and the
reference figure for (a) on an idle machine was ≈ 25k req/s.

This round (2026-11-29). Profiled with py-spy and per-thread CPU from /proc, 64 connections, SQLite, every
match computed. What it showed: the server was not CPU-bound but latency-bound. The loop's thread was
busy only ~60–75 % of the time and the server process as a whole used about one core: the loop and the
SQLite writer thread take turns at the GIL. Each request waits for two group commits (claim, complete),
and the batches were ~6 ms apart (median 4.4 ms from queueing to result, of which 0.7 ms SQL). Changes:
- Knowledge matches run in a helper process forked from the server once the index is loaded
  (bot/matchworker.py, `[knowledge] match_process`, default on; ~37 % of the loop's samples before).
  The child shares the index's pages, gets all texts of one loop turn in one frame and answers with
  references to the server's own entries and articles; if it dies or stalls, matching returns to the
  loop. It is a helper, not a second server: one process still serves HTTP and the database.
- SQLite group writes run back to back on the writer thread (no loop round trip between batches), and
  WAL checkpoints run as PASSIVE checkpoints on their own connection and thread (`wal_autocheckpoint=0`
  on the writer's connections only) instead of inside a commit; WAL, synchronous=NORMAL, BEGIN
  IMMEDIATE, busy timeout and foreign keys are unchanged.
- Measured side by side (same script, alternating, 64 connections, a = 17.2k req/s): before
  1,357–1,686 req/s (b/a 0.08–0.10, p99 74–102 ms); after the first two changes 1,830–1,957 req/s (b/a
  0.11, p99 66–68 ms); the same code with the match back on the loop 1,325–1,631 (so the gain is the
  helper process; the writer change alone measured neutral). Setting Python's switch interval to
  0.5 ms gave +8 % in one try, 0.1 ms −16 %: not adopted.

Start-up stall found and fixed: every (b) row's first cell after a start had a p99 of 0.4-0.7 s. py-spy
showed the scheduler's monthly-report job importing the report stack (matplotlib, docx, openpyxl;
≈0.5 s with no bytecode cache, PYTHONDONTWRITEBYTECODE=1 on this machine) on the loop at every start,
before checking whether there was a report to make; it now checks first and imports in a thread. (The
admin's dummy argon2 hash, made at start in a thread, is now a stored constant too.) The match helper
also warms up (every entry's question) before it serves, the loop answering until then.

Where the targets stand (table above, 2026-11-29, after all of this round's changes, with this round's
knowledge base: 471 entries, the law tier and an everyday-message feature computed for every message):
cold start met (1.3 s). SQLite with every match computed, match helper on (the default): 2,585 req/s at 64
connections, p99 40 ms (target < 50 ms: met), b/a 0.149 at 64 connections (shown rounded as 0.15; the run
before this one, without the dispatcher change, gave 0.14) and 0.10 at 16: the b/a target is at the edge at
64 connections, not met at 16. With repeated texts remembered (the default memory) b/a 0.16 at 64, p99 30 ms.
The same server with matches in its own process ([knowledge] match_process = false, the last rows): b/a
0.07, p99 80 ms — the p99 target is met with one server process plus its match helper, not with the
server process alone. PostgreSQL 840 req/s at 64 (b/a 0.05). The dispatcher's filters no longer pay an
awaitable check and a coroutine each (side by side, alternating twice: 2,438-2,532 vs 2,404-2,461 req/s,
within noise).
What is left is the GIL shared by the loop (aiohttp's request handling and writes, XML, dispatch,
rendering — each a few percent) and the writer thread's Python per statement; the next levers are
fewer GIL hand-offs per batch (statements of one kind executed together), cheaper per-request code in
the dispatcher (each command filter re-normalises the text), and no timers per request (body read and
reply budget). PostgreSQL got the helper process only; its group writes still go back to the loop
between batches.

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
               match_process: bool = True) -> tuple[subprocess.Popen[bytes], float]:
    env = {**os.environ, "PUFA_KNOWLEDGE_MATCH_PROCESS": "true" if match_process else "false",
           "PUFA_DATABASE_URL": db_url, "PUFA_PORT": str(port), "PUFA_WECHAT_TOKEN": TOKEN,
           "PUFA_WECHAT_APPID": APPID, "PUFA_DEMO_MODE": "off", "PUFA_LOGGING_LEVEL": "WARNING",
           "PUFA_KNOWLEDGE_CACHE_DIR": str(workdir / "cache"), "PUFA_PRIVACY_OPENID_SALT": "bench",
           "PUFA_KNOWLEDGE_MATCH_MEMORY": str(match_memory)}
    pufa = str(Path(sys.executable).parent / "pufa")
    subprocess.run([pufa, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([pufa, "kb", "import"], env=env, check=True, capture_output=True)
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
    return proc, time.monotonic() - started


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
            proc, cold[name] = start_pufa(port, url, work, memory, helper)
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
    lines += [f"- {name}: {seconds:.2f} s" for name, seconds in cold.items()]
    lines += ["", NOTES]
    text = "\n".join(lines)
    print(text)
    write_section("Webhook", text)


if __name__ == "__main__":
    main()
