from __future__ import annotations

from pathlib import Path

import jieba
import pytest

from knowledge.tokenizer import CACHE_FILE, Tokenizer


def test_legal_dictionary_keeps_terms_whole(tokenizer: Tokenizer) -> None:
    for term in ("宅基地", "高空抛物", "承包地", "劳动合同", "退一赔三", "人身安全保护令"):
        assert term in tokenizer.analyze(f"关于{term}的问题").keywords, term


def test_search_mode_adds_parts(tokenizer: Tokenizer) -> None:
    words = tokenizer.analyze("劳动合同到期").words
    assert {"劳动合同", "合同", "劳动"} <= set(words)


def test_synonyms_and_dialect(tokenizer: Tokenizer) -> None:
    cases = {
        "我老公打我咋个办": {"丈夫", "殴打"}, "老板欠我工钱": {"工资"}, "媳妇要离婚": {"妻子", "离婚"},
        "娃儿归哪个": {"子女"}, "耍朋友扯证": {"恋爱", "结婚", "登记"}, "网购买到假货": {"网络", "购物", "假货"},
        "离昏后": {"离婚"}, "咋个维全": {"维权"},
    }
    for text, expected in cases.items():
        words = set(tokenizer.analyze(text).words)
        assert expected <= words, (text, words)
    # Question fillers and dialect question words are stopwords once mapped.
    assert not {"咋个办", "怎么办", "咋办", "我", "的"} & set(tokenizer.analyze("我的事咋个办").words)
    assert "朋友" not in tokenizer.analyze("耍朋友").words


def test_traditional_and_width(tokenizer: Tokenizer) -> None:
    assert tokenizer.analyze("買到假貨咋個辦").words == tokenizer.analyze("买到假货咋个办").words
    assert tokenizer.normalize("ＡＢＣ１２３\x00\u200b") == "abc123"


def test_numbers_do_not_become_terms(tokenizer: Tokenizer) -> None:
    assert tokenizer.analyze("我借了三千多块 2023年").words == ("借",)
    assert "十倍" in tokenizer.analyze("赔十倍").words  # multiples name a remedy


def test_an_age_becomes_the_class_the_law_gives_it(tokenizer: Tokenizer) -> None:
    def words(text: str) -> set[str]:
        return set(tokenizer.analyze(text).words)

    for minor in ("娃儿十五岁在厂里打工", "娃才13岁", "十几岁的娃", "17周岁"):
        assert "未成年人" in words(minor) and "老年人" not in words(minor), minor
    for old in ("我七十多岁了", "老妈今年六十岁", "九十岁老人"):
        assert "老年人" in words(old) and "未成年人" not in words(old), old
    for neither in ("儿子二十岁了", "三十多岁", "十八岁", "娃儿几岁可以单独在家"):
        assert not words(neither) & {"未成年人", "老年人"}, neither


def test_bigrams(tokenizer: Tokenizer) -> None:
    assert tokenizer.analyze("抚养废").bigrams == ("抚养", "养废")
    assert tokenizer.analyze("ab 😀").bigrams == ()


def test_private_jieba_with_cache_in_given_dir(tmp_path: Path) -> None:
    tk = Tokenizer(cache_dir=tmp_path / "cache")
    tk.warm_up()
    assert (tmp_path / "cache" / CACHE_FILE).exists()
    assert tk._jieba is not jieba.dt
    tk.warm_up()  # idempotent
    no_cache = Tokenizer(cache_dir=None)
    assert no_cache.analyze("工伤认定").keywords == ("工伤认定",)


def test_synonym_targets_are_single_tokens(tokenizer: Tokenizer) -> None:
    # A target that jieba splits differently in law texts would never match them.
    targets = {w for words in tokenizer.synonyms.values() for w in words}
    assert [w for w in sorted(targets) if list(tokenizer._jieba.cut(w, HMM=False)) != [w]] == []


