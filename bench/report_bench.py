"""Report figures on a big database: 1,000,000 message-log rows and 10,000 pushes over two years.

Builds the database through the real migrations (bulk inserts in chunks), then times ``compute`` for a
month and a year (all figures: questions, topics, keyword groups, followers, 留言, pushes, campaigns,
ledger) and prints the query plans of every statement the figures run.

    .venv/bin/python -m bench.report_bench [--rows 1000000] [--pushes 10000] [--postgres URL] [--write]

Targets (issue 5): one month < 1 s and one year < 3 s on SQLite. ``--write`` updates the
"## Reports" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.report import write_section
from bot.config import ReportsSettings
from bot.db.migrate import upgrade
from bot.db.models import InboundMessage, KbEntry, StaffMessage
from bot.db.session import create_engine, create_sessionmaker
from reports import period
from reports.figures import compute
from reports.models import LedgerActivity
from scheduler.models import Post, PushAttempt

START = datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=8)  # 2025-01-01 00:00 Beijing
SPAN = timedelta(days=730)
CHUNK = 20_000
TOPICS = ["labor", "marriage", "inheritance", "land", "fraud", "consumer", "traffic", "neighbour", "elderly",
          "drugs", "contract", "legal_aid", "constitution", "security", "debt"]
OUTCOMES = (["answered"] * 50 + ["ambiguous"] * 8 + ["no_match"] * 10 + ["failed"] * 1 + ["command"] * 10
            + ["subscribe"] * 6 + ["unsubscribe"] * 2 + ["ignored"] * 13)
KEYWORDS = [f"词{i}" for i in range(200)]


def message_rows(n: int, rng: random.Random) -> Iterator[list[dict[str, Any]]]:
    entries = [f"{t}-q{i}" for t in TOPICS for i in range(8)]
    chunk: list[dict[str, Any]] = []
    span = SPAN.total_seconds()
    for i in range(n):
        at = START + timedelta(seconds=span * i / n + rng.random())
        kind = rng.choice(OUTCOMES)
        row: dict[str, Any] = {
            "account": "gh_bench", "dedup_key": f"m{i}", "openid_hash": f"{rng.randrange(40_000):032x}",
            "msg_type": "text", "event": None, "text": "问题", "received_at": at, "state": "done",
            "outcome": kind, "entry_id": None, "keywords": None, "latency_ms": rng.randrange(5, 400),
        }
        if kind in ("subscribe", "unsubscribe"):
            row.update(msg_type="event", event=kind.upper(), text=None, outcome="event")
        elif kind == "answered":
            row["entry_id"] = rng.choice(entries) if rng.random() < 0.85 else None
        elif kind == "no_match":
            row["keywords"] = rng.sample(KEYWORDS[: rng.choice((20, 200))], rng.randrange(0, 3))
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def push_rows(n: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    posts: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for pid in range(1, n + 1):
        at = START + SPAN * (pid / n)
        channel = "wechat" if pid % 3 else "dingtalk"
        outcome = rng.choices(["ok", "retry_ok", "failed", "interrupted_ok"], [90, 6, 2, 2])[0]
        posts.append({"id": pid, "idem_key": f"b{pid}", "title": f"推送{pid}", "digest": "", "body": "正文",
                      "channel": channel, "audience": "all", "campaign": None, "send_at": at, "due_at": at,
                      "state": "failed" if outcome == "failed" else "sent", "attempts": 1,
                      "sent_count": rng.randrange(100, 3000) if channel == "wechat" else None,
                      "created_by": "bench", "created_at": at, "updated_at": at})
        plan = {"ok": ["sent"], "retry_ok": ["retry", "sent"], "failed": ["failed"],
                "interrupted_ok": ["interrupted", "already_sent"]}[outcome]
        for no, result in enumerate(plan, 1):
            t = at + timedelta(minutes=2 * (no - 1))
            attempts.append({"post_id": pid, "channel": channel, "attempt": no, "started_at": t,
                             "finished_at": t, "outcome": result})
    return posts, attempts


async def generate(engine: AsyncEngine, rows: int, pushes: int) -> float:
    rng = random.Random(5)
    t0 = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(insert(KbEntry.__table__), [
            {"id": f"{t}-q0", "topic_key": t, "topic": t, "question": "q", "answer": "a", "similar": [],
             "keywords": [], "citations": [], "tags": [], "contacts": [], "status": "published",
             "updated_at": START} for t in TOPICS])
    for chunk in message_rows(rows, rng):
        async with engine.begin() as conn:
            await conn.execute(insert(InboundMessage.__table__), chunk)
    posts, attempts = push_rows(pushes, rng)
    async with engine.begin() as conn:
        for i in range(0, len(posts), CHUNK):
            await conn.execute(insert(Post.__table__), posts[i:i + CHUNK])
        for i in range(0, len(attempts), CHUNK):
            await conn.execute(insert(PushAttempt.__table__), attempts[i:i + CHUNK])
        staff = []
        for i in range(5000):
            at = START + SPAN * (i / 5000)
            staff.append({"account": "gh_bench", "openid": f"o{i}", "openid_hash": f"h{i}", "text": "留言",
                          "created_at": at, "last_inbound_at": at,
                          "replied_at": at + timedelta(hours=rng.randrange(1, 72)) if i % 4 else None})
        await conn.execute(insert(StaffMessage.__table__), staff)
        kinds = ReportsSettings().activity_type_list
        await conn.execute(insert(LedgerActivity.__table__), [
            {"day": date(2025, 1, 1) + timedelta(days=i % 730), "kind": kinds[i % len(kinds)], "place": "",
             "organiser": "", "participants": 50, "materials": 30, "notes": "", "photos": [],
             "created_by": "bench", "created_at": START, "updated_at": START} for i in range(600)])
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
    return time.perf_counter() - t0


async def time_compute(engine: AsyncEngine, p: period.Period, runs: int = 5) -> tuple[float, list[float]]:
    sessions = create_sessionmaker(engine)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        async with sessions() as s:
            await compute(s, p, ReportsSettings())
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


async def plans(engine: AsyncEngine, p: period.Period) -> list[tuple[str, str]]:
    """Each statement ``compute`` runs, with the plan the database chose for it."""
    captured: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        async with create_sessionmaker(engine)() as s:
            await compute(s, p, ReportsSettings())
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
    out = []
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        for statement, params in captured:
            if engine.dialect.name == "sqlite":
                cur = await raw.driver_connection.execute("EXPLAIN QUERY PLAN " + statement, params)
                rows = await cur.fetchall()
                plan = "\n".join(f"{r[3]}" for r in rows)
            else:
                rows = await raw.driver_connection.fetch("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement,
                                                         *params)
                plan = "\n".join(r[0] for r in rows)
            out.append((" ".join(statement.split())[:160], plan))
    return out


async def run(url: str, rows: int, pushes: int, fresh: bool) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        if engine.dialect.name == "postgresql" and fresh:
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        gen = await generate(engine, rows, pushes) if fresh else 0.0
        month, year = period.month("2026-11"), period.year("2026")
        m_med, m_all = await time_compute(engine, month)
        y_med, y_all = await time_compute(engine, year)
        return {"dialect": engine.dialect.name, "generate_s": gen, "month": (m_med, m_all),
                "year": (y_med, y_all), "plans": await plans(engine, year)}
    finally:
        await engine.dispose()


def section(results: list[dict[str, Any]], rows: int, pushes: int) -> str:
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()} with {os.cpu_count()} cores "
        f"(`python -m bench.report_bench --write`): {rows:,} message-log rows and {pushes:,} pushes "
        "(with retries and interrupted attempts) over 2025–2026, 5,000 留言, 600 ledger activities. "
        "Times are `reports.figures.compute` for every figure of the period (median of 5 runs).",
        "",
        "| database | generate | month 2026-11 | year 2026 | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(f"| {r['dialect']} | {r['generate_s']:.0f} s | {r['month'][0] * 1000:.0f} ms | "
                     f"{r['year'][0] * 1000:.0f} ms | month < 1 s, year < 3 s |")
    for r in results:
        lines += ["", f"### Query plans relied on ({r['dialect']}, year 2026)", ""]
        for statement, plan in r["plans"]:
            lines += [f"`{statement}…`", "", "```", plan, "```", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pushes", type=int, default=10_000)
    ap.add_argument("--sqlite", help="SQLite file to (re)use; default a temporary file")
    ap.add_argument("--reuse", action="store_true", help="the database is already generated")
    ap.add_argument("--postgres", help="also run on this PostgreSQL URL (its public schema is dropped!)")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    path = Path(args.sqlite or Path(tempfile.mkdtemp()) / "bench.db")
    if not args.reuse:
        path.unlink(missing_ok=True)
    results = [asyncio.run(run(f"sqlite+aiosqlite:///{path}", args.rows, args.pushes, not args.reuse))]
    if args.postgres:
        results.append(asyncio.run(run(args.postgres, args.rows, args.pushes, not args.reuse)))
    for r in results:
        print(json.dumps({k: v for k, v in r.items() if k != "plans"}, default=str))
        for statement, plan in r["plans"]:
            print("  ", statement, "\n     ", plan.replace("\n", "\n      "))
    if args.write:
        write_section("Reports", section(results, args.rows, args.pushes))


if __name__ == "__main__":
    main()
