"""Knowledge-base benchmark: build time, query latency (p50/p99), memory, cold start.

    python bench/kb_bench.py [--sizes 1000,10000,100000] [--queries 1000] [--write-docs]

Each size runs in its own process so that its memory is measured alone. Beyond the real entries the
entries are synthetic: words drawn from the law texts with their real frequencies, shaped like real
entries (question, 4 similar phrasings, 3 keywords, a 120-word answer, the citations of a real entry).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge import snapshot  # noqa: E402
from knowledge.engine import KnowledgeBase  # noqa: E402
from knowledge.entries import Entry, load_entries  # noqa: E402
from knowledge.evaluate import load_dev  # noqa: E402
from knowledge.laws import LawCorpus  # noqa: E402
from knowledge.tokenizer import Tokenizer  # noqa: E402

SECTION = "## Knowledge base"
LAWS = ROOT / "knowledge" / "data" / "laws"
ENTRIES = ROOT / "knowledge" / "data" / "entries"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synthetic(real: list[Entry], corpus: LawCorpus, n: int, seed: int = 7) -> list[Entry]:
    if n <= len(real):
        return real[:n]
    rng = random.Random(seed)
    # Two-character chunks of article text stand in for words: what jieba makes of them is realistic.
    words = [m for a in corpus.articles() for m in re.findall(r"[\u4e00-\u9fff]{2}", a.text)]

    def phrase(k: int) -> str:
        return "".join(rng.choice(words) for _ in range(k))

    out = list(real)
    for i in range(n - len(real)):
        base = real[i % len(real)]
        out.append(replace(base, id=f"synthetic-{i}", question=phrase(rng.randint(4, 8)) + "？",
                           similar=tuple(phrase(rng.randint(4, 9)) for _ in range(4)),
                           keywords=tuple(rng.choice(words) for _ in range(3)), answer=phrase(120)))
    return out


def queries(count: int) -> list[str]:
    qs = [i.q for i in load_dev(ROOT / "knowledge" / "eval" / "resident.jsonl")]
    rng = random.Random(3)
    return [rng.choice(qs) for _ in range(count)]


def measure(size: int, n_queries: int, cache_dir: str) -> dict[str, float]:
    corpus = LawCorpus.load(LAWS)
    entries = synthetic(load_entries(ENTRIES), corpus, size)
    tokenizer = Tokenizer(cache_dir=cache_dir)
    tokenizer.warm_up()
    start = time.perf_counter()
    kb = KnowledgeBase.build(entries, corpus, tokenizer=tokenizer)
    build = time.perf_counter() - start
    del entries
    gc.collect()
    qs = queries(n_queries)
    for q in qs[:50]:
        kb.match(q)
    times = []
    for q in qs:
        t = time.perf_counter()
        kb.match(q)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    rss = rss_mb()
    snapshot.save(kb, cache_dir, f"bench-{size}")
    return {"entries": size, "build_s": build, "p50_ms": statistics.median(times),
            "p99_ms": times[int(0.99 * (len(times) - 1))], "max_ms": times[-1], "rss_mb": rss}


def measure_loaded(size: int, cache_dir: str) -> dict[str, float]:
    """What `pufa serve` does after `pufa kb import`: load the snapshot instead of building."""
    start = time.perf_counter()
    kb = snapshot.load(cache_dir, f"bench-{size}")
    assert isinstance(kb, KnowledgeBase), "snapshot did not load"
    load = time.perf_counter() - start
    for q in queries(50):
        kb.match(q)
    return {"load_s": load, "rss_loaded_mb": rss_mb()}


# As the server starts: the snapshot when there is one for these inputs, else a build that writes it.
COLD = """
import sys, time
t0 = float(sys.argv[1]); sys.path.insert(0, sys.argv[2])
from pathlib import Path
from knowledge import snapshot
from knowledge.engine import KnowledgeBase
from knowledge.entries import load_entries
from knowledge.laws import LawCorpus
from knowledge.tokenizer import Tokenizer
root = sys.argv[2] + "/knowledge/data"
entries = load_entries(root + "/entries")
key = snapshot.fingerprint(entries, [Path(root + "/laws")])
kb = snapshot.load(sys.argv[3], key)
if not isinstance(kb, KnowledgeBase):
    kb = KnowledgeBase.build(entries, LawCorpus.load(root + "/laws"), tokenizer=Tokenizer(cache_dir=sys.argv[3]))
    kb.match("你好")
    snapshot.save(kb, sys.argv[3], key)
