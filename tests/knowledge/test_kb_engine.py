from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.calibration import Calibration
from knowledge.engine import Citation, KnowledgeBase, Match
from knowledge.entries import CitationRef, Entry
from knowledge.laws import LawCorpus
from knowledge.tokenizer import Tokenizer

COLLOQUIAL = {
    "包工头跑了 欠我几个月工钱咋个办": "fixture-wage-arrears",
    "老板拖着工资不发": "fixture-wage-arrears",
    "在镇上买倒假冒的酒 老板不认账": "fixture-fake-goods",
    "網購買到假貨": "fixture-fake-goods",
    "老婆不肯离婚 我想离": "fixture-divorce",
    "我男人死活不同意离昏": "fixture-divorce",
    "几个儿子都不管老人 咋个办": "fixture-elder-support",
    "城里的亲戚想买我家宅基地": "fixture-homestead",
}
OUT_OF_SCOPE = ["你好", "在吗", "谢谢", "今天天气怎么样", "明天会不会下雨", "给我讲个笑话", "推荐个好看的电视剧",
                "😂😂😂", "🌹", "asdfgh", "123456", "。。。", "哈哈哈哈", "的的的额额", "帮我充一百块话费"]
BAD_INPUT = ["", "   ", "\n\t", "好" * 10_000, "😀" * 50, "離婚後孩子歸誰", "abc123 工资 ABC", "\x00\x01\x7f工资",
             "工\u200b资", "<xml>]]></xml>", "第1079条", "\ud800"[:0] + "𠀀𠀁"]


def test_colloquial_queries_hit_the_right_entry(kb: KnowledgeBase) -> None:
    for text, entry_id in COLLOQUIAL.items():
        ranked = kb.rank_entries(kb.tokenizer.analyze(text))
        assert kb.entries()[ranked.docs[0]].id == entry_id, text


def test_clear_question_is_answered_with_citations(kb: KnowledgeBase) -> None:
    m = kb.match("买到假货怎么办？")
    assert (m.status, m.tier) == ("answered", "entry") and m.entry is not None
    assert m.entry.id == "fixture-fake-goods" and 0 < m.score <= 1
    assert [(c.law, c.article) for c in m.citations] == [("消费者权益保护法", 55)]
    assert "假货" in m.keywords


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_out_of_scope_gets_no_match(kb: KnowledgeBase, text: str) -> None:
    m = kb.match(text)
    assert m.status == "no_match" and m.tier in ("none", "chat")
    assert m.citations == () and m.entry is None and m.candidates == () and m.articles == ()


def test_chit_chat_is_told_apart_from_a_legal_question_left_unanswered(kb: KnowledgeBase) -> None:
    assert kb.match("今天天气怎么样").tier == "chat"
    assert kb.match("手机老是弹广告咋个关").tier == "chat"
    # Someone in danger is never chit-chat, whatever the words.
    assert kb.match("救命 他要杀我").tier != "chat"


@pytest.mark.parametrize("text", BAD_INPUT)
def test_bad_input_never_raises(kb: KnowledgeBase, text: str) -> None:
    m = kb.match(text)
    assert isinstance(m, Match) and 0.0 <= m.score <= 1.0


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=200))
def test_any_text_never_raises(kb: KnowledgeBase, text: str) -> None:
    m = kb.match(text)
    assert m.status in ("answered", "ambiguous", "no_match")
    assert (m.entry is not None) == (m.status == "answered" and m.tier == "entry")


def test_question_and_similar_outweigh_answer_text(fixture_entries: list[Entry], small_corpus: LawCorpus,
                                                   tokenizer: Tokenizer) -> None:
    base = fixture_entries[0]
    in_question = replace(base, id="t-question", question="彩礼要不要退？", similar=(), keywords=(),
                          answer="按照规定处理。")
    in_similar = replace(in_question, id="t-similar", question="婚约的问题", similar=("彩礼能退不",))
    in_answer = replace(in_question, id="t-answer", question="婚约的问题",
                        answer="彩礼一般要看是否办理结婚登记。彩礼的数额也要考虑。")
    kb = KnowledgeBase.build([in_answer, in_similar, in_question], small_corpus, tokenizer=tokenizer)
    ranked = kb.rank_entries(tokenizer.analyze("彩礼"))
    order = [kb.entries()[d].id for d in ranked.docs]
    assert order.index("t-question") < order.index("t-answer")
    assert order.index("t-similar") < order.index("t-answer")


def test_only_published_entries(kb: KnowledgeBase) -> None:
    assert kb.entry("fixture-draft") is None and kb.entry("fixture-divorce") is not None
    assert kb.match("这是一条草稿").entry is None
    [(key, name, entries)] = kb.topics()
    assert (key, name, len(entries)) == ("fixture", "测试", 5)