def test_each_synonym_is_defined_once() -> None:
    # A second line for a word silently replaced the first.
    from knowledge.tokenizer import DICT_DIR
    keys = [ln.split("\t", 1)[0] for ln in (DICT_DIR / "synonyms.txt").read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []


def test_service_numbers_are_words_amounts_are_not(tokenizer: Tokenizer) -> None:
    assert "12348" in tokenizer.analyze("12348是干啥的").words
    assert "96110" in tokenizer.analyze("96110打来的电话是真的不").words
    assert not any(ch.isdigit() for w in tokenizer.analyze("借了他3000块 七十多岁了").words for ch in w)


def test_the_server_starts_without_importing_pkg_resources() -> None:
    """jieba would import setuptools' pkg_resources (a scan of every installed distribution, ~0.1 s of
    each cold start) only to open its own files; knowledge.jieba_loader keeps it out."""
    import subprocess
    import sys

    code = "import sys, bot.cli.serve, knowledge.snapshot; print('pkg_resources' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_residents_di_is_land_and_the_particle_is_not() -> None:
    from knowledge.tokenizer import Tokenizer

    t = Tokenizer()
    for text in ("我家的地被占了", "镇上要收我家的地", "地被征了", "承包的地租给别人", "俺家地被征了",
                 "我家的地占了种", "公公把我家的地卖了", "家的地荒了", "村里要把地收回去", "三亩地租给别人",
                 "那块地被占了"):
        assert "土地" in t.analyze(text).words, text
    for text in ("他慢慢地走", "去他的地方", "高兴地说", "他家地方大", "把地扫干净", "这块地方不好", "一片地区"):
        assert "土地" not in t.analyze(text).words, text


def test_a_slip_mapped_to_a_lay_word_reaches_the_words_the_index_has(tokenizer: Tokenizer) -> None:
    # 家爆 → 家暴 → 家庭暴力: the index never holds 家暴 itself, so the slip matched nothing.
    assert "家庭暴力" in tokenizer.analyze("家爆了咋办").words
    assert set(tokenizer.analyze("被炒鱿鱼了").words) >= {"解除", "劳动合同"}


def test_synonym_chains_resolve_and_cycles_end() -> None:
    from knowledge.tokenizer import resolve_chains

    table = {"甲": ("乙",), "乙": ("丙", "丁"), "戊": ("戊", "乙"), "己": ("庚",), "庚": ("己",)}
    resolved = resolve_chains(table)
    assert resolved["甲"] == ("丙", "丁")
    assert resolved["戊"] == ("戊", "丙", "丁")  # a word may keep itself beside its replacement
    assert set(resolved["己"]) <= {"己", "庚"}  # a cycle stops instead of recursing forever


def test_a_refusal_is_a_word_but_not_a_legal_signal(tokenizer: Tokenizer) -> None:
    # 不 and 给 alone are stopwords: "抚养费他不给" read as a question about 抚养费 in general.
    assert "不给" in tokenizer.analyze("抚养费他不给").words
    said = tokenizer.analyze("他不同意离婚").words
    assert "不同意" in said and "不同" not in said  # no search-mode parts for a phrase
    assert "不给" not in tokenizer.legal_words and "不同意" not in tokenizer.legal_words


def test_a_slip_reads_as_the_word_typed(tokenizer: Tokenizer) -> None:
    # 宅机地 → 宅基地: it also counts the parts 宅基地 typed counts (基地); a synonym key is not split.
    assert tokenizer.analyze("宅机地").words == tokenizer.analyze("宅基地").words
    assert tokenizer.analyze("耍朋友").words == ("恋爱",)


@pytest.mark.parametrize(("text", "name"), [
    ("4月15号是啥日子", "全民国家安全教育日"), ("四月十五是什么节", "全民国家安全教育日"), ("6.26", "国际禁毒日"),
    ("十二月四日", "国家宪法日"), ("3·15", "消费者权益日"), ("九月初九", "重阳节"),
])
def test_a_publicity_day_reads_as_its_name(tokenizer: Tokenizer, text: str, name: str) -> None:
    assert tokenizer.normalize(text).split()[0] == name


def test_other_dates_and_amounts_stay_out(tokenizer: Tokenizer) -> None:
    assert tokenizer.analyze("5月3号借给他钱").words == tokenizer.analyze("借给他钱").words
    for amount in ("我借了3.5万", "卖3.15元一斤", "涨了3.15%"):  # amounts, not March 5th or 3·15
        assert tokenizer.normalize(amount) == amount


def test_the_analysis_cache_key_follows_the_tokenizer_code(tokenizer: Tokenizer, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge import termcache

    key = termcache.fingerprint(tokenizer)
    changed = tmp_path / "tokenizer.py"
    changed.write_bytes(Path(termcache.tokenizer_module.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(termcache.tokenizer_module, "__file__", str(changed))
    assert termcache.fingerprint(tokenizer) != key


def test_severance_as_workers_name_it(tokenizer: Tokenizer) -> None:
    assert "经济补偿" in tokenizer.analyze("公司裁员给N+1吗").words
    assert "赔偿金" in tokenizer.analyze("违法辞退要给2N吗").words
    for other in ("我买了个iphone", "n个人", "2nd"):
        assert not {"经济补偿", "赔偿金"} & set(tokenizer.analyze(other).words), other


def test_every_lay_term_is_in_the_built_dictionary() -> None:
    # legal.txt is built from lay_terms.txt (and THUOCL_law); a lay term added without the rebuild
    # does nothing at all.
    from knowledge.dictbuild import DICT_DIR, read_lay_terms

    built = {ln.split()[0] for ln in (DICT_DIR / "legal.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")}
    missing = sorted(set(read_lay_terms(DICT_DIR / "lay_terms.txt")) - built)
    assert not missing, f"run `python -m knowledge.dictbuild ../shared/data/THUOCL_law.txt`: {missing}"


def test_dialling_a_number_is_not_a_blow(tokenizer: Tokenizer) -> None:
    assert "殴打" not in tokenizer.analyze("打12348问问").words
    assert "殴打" not in tokenizer.analyze("赶紧打110").words
    assert "殴打" in tokenizer.analyze("他打了我3次").words
    assert "殴打" not in tokenizer.analyze("我打了110").words


def test_writing_a_note_or_spraying_is_not_a_blow(tokenizer: Tokenizer) -> None:
    for text in ("借条是2019年打的 这些年一直没要", "他打了个白条说过年给钱", "我给他打了欠条",
                 "邻居打农药飘到我家菜地"):
        assert "殴打" not in tokenizer.analyze(text).words, text
    # Voice input's 借调 next to 打 is the note; the word itself (seconded to the county) stays.
    assert "借条" in tokenizer.analyze("借调是四年前打的，一直没去要").words
    assert "借调" in tokenizer.analyze("单位把我借调到县里").words
    # A blow with a note nearby is still a blow.
    assert "殴打" in tokenizer.analyze("他拿借条打我").words
    assert "殴打" in tokenizer.analyze("被人打了 借条也撕了").words
    assert "殴打" in tokenizer.analyze("为了欠条的事他打了我一顿").words
    # An amount after 打 is money, not a number dialled.
    assert "拨打" not in tokenizer.analyze("他打了2000块到我卡上").words


def test_an_amount_in_money_leaves_no_word_behind(tokenizer: Tokenizer) -> None:
    # "3000块钱" was cut as 3000 / 块钱, and 块钱 alone made the question unlike "欠我五千块不还".
    assert tokenizer.analyze("他欠我3000块钱不还").words == tokenizer.analyze("他欠我五千块不还").words


@pytest.mark.parametrize(
    ("text", "word"),
    [("法律原助去哪里申请", "法律援助"), ("申请劳动种裁", "仲裁"), ("宅鸡地能卖不", "宅基地"),
     ("工地上受了攻伤", "工伤"), ("赡样费给好多", "赡养费"), ("他打我我要报井", "报警"), ("去司法锁调解", "司法所"),
     ("买到家货咋办", "假货")],
)
def test_a_voice_slip_of_the_same_sound_reads_as_the_word(tokenizer: Tokenizer, text: str, word: str) -> None:
    # None of these slips is in the synonym table: one character swapped for another of the same pinyin.
    assert word in tokenizer.analyze(text, fix_slips=True).words
    assert word not in tokenizer.analyze(text).words  # the indexed texts are never rewritten
    assert not any(key in text for key in tokenizer.synonyms if len(key) > 1 and word in tokenizer.synonyms[key])


@pytest.mark.parametrize(
    "text",
    ["他说不关他的事", "去工商局投诉", "抵押权和质权的清偿顺序", "外嫁女说嫁出去的女泼出去的水",
     "签一年的合同 试用期要六个月", "在自己承包的田里修房子", "他的狗不咬人", "十八周岁以上的自然人为成年人",
     "上家叫我拉人头", "在工上摔了"],
)
def test_words_that_merely_sound_like_a_legal_word_stay_as_written(tokenizer: Tokenizer, text: str) -> None:
    # Real words (不关, 工商, 质权), two characters changed, or a run with no stray character are left alone.
    assert tokenizer._homophones is not None
    tokens = jieba_tokens(tokenizer, text)
    assert tokenizer._homophones.fix(tokens, tokenizer._is_word) is None, tokens


def jieba_tokens(tokenizer: Tokenizer, text: str) -> list[str]:
    tokenizer.warm_up()
    return tokenizer._jieba.lcut(tokenizer.normalize(text), HMM=tokenizer.hmm)
