from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from knowledge.lawnames import normalize_law_name
from knowledge.laws import Article, LawCorpus, article_label, cite_key, cn_to_int, parse_article_ref, parse_law_file

from .conftest import LAWS


@pytest.mark.parametrize(("text", "value"), [
    ("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("二十一", 21), ("一百", 100), ("一百零八", 108),
    ("一百一十", 110), ("三百九十九", 399), ("一千零七十九", 1079), ("一千二百六十", 1260), ("两百", 200),
    ("一千零一", 1001), ("108", 108),
])
def test_chinese_numerals(text: str, value: int) -> None:
    assert cn_to_int(text) == value


def test_bad_numeral_raises() -> None:
    with pytest.raises(ValueError):
        cn_to_int("第十")


# Official article counts (ordinary articles, without 条之X).
OFFICIAL = {"民法典": 1260, "宪法": 143, "消费者权益保护法": 63, "劳动合同法": 98, "治安管理处罚法": 144,
            "村民委员会组织法": 50, "刑法": 452, "保障农民工工资支付条例": 64, "农村土地承包法": 70,
            "土地管理法": 87, "反电信网络诈骗法": 50, "人民调解法": 35, "信访工作条例": 50, "婚姻家庭编解释一": 91}


def test_official_counts(corpus: LawCorpus) -> None:
    for law, count in OFFICIAL.items():
        numbers = sorted(a.number for a in corpus.articles(law) if a.sub == 0)
        assert numbers == list(range(1, count + 1)), law


def test_every_file_numbers_run_without_gap() -> None:
    files = [p for p in LAWS.rglob("*.md") if p.name != "SOURCES.md"]
    assert len(files) >= 48
    for path in files:
        articles = parse_law_file(path)
        numbers = [a.number for a in articles if a.sub == 0]
        assert numbers and numbers == list(range(numbers[0], numbers[0] + len(numbers))), path.name
        assert all(a.text.strip() for a in articles), path.name


def test_local_regulations_only_on_request(corpus: LawCorpus) -> None:
    assert not any(law.startswith("重庆") for law in corpus.laws())
    if (LAWS / "DLC").exists():
        with_local = LawCorpus.load(LAWS, include_local=True)
        assert any(law.startswith("重庆") for law in with_local.laws())


def test_civil_code_is_one_law(corpus: LawCorpus) -> None:
    art = corpus.get("中华人民共和国民法典", 1079)
    assert art is not None and "感情确已破裂" in art.text
    assert "婚姻家庭编" in art.chapter and "离婚" in art.chapter
    assert corpus.get("民法典", 1260) is not None and corpus.get("民法典", 1261) is None
    assert len({a.version for a in corpus.articles("民法典")}) == 1


def test_sub_articles_and_paragraphs(corpus: LawCorpus) -> None:
    sub = corpus.get("刑法", 17, 1)
    assert sub is not None and sub.label == "第17条之一" and "七十五周岁" in sub.text
    assert corpus.get("刑法", 17) != sub
    # Later paragraphs belong to the article; 附件 text after the last article does not.
    assert "\n" in corpus.get("民法典", 1079).text  # type: ignore[union-attr]
    assert "惩治军人违反职责罪暂行条例" not in corpus.get("刑法", 452).text  # type: ignore[union-attr]


def test_versions(corpus: LawCorpus) -> None:
    assert corpus.get("治安管理处罚法", 1).version == date(2025, 6, 27)  # type: ignore[union-attr]
    assert corpus.get("宪法", 1).version == date(2018, 3, 11)  # from the last history line
    assert corpus.get("婚姻家庭编解释二", 1) is not None


@pytest.mark.parametrize(("raw", "short"), [
    ("《中华人民共和国消费者权益保护法》", "消费者权益保护法"), ("消法", "消费者权益保护法"),
    ("劳动合同法", "劳动合同法"), ("民法典合同编", "民法典"), ("反家暴法", "反家庭暴力法"),
    ("最高人民法院关于适用《民法典》婚姻家庭编的解释（一）", "婚姻家庭编解释一"),
    ("最高人民法院关于审理民间借贷案件适用法律若干问题的规定", "民间借贷规定"),
    (" 治安管理处罚法 ", "治安管理处罚法"),
])
def test_normalize_law_name(raw: str, short: str) -> None:
    assert normalize_law_name(raw) == short


def test_parse_synthetic_file(tmp_path: Path) -> None:
    path = tmp_path / "示例法(2020-01-02).md"
    path.write_text(
        "# 中华人民共和国示例法\n\n2019年1月1日 通过\n\n<!-- INFO END -->\n\n## 第一章　总则\n\n"
        "第一条 第一款。\n\n第二款。\n\n第九十九条 跳号也照读。\n\n第九十九条之一 插入的条文。\n\n"
        "### 第一节  细则\n\n第一百零八条 一百零八。\n",
        encoding="utf-8",
    )
    arts = parse_law_file(path)
    assert [(a.number, a.sub) for a in arts] == [(1, 0), (99, 0), (99, 1), (108, 0)]
    assert arts[0] == Article("示例法", 1, "第一款。\n第二款。", date(2020, 1, 2), "第一章 总则")
    assert arts[3].chapter == "第一章 总则 第一节 细则"
    corpus = LawCorpus(arts)
    assert corpus.get("《示例法》", 108) == arts[3] and len(corpus) == 4


@pytest.mark.parametrize(("text", "ref"), [
    ("1079", (1079, 0)), ("第1079条", (1079, 0)), ("287之二", (287, 2)), ("第287条之二", (287, 2)),
    ("二百八十七条之二", (287, 2)), ("133之1", (133, 1)),
])
def test_article_references(text: str, ref: tuple[int, int]) -> None:
    assert parse_article_ref(text) == ref


@pytest.mark.parametrize("text", ["", "abc", "0", "287之", "287之十", "民法典1079"])
def test_bad_article_references(text: str) -> None:
    with pytest.raises(ValueError):
        parse_article_ref(text)


def test_a_sub_article_is_never_its_parent(corpus: LawCorpus) -> None:
    helping = corpus.get("刑法", 287, 2)
    assert helping is not None and helping.key == ("刑法", 287, 2) != corpus.get("刑法", 287).key  # type: ignore[union-attr]
    assert cite_key("刑法", 287) == ("刑法", 287) and article_label(287, 2) == "第287条之二"