def test_law_tier_when_no_entry_fits(kb: KnowledgeBase) -> None:
    # The ranking: 高空抛物 is in no fixture entry but is 民法典 第1254条.
    articles = kb.search_articles("从楼上往下扔东西砸到人 高空抛物 谁来赔偿", 3)
    assert ("民法典", 1254) in [(a.law, a.number) for a in articles]
    # The tier mechanics, with a calibration that never trusts an entry and always trusts articles.
    law_only = kb.with_calibration(Calibration(answer_threshold=2.0, ambiguous_threshold=2.0, law_threshold=0.0))
    m = law_only.match("高空抛物砸到人谁赔")
    assert (m.status, m.tier, m.entry) == ("answered", "law", None)
    assert 1 <= len(m.articles) <= 3 and [(c.law, c.article) for c in m.citations] == \
        [(a.law, a.number) for a in m.articles]


def test_a_plainly_legal_question_gets_the_law_tier_however_unsure_its_article(kb: KnowledgeBase) -> None:
    # Neither tier's confidence is enough (thresholds above 1): only the legal-question model decides.
    gate = Calibration(answer_threshold=2.0, ambiguous_threshold=2.0, law_threshold=2.0, law_first_threshold=2.0,
                       legal_weights=(10.0, 0.0, 0.0, 0.0, 0.0, 0.0), legal_bias=-5.0, legal_threshold=0.9)
    legal = kb.with_calibration(gate)
    question = "高空抛物砸到人谁赔偿"
    a = kb.analyze(question)
    assert kb.legal_features(a, kb.rank_articles(a)).legal > 0.5  # mostly legal words
    m = legal.match(question)
    assert (m.status, m.tier) == ("answered", "law") and m.citations
    # The same calibration with the model off (the default threshold) gives no match.
    off = kb.with_calibration(replace(gate, legal_threshold=Calibration().legal_threshold))
    assert off.match(question).status == "no_match"
    # Chit-chat stays unanswered whatever the model says: it never reaches the tiers.
    for text in OUT_OF_SCOPE:
        assert legal.match(text).status == "no_match", text


def test_ambiguous_gives_up_to_three_candidates(kb: KnowledgeBase) -> None:
    unsure = kb.with_calibration(Calibration(answer_threshold=2.0, ambiguous_threshold=0.0, law_threshold=2.0))
    m = unsure.match("老板欠工资 还卖假货")
    assert m.status == "ambiguous" and 1 <= len(m.candidates) <= 3
    assert {c.entry_id for c in m.candidates} >= {"fixture-wage-arrears", "fixture-fake-goods"}
    # The candidates' own first articles, in the candidates' order, each once.
    firsts = [unsure.entry(c.entry_id).citations[0] for c in m.candidates]  # type: ignore[union-attr]
    expected = list(dict.fromkeys((c.law, c.article) for c in firsts))
    assert [(c.law, c.article) for c in m.citations] == expected


def test_urgent_is_reported_whatever_the_match(kb: KnowledgeBase) -> None:
    assert kb.match("他正在打我 救命").urgent == "violence"
    assert kb.match("对方让我把钱转到安全账户").urgent == "fraud"
    assert kb.match("离婚后打官司").urgent is None


def test_immutable_and_swappable(kb: KnowledgeBase, fixture_entries: list[Entry], small_corpus: LawCorpus,
                                 tokenizer: Tokenizer) -> None:
    before = kb.match("买到假货怎么办")
    with pytest.raises(FrozenInstanceError):
        before.status = "no_match"  # type: ignore[misc]
    changed = [replace(e, citations=(CitationRef("消费者权益保护法", 56, ""),)) if e.id == "fixture-fake-goods"
               else e for e in fixture_entries]
    rebuilt = KnowledgeBase.build(changed, small_corpus, tokenizer=tokenizer)
    assert kb.match("买到假货怎么办") == before  # the old instance is untouched by the new build
    assert rebuilt.match("买到假货怎么办").citations[0].article == 56


def test_everyday_messages_count_against_an_answer(fixture_entries: list[Entry], small_corpus: LawCorpus,
                                                    tokenizer: Tokenizer) -> None:
    everyday = ["手机没声音了咋个办", "明天会不会下雨", "老板 来两斤猪肉"]
    kb = KnowledgeBase.build(fixture_entries, small_corpus, tokenizer=tokenizer, everyday=everyday)
    chat, legal = tokenizer.analyze("手机没得声音了"), tokenizer.analyze("老板拖着工资不发")
    assert kb.everyday_overlap(chat) > 0.8 > 0.3 > kb.everyday_overlap(legal)
    assert kb.rank_entries(chat).features.everyday == kb.everyday_overlap(chat)
    # Leaving an example out (fitting on the examples themselves) leaves only the others to match.
    own = tokenizer.analyze("手机没声音了咋个办")
    assert kb.everyday_overlap(own, leave_out=True) < kb.everyday_overlap(own) == 1.0
    # A model that has learnt the feature turns the same ranking down.
    cal = Calibration(entry_weights=(0.0, 0.0, 0.0, 0.0, 0.0, -8.0), entry_bias=3.0, answer_threshold=0.5,
                      ambiguous_threshold=0.5, law_threshold=2.0)
    sure = kb.with_calibration(cal)
    assert sure.match("老板拖着工资不发").status == "answered"
    assert sure.match("手机没得声音了 工资").status == "no_match"