kb.match("老板欠我工钱不给咋个办")
print(time.time() - t0)
"""


def cold_start(cache_dir: str) -> float:
    out = subprocess.run([sys.executable, "-c", COLD, str(time.time()), str(ROOT), cache_dir],
                         check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


NOTES = """This run (2026-11-29 08:30 UTC) was on an AMD EPYC host that ran everything about 2.2× slower than
the Intel Xeon host of the morning run (build 10.3 vs 4.8 s at 1k, 41.5 vs 18.4 s at 10k; the webhook
benchmark's bare aiohttp 6.9–7.4k vs 16–17k req/s the same day): p99 at 10k 3.56 ms misses the 2 ms
target here; the morning run on the Xeon measured 1.36 / 1.69 / 2.69 ms at 1k / 10k / 100k with the same
index and ranking (since then only the legal-question model, computed when no entry is confident:
side by side over the dev questions on this host, p50 0.66 vs 0.64 ms and p99 2.4 vs 2.4 ms with it
and without it, i.e. within noise). The 100k target (10 ms) and the RSS target (486 MB < 500) hold on both hosts.

Changes of 2026-11-29, measured side by side at 10k entries (same machine, quiet, one process,
1000 queries; before = the commit before the change): a query now sums its terms' postings in numpy into
one dense score vector per index and takes the best k by partition, and the article bonus of every
entry is one vectorised gather (the per-posting Python loop and `heapq.nlargest` over thousands of
(score, document) pairs were most of a query): match p50 1.10 → 0.51 ms, p99 2.30 → 1.59 ms; the
evaluation's tables are the same but for one held-out question (a tie). Long questions (stories of
100+ characters, the p99) then spent their time in membership tests (`in` on an array slice compares as
Python ints, for every word of the question; now numpy for long slices), in merging the bigram hits
(`np.union1d` sorts; a scan is cheaper below 30k documents) and in the courtesy check (now skips text
that no courtesy starts with): 10k p99 1.8-2.1 → 1.56 ms the same afternoon, tables unchanged. The served index keeps each
entry without its `similar` phrasings and keywords (they live on as the index's words): RSS serving
100k entries from the snapshot 540 → 469 MB measured before numpy was imported by the index (numpy
adds ≈ 15–20 MB); the table above is with both.

What the serving RSS is made of at 100k: jieba's dictionary and the interpreter (~100 MB), the 100k
entries with their answers, the postings (8 bytes each: document, impact) and numpy. A process that
builds keeps more (the build's peak; `pufa serve` loads the snapshot written by `pufa kb import`).

Earlier (2026-11-28): postings in three flat arrays per index instead of three arrays per term, idf by
term number, the build's freed heap handed back to the OS (glibc malloc_trim), no sorted by-id copy
of the postings: RSS after build at 20k 616 → 402 MB, rankings identical."""


def render(rows: list[dict[str, float]], cold: tuple[float, float]) -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    lines = [
        SECTION, "",
        f"`python bench/kb_bench.py --write-docs`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {cpu}, "
        f"{os.cpu_count()} cores (shared with other work), Python {platform.python_version()}.",
        "Entries beyond the real ones are synthetic (law-text words, real entry shape); queries are the "
        "resident dev questions; 50 warm-up queries; one process per size. Targets: p99 < 2 ms at 10k, "
        "< 10 ms at 100k; RSS < 500 MB at 100k.", "",
        "| entries | build | p50 | p99 | max | RSS after build | snapshot load | RSS serving from snapshot |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {int(r['entries']):,} | {r['build_s']:.1f} s | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | "
              f"{r['max_ms']:.1f} ms | {r['rss_mb']:.0f} MB | {r['load_s']:.1f} s | {r['rss_loaded_mb']:.0f} MB |"
              for r in rows]
    lines += ["", "Cold start (process start → first answer, real content, a fresh cache directory): "
              f"{cold[0]:.1f} s the first time (tokenises everything, builds, writes the analysis cache and "
              f"the snapshot), {cold[1]:.1f} s the next time, from the snapshot (what `pufa serve` does "
              "after `pufa kb import`).", "", NOTES, ""]
    return "\n".join(lines)


def write_section(text: str, path: Path) -> None:
    """Replace only this section of docs/benchmarks.md; other sections belong to others."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if SECTION in old:
        start = old.index(SECTION)
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text.rstrip() + "\n" + (old[nxt:] if nxt != -1 else "")
    else:
        new = old.rstrip() + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)  # child process: load its snapshot
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="kb-bench-")
    if args.one:
        print(json.dumps(measure(args.one, args.queries, cache_dir)))
        return
    if args.load:
        print(json.dumps(measure_loaded(args.load, cache_dir)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--queries", str(args.queries),
                              "--cache-dir", cache_dir], check=True, capture_output=True, text=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        out = subprocess.run([sys.executable, __file__, "--load", str(size), "--cache-dir", cache_dir],
                             check=True, capture_output=True, text=True)
        rows.append(row | json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    fresh = tempfile.mkdtemp(prefix="kb-bench-cold-")
    cold = (cold_start(fresh), cold_start(fresh))
    text = render(rows, cold)
    print(text)
    if args.write_docs:
        write_section(text, ROOT / "docs" / "benchmarks.md")


if __name__ == "__main__":
    main()
