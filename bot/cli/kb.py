"""``pufa kb``: import/export the knowledge base, print a law article, check citations, evaluate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import defaultdict
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from bot.cli.common import settings_from
from bot.config import Settings
from bot.db.base import utcnow
from bot.db.models import KbEntry, LawArticle
from bot.db.session import create_engine, create_sessionmaker
from bot.knowledge_service import entries_dir, entries_from_db, laws_dir, load_corpus, snapshot_view
from knowledge.check import check_citations
from knowledge.entries import Entry, dump_topic, load_entries
from knowledge.lawnames import normalize_law_name
from knowledge.laws import cite_fields, parse_article_ref


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("kb", help="法律问答库")
    ksub = p.add_subparsers(dest="kb_command", required=True)
    imp = ksub.add_parser("import", help="把问答文件和法条导入数据库")
    imp.add_argument("--dir", help="问答文件目录（默认自带的 knowledge/data/entries）")
    imp.set_defaults(func=run_import)
    exp = ksub.add_parser("export", help="把数据库里的问答写回文件")
    exp.add_argument("--dir", required=True, help="输出目录")
    exp.set_defaults(func=run_export)
    law = ksub.add_parser("law", help="显示一条法条原文，例如：pufa kb law 民法典 1079、pufa kb law 刑法 287之二")
    law.add_argument("law")
    law.add_argument("article", type=parse_article_ref, help="条号：1079、287之二")
    law.set_defaults(func=run_law)
    chk = ksub.add_parser("check", help="检查每条引用的法条是否存在、是否还包含答案所说的内容")
    chk.add_argument("--db", action="store_true", help="检查数据库里的问答（默认检查文件）")
    chk.set_defaults(func=run_check)
    ev = ksub.add_parser("eval", help="用评测题检验回答质量")
    ev.add_argument("--stard", help="STARD 评测集路径（默认 ../shared/data/eval/stard_dev.jsonl）")
    ev.add_argument("--write", action="store_true", help="把结果写入 docs/evaluation.md")
    ev.set_defaults(func=run_eval)


def entry_row(entry: Entry, now: object) -> dict[str, object]:
    return {
        "id": entry.id, "topic_key": entry.topic_key, "topic": entry.topic, "question": entry.question,
        "similar": list(entry.similar), "keywords": list(entry.keywords), "answer": entry.answer,
        "citations": [{**cite_fields(c.law, c.article, c.sub), "quote": c.quote} for c in entry.citations],
        "tags": list(entry.tags), "contacts": list(entry.contacts), "status": entry.status,
        "reviewed": entry.reviewed, "updated_at": now,
    }


async def import_all(settings: Settings, directory: Path) -> tuple[int, int]:
    entries = load_entries(directory)
    corpus = load_corpus(settings)
    problems = check_citations(entries, corpus)
    if problems:
        raise SystemExit("导入中止，以下引用有问题：\n" + "\n".join(p.message for p in problems))
    engine = create_engine(settings.database.url)
    sessions = create_sessionmaker(engine)
    now = utcnow()
    try:
        async with sessions() as session, session.begin():
            ins = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert
            rows = [entry_row(e, now) for e in entries]
            for row in rows:
                stmt = ins(KbEntry).values(**row)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["id"], set_={k: v for k, v in row.items() if k != "id"}
                )
                await session.execute(stmt)
            await session.execute(delete(LawArticle))
            articles = [
                {"law": a.law, "number": a.number, "text": a.text, "version": a.version, "chapter": a.chapter}
                for a in corpus.articles() if not getattr(a, "sub", 0)
            ]
            for i in range(0, len(articles), 500):
                await session.execute(ins(LawArticle).values(articles[i : i + 500]))
        return len(entries), len(articles)
    finally:
        await engine.dispose()


def run_import(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    directory = Path(args.dir) if args.dir else entries_dir(settings)
    n_entries, n_articles = asyncio.run(import_all(settings, directory))
    print(f"已导入 {n_entries} 条问答、{n_articles} 条法条")
    # Build the index once now, from the entries as the service will read them back: it fills
    # the analysis cache and writes the index snapshot, so the service starts without a build.
    snapshot_view(asyncio.run(_db_entries(settings)), settings)
    return 0


async def _export(settings: Settings, out: Path) -> int:
    engine = create_engine(settings.database.url)
    try:
        entries = await entries_from_db(create_sessionmaker(engine))
    finally:
        await engine.dispose()
    by_topic: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in sorted(entries, key=lambda e: e.id):
        by_topic[(e.topic_key, e.topic)].append(e)
    out.mkdir(parents=True, exist_ok=True)
    for (key, topic), items in by_topic.items():
        (out / f"{key}.toml").write_text(dump_topic(topic, key, items), encoding="utf-8")
    return len(entries)


def run_export(args: argparse.Namespace) -> int:
    n = asyncio.run(_export(settings_from(args), Path(args.dir)))
    print(f"已导出 {n} 条问答到 {args.dir}")
    return 0


def run_law(args: argparse.Namespace) -> int:
    from handlers.format import citation_text

    corpus = load_corpus(settings_from(args))
    law = normalize_law_name(args.law)
    number, sub = args.article
    article = corpus.get(law, number, sub)
    if article is None:
        print(f"法条库里没有{citation_text(law, number, sub)}", file=sys.stderr)
        return 1
    print(f"{citation_text(article.law, article.number, article.sub)}（{article.version.isoformat()} 版本）")
    print(article.text)
    return 0


async def _db_entries(settings: Settings) -> list[Entry]:
    engine = create_engine(settings.database.url)
    try:
        return await entries_from_db(create_sessionmaker(engine))
    finally:
        await engine.dispose()


def run_check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    corpus = load_corpus(settings)
    entries = asyncio.run(_db_entries(settings)) if args.db else load_entries(entries_dir(settings))
    problems = check_citations(entries, corpus)
    for p in problems:
        print(f"{p.source or '数据库'} {p.entry_id}: {p.message}")
    cited = sum(len(e.citations) for e in entries)
    if problems:
        print(f"发现 {len(problems)} 个问题（共 {len(entries)} 条问答、{cited} 处引用）")
        return 1
    print(f"全部 {len(entries)} 条问答的 {cited} 处引用都已核对无误")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from knowledge.evalrun import REPO_ROOT, write_evaluation_doc
    from knowledge.evalrun import run_eval as evaluate
    from knowledge.evaluate import render_markdown

    settings = settings_from(args)
    stard = Path(args.stard) if args.stard else REPO_ROOT.parent / "shared" / "data" / "eval" / "stard_dev.jsonl"
    if not stard.exists():
        print(f"（没有找到 STARD 评测集 {stard}，只评测居民问题）", file=sys.stderr)
    result = evaluate(entries_dir=entries_dir(settings), laws_dir=laws_dir(settings),
                      stard=stard if stard.exists() else None, cache_dir=settings.knowledge.cache_dir)
    print(render_markdown(result.report))
    if args.write:
        write_evaluation_doc(result, REPO_ROOT / "docs" / "evaluation.md")
    return 0