def test_an_everyday_message_sharing_one_rare_word_does_not_make_chit_chat_look_less_everyday(
        fixture_entries: list[Entry], small_corpus: LawCorpus, tokenizer: Tokenizer) -> None:
    asked = tokenizer.analyze("法院上班几点下班")
    # Opening hours are everyday talk: 上班, 下班 and 几点 are common words among everyday messages.
    hours = ["镇上超市几点上班几点下班", "银行几点上班", "邮局几点下班", "卫生院几点上班", "车站几点下班"]
    # Shares only a word rare among everyday messages, so it is the closest one by BM25, and covers less.
    street = ["法院那条街今天堵车不"]
    before = KnowledgeBase.build(fixture_entries, small_corpus, tokenizer=tokenizer, everyday=hours)
    after = KnowledgeBase.build(fixture_entries, small_corpus, tokenizer=tokenizer, everyday=hours + street)
    assert 0 < before.everyday_overlap(asked) <= after.everyday_overlap(asked)


def test_law_articles_answer_first_when_likelier_right(kb: KnowledgeBase) -> None:
    zero = (0.0,) * 6
    law_likelier = Calibration(entry_weights=zero, entry_bias=-1.0, law_weights=zero, law_bias=1.0,
                               answer_threshold=0.2, ambiguous_threshold=0.1, law_threshold=0.5)
    # The fake-goods entry (消费者权益保护法 55) ranks first, the articles put 第二十五条 first.
    m = kb.with_calibration(law_likelier).match("网上买到假货 商家不退货")
    assert (m.status, m.tier) == ("answered", "law")
    entry_likelier = replace(law_likelier, entry_bias=2.0)
    m = kb.with_calibration(entry_likelier).match("网上买到假货 商家不退货")
    assert (m.status, m.tier) == ("answered", "entry")


def test_two_entries_with_different_answers_in_a_tie_are_offered_not_answered(
        fixture_entries: list[Entry], small_corpus: LawCorpus, tokenizer: Tokenizer) -> None:
    fake = next(e for e in fixture_entries if e.id == "fixture-fake-goods")
    # Asked exactly alike, answered under another article: however sure the match, it is a tie.
    twin = replace(fake, id="fixture-fake-goods-twin", citations=(CitationRef("消费者权益保护法", 56, ""),))
    kb = KnowledgeBase.build([*fixture_entries, twin], small_corpus, tokenizer=tokenizer)
    # Thresholds any match clears, whatever the stored fit: only the tie can keep it from an answer.
    eager = replace(kb.calibration, answer_threshold=0.05, ambiguous_threshold=0.01, law_first_threshold=1.01)
    assert kb.rank_entries(kb.analyze("买到假货怎么办")).features.tie
    m = kb.with_calibration(eager).match("买到假货怎么办")
    assert m.status == "ambiguous"
    assert {c.entry_id for c in m.candidates[:2]} == {"fixture-fake-goods", "fixture-fake-goods-twin"}
    alone = KnowledgeBase.build(fixture_entries, small_corpus, tokenizer=tokenizer)
    assert alone.with_calibration(eager).match("买到假货怎么办").status == "answered"  # no twin: answered


def test_a_rare_everyday_word_does_not_outvote_the_legal_word(monkeypatch: pytest.MonkeyPatch,
                                                              fixture_entries: list[Entry], small_corpus: LawCorpus,
                                                              tokenizer: Tokenizer) -> None:
    # 从来不 occurs in one entry only, so its idf is as high as 工资's: a resident's everyday words
    # must not decide which legal matter the message is about.
    fake = next(e for e in fixture_entries if e.id == "fixture-fake-goods")
    shop = replace(fake, id="fixture-online-shop", question="网店卖的东西从来不发货怎么办",
                   similar=("网上下单了商家一直不发货",), keywords=("不发货",))
    kb = KnowledgeBase.build([*fixture_entries, shop], small_corpus, tokenizer=tokenizer)
    a = kb.analyze("厂里从来不发工资")

    def best() -> str:
        return kb.entries()[kb.rank_entries(a).docs[0]].id

    assert best() == "fixture-wage-arrears"
    monkeypatch.setattr("knowledge.engine.EVERYDAY_TERM_WEIGHT", 1.0)
    assert best() == "fixture-online-shop"  # every word at full weight: the everyday words win


def test_law_tier_cites_a_sub_article_as_itself(fixture_entries: list[Entry], small_corpus: LawCorpus,
                                                corpus: LawCorpus, tokenizer: Tokenizer) -> None:
    # 刑法 第二百八十七条之二 (帮信罪) must come out as 287之二, not as 第287条 (a different crime).
    with_crimes = LawCorpus([*small_corpus.articles(), *corpus.articles("刑法")])
    kb = KnowledgeBase.build(fixture_entries, with_crimes, tokenizer=tokenizer)
    law_only = kb.with_calibration(Calibration(answer_threshold=2.0, ambiguous_threshold=2.0, law_threshold=0.0))
    m = law_only.match("明知他人利用信息网络实施犯罪 还为他提供支付结算帮助 情节严重的")
    assert (m.status, m.tier) == ("answered", "law")
    assert m.citations[0] == Citation("刑法", 287, 2) and m.citations[0].key == ("刑法", 287, 2)
    assert [c.key for c in m.citations] == [a.key for a in m.articles]
    assert ("刑法", 287, 2) in kb.rank_citations("明知他人利用信息网络实施犯罪 还为他提供支付结算帮助")


def test_the_written_answer_wins_when_the_law_tier_shows_its_own_article(kb: KnowledgeBase) -> None:
    # A law tier sure of itself and an entry that is only a candidate: the law tier goes first …
    law_sure = kb.with_calibration(Calibration(
        entry_weights=(0.0,) * 6, entry_bias=0.0, law_weights=(0.0,) * 6, law_bias=5.0,
        answer_threshold=0.9, ambiguous_threshold=0.4, law_threshold=0.5, law_first_threshold=0.5))
    elsewhere = law_sure.match("从楼上扔东西砸到人 高空抛物 谁赔")  # no entry rests on 民法典 1254
    assert (elsewhere.status, elsewhere.tier) == ("answered", "law")
    # … unless its best article is the one the best entry rests on: then the entry answers, in plain words.
    same = law_sure.match("想离婚 对方不同意 感情确已破裂")
    assert [c.key for c in kb.match("想离婚 对方不同意 感情确已破裂").citations][:1] == [("民法典", 1079)]
    assert (same.status, same.tier) == ("answered", "entry") and same.entry is not None
    assert same.entry.citations[0].key == ("民法典", 1079)


def test_a_written_answer_offers_close_entries_resting_on_other_articles(
        monkeypatch: pytest.MonkeyPatch, fixture_entries: list[Entry], small_corpus: LawCorpus,
        tokenizer: Tokenizer) -> None:
    fake = next(e for e in fixture_entries if e.id == "fixture-fake-goods")
    refund = replace(fake, id="fixture-refund", question="假货退款要多久到账", similar=("退款一直不到账",),
                     keywords=("退款",), citations=(CitationRef("消费者权益保护法", 24, ""),))
    same = replace(fake, id="fixture-fake-goods-shop", question="假货是镇上小卖部卖的找谁", similar=(),
                   keywords=("小卖部",))  # rests on the answer's own article
    fine = replace(fake, id="fixture-fake-goods-fine", question="卖假货的会不会被罚款", similar=(), keywords=(),
                   citations=(CitationRef("消费者权益保护法", 56, ""),))
    kb = KnowledgeBase.build([*fixture_entries, refund, same, fine], small_corpus, tokenizer=tokenizer)
    eager = kb.with_calibration(replace(kb.calibration, answer_threshold=0.05, ambiguous_threshold=0.01,
                                        law_first_threshold=1.01))
    monkeypatch.setattr("knowledge.engine.ALTERNATIVE_RATIO", 0.0)  # any entry that scores is close
    m = eager.match("买到假货怎么办")
    assert (m.status, m.tier) == ("answered", "entry") and m.entry is not None
    offered = [eager.entry(c.entry_id) for c in m.alternatives]
    firsts = [e.citations[0].key for e in offered if e is not None]
    assert m.entry.citations[0].key not in firsts and len(set(firsts)) == len(firsts)
    # More entries under other articles score than are offered (refund, fine …): only the two best.
    ranked = eager.rank_entries(eager.analyze("买到假货怎么办"), k=10)
    others = [eager.entries()[d].id for d in ranked.docs
              if eager.entries()[d].citations[0].key != m.entry.citations[0].key]
    assert {"fixture-refund", "fixture-fake-goods-fine"} <= set(others) and len(others) > 2
    assert [c.entry_id for c in m.alternatives] == others[:2]
    monkeypatch.setattr("knowledge.engine.ALTERNATIVE_RATIO", 1.01)  # nothing comes close to the answer
    assert eager.match("买到假货怎么办").alternatives == ()
