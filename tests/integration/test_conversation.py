"""A resident talking to the bot through the real webhook, as WeChat would deliver it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db.models import InboundMessage, StaffMessage
from handlers import texts
from sandbox.api import SandboxPlatform
from sandbox.inbound import FakeWeChat
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_TOKEN, Server, start_server

RESIDENT = "oResident00000000000000000001"


async def log_rows(engine: AsyncEngine) -> list[InboundMessage]:
    async with engine.connect() as conn:
        result = await conn.execute(select(InboundMessage).order_by(InboundMessage.id))
        return list(result.mappings())  # type: ignore[arg-type]


async def test_url_verification_returns_echostr_verbatim(wechat: FakeWeChat) -> None:
    status, body = await wechat.verify_url("1234567890123456789<&>")
    assert (status, body) == (200, "1234567890123456789<&>")


async def test_wrong_token_cannot_verify(server: Server) -> None:
    async with FakeWeChat(server.webhook, token="wrong", appid=TEST_APPID) as forged:
        status, body = await forged.verify_url("abc")
    assert status == 403 and "abc" not in body


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
async def test_question_is_answered_with_citation_in_every_mode(server: Server, mode: str) -> None:
    async with FakeWeChat(server.webhook, token=TEST_TOKEN, appid=TEST_APPID, aes_key=TEST_AES_KEY,
                          mode=mode) as fake:
        delivery = await fake.say(RESIDENT, "老板拖欠我工资不给咋办")
    assert delivery.status == 200 and delivery.attempts == 1
    assert delivery.reply is not None and delivery.reply["MsgType"] == "text"
    assert delivery.reply["ToUserName"] == RESIDENT
    assert "《" in delivery.text and "》第" in delivery.text
    assert "法律依据" in delivery.text or "相关法律规定" in delivery.text


async def test_voice_is_answered_like_text_and_empty_voice_asks_for_text(wechat: FakeWeChat) -> None:
    spoken = await wechat.speak(RESIDENT, "老板欠我工钱不给")
    typed = await wechat.say(RESIDENT, "老板欠我工钱不给")
    assert spoken.text == typed.text and "《" in spoken.text
    silent = await wechat.speak(RESIDENT, "")
    assert "请发文字" in silent.text


async def test_subscribe_welcomes_with_topic_menu_and_unsubscribe_is_recorded(
    wechat: FakeWeChat, engine: AsyncEngine
) -> None:
    welcome = await wechat.trigger(RESIDENT, "subscribe")
    assert "欢迎" in welcome.text and "常见问题分类" in welcome.text
    gone = await wechat.trigger(RESIDENT, "unsubscribe")
    assert gone.acknowledged
    rows = await log_rows(engine)
    assert [(r["event"], r["outcome"]) for r in rows] == [("SUBSCRIBE", "event"), ("UNSUBSCRIBE", "event")]


async def test_menu_click_lists_a_topic_and_a_digit_picks_an_entry(wechat: FakeWeChat) -> None:
    listed = await wechat.trigger(RESIDENT, "CLICK", "TOPIC_labor")
    assert "1." in listed.text
    first_question = listed.text.split("1. ", 1)[1].split("\n", 1)[0]
    picked = await wechat.say(RESIDENT, "1")
    assert "法律依据" in picked.text
    other = await wechat.say(RESIDENT, "9" if listed.text.count("\n") < 11 else "1")
    assert other.text  # a choice out of range gets a clear message, in range an answer
    assert first_question


async def test_a_choice_is_read_as_residents_say_it(wechat: FakeWeChat) -> None:
    listed = await wechat.trigger(RESIDENT, "CLICK", "TOPIC_labor")
    second = listed.text.split("2. ", 1)[1].split("\n", 1)[0]
    for said in ("第2个", "二。", "选2", "２"):
        picked = await wechat.say(RESIDENT, said)
        assert "法律依据" in picked.text, said
    assert second
    assert (await wechat.say(RESIDENT, "0")).text.startswith("没有第0个选项")


async def test_a_digit_refers_only_to_the_list_just_shown(wechat: FakeWeChat, engine: AsyncEngine) -> None:
    nothing = await wechat.say(RESIDENT, "3")
    assert nothing.text.startswith("现在没有可以选的问题")
    await wechat.trigger(RESIDENT, "CLICK", "TOPIC_land")
    answered = await wechat.say(RESIDENT, "网上买的东西不想要了能退吗")
    assert "《" in answered.text
    stale = await wechat.say(RESIDENT, "2")
    assert stale.text.startswith("现在没有可以选的问题")
    rows = await log_rows(engine)
    # A digit is a command, never a question recorded for staff as unanswered.
    assert [r["outcome"] for r in rows if r["text"] in {"3", "2"}] == ["command", "command"]


# A long story whose best entry (threats and harassment) has a close runner-up under another law.
STORY = ("离婚官司还没判下来 他天天跑到我娘家来闹 在门口骂 还拿刀比划说要杀我全家 我爸妈都七十多了"
         "吓得不得了 派出所来过两次他走了又来 有没有啥子办法让他不准靠近我们")


async def test_an_answer_offers_close_alternatives_a_digit_picks(wechat: FakeWeChat, knowledge_view: Any,
                                                                  engine: AsyncEngine) -> None:
    story = STORY
    answered = await wechat.say(RESIDENT, story)
    assert "法律依据" in answered.text and texts.ALTERNATIVES in answered.text
    offered = answered.text.split(texts.ALTERNATIVES, 1)[1].split("1. ", 1)[1].split("\n", 1)[0]
    match = knowledge_view.match(story)
    assert offered == match.alternatives[0].question and offered != match.entry.question
    beyond = len(match.alternatives) + 1
    out_of_range = await wechat.say(RESIDENT, str(beyond))
    assert out_of_range.text == (texts.BAD_CHOICE_ONE if beyond == 2 else texts.BAD_CHOICE).format(
        n=beyond, max=beyond - 1)
    picked = await wechat.say(RESIDENT, "1")
    chosen = knowledge_view.entry(match.alternatives[0].entry_id)
    assert picked.text.startswith(chosen.answer.strip()[:20]) and "法律依据" in picked.text
    # The pick is a command: the question was counted once, when it was asked.
    rows = await log_rows(engine)
    assert [(r["text"], r["outcome"], r["entry_id"]) for r in rows[-1:]] == [("1", "command", chosen.id)]
    plain = await wechat.say(RESIDENT, "网上买的东西不想要了能退吗")
    assert texts.ALTERNATIVES not in plain.text  # a clear question: nothing else comes close
    stale = await wechat.say(RESIDENT, "1")
    assert stale.text.startswith("现在没有可以选的问题")


@pytest.mark.parametrize("message", ["人工", "我要找人工", "人工客服", "找工作人员", "转人工客服"])
async def test_asking_for_a_person_explains_how_to_reach_staff(wechat: FakeWeChat, message: str) -> None:
    delivery = await wechat.say(RESIDENT, message)
    assert "留言+您的问题" in delivery.text and "《" not in delivery.text


async def test_asking_for_the_office_phone_gets_the_contacts(wechat: FakeWeChat) -> None:
    delivery = await wechat.say(RESIDENT, "司法所电话多少")
    assert delivery.text.startswith("联系方式") and "12348" in delivery.text and "《" not in delivery.text


async def test_original_text_of_the_cited_article(wechat: FakeWeChat, server: Server) -> None:
    nothing = await wechat.say(RESIDENT, "原文")
    assert "没有引用" in nothing.text
    answered = await wechat.say(RESIDENT, "网上买的东西不想要了能退吗")
    assert "法律依据" in answered.text or "相关法律规定" in answered.text
    original = await wechat.say(RESIDENT, "原文")
    cited = answered.text.split("《", 1)[1].split("条", 1)[0]  # e.g. 消费者权益保护法》第二十五
    assert original.text.startswith("《" + cited + "条")


async def test_an_inserted_article_is_cited_and_shown_as_itself(wechat: FakeWeChat, engine: AsyncEngine) -> None:
    # 刑法 第二百七十六条之一 (拒不支付劳动报酬罪) is not 第二百七十六条 (破坏生产经营罪).
    answered = await wechat.say(RESIDENT, "老板有钱就是不给工钱 能告他坐牢吗")
    assert "《刑法》第二百七十六条之一" in answered.text
    original = await wechat.say(RESIDENT, "原文")
    assert original.text.startswith("《刑法》第二百七十六条之一\n") and "逃避支付劳动者的劳动报酬" in original.text
    rows = await log_rows(engine)
    assert rows[0]["citations"][0] == ["刑法", 276, 1]


async def test_long_answers_continue_page_by_page(
    settings: Settings, engine: AsyncEngine, knowledge_view: object, platform: SandboxPlatform
) -> None:
    small_pages = replace(settings, conversation=replace(settings.conversation, page_chars=80))
    srv = await start_server(small_pages, knowledge_view)
    try:
        async with FakeWeChat(srv.webhook, token=TEST_TOKEN, appid=TEST_APPID) as fake:
            first = await fake.say(RESIDENT, "老板拖欠我工资不给咋办")
            assert "继续" in first.text
            pages = [first.text.replace("\n（内容较长，回复“继续”看下一段）", "")]
            for _ in range(30):
                nxt = await fake.say(RESIDENT, "继续")
                if "后面没有了" in nxt.text:
                    break
                pages.append(nxt.text.replace("\n（内容较长，回复“继续”看下一段）", ""))
            else:
                pytest.fail("paging never ended")
        # A list of alternatives would land on a page the resident has not read: none is offered.
        async with FakeWeChat(srv.webhook, token=TEST_TOKEN, appid=TEST_APPID) as fake:
            story = await fake.say(RESIDENT, STORY)
            assert "继续" in story.text and texts.ALTERNATIVES not in story.text
            assert (await fake.say(RESIDENT, "1")).text.startswith("现在没有可以选的问题")
    finally:
        await srv.runner.cleanup()
    assert len(pages) >= 3
    assert all(len(p) <= 80 for p in pages)
    whole = "".join(pages)
    assert "法律依据" in whole


async def test_leaving_a_message_for_staff(wechat: FakeWeChat, engine: AsyncEngine) -> None:
    empty = await wechat.say(RESIDENT, "留言")
    assert "请在“留言”后面写上" in empty.text
    ack = await wechat.say(RESIDENT, "留言 我家承包地被邻居占了，想请村里调解")
    assert "留言已经收到" in ack.text
    async with engine.connect() as conn:
        stored = (await conn.execute(select(StaffMessage.text, StaffMessage.openid))).all()
    assert stored == [("我家承包地被邻居占了，想请村里调解", RESIDENT)]


async def test_pictures_and_locations_get_a_hint(wechat: FakeWeChat) -> None:
    picture = await wechat.deliver(wechat.media(RESIDENT, "image"))
    assert "文字和语音" in picture.text
    place = await wechat.deliver(wechat.media(RESIDENT, "location"))
    assert "位置" in place.text


async def test_unknown_message_type_is_acknowledged(wechat: FakeWeChat) -> None:
    fields = {**wechat._base(RESIDENT, "miniprogrampage"), "MsgId": 77}
    delivery = await wechat.deliver(fields)
    assert delivery.status == 200 and delivery.acknowledged


async def test_message_log_keeps_a_hash_not_the_openid(wechat: FakeWeChat, engine: AsyncEngine) -> None:
    await wechat.say(RESIDENT, "老板欠我工钱不给")
    [row] = await log_rows(engine)
    assert row["openid_hash"] != RESIDENT and RESIDENT not in row["openid_hash"]
    assert row["outcome"] in {"answered", "ambiguous"}
    assert row["latency_ms"] is not None and row["state"] == "done"
    assert row["citations"]  # ambiguous replies name their candidates' articles too


async def test_an_unanswerable_question_is_recorded_for_staff_with_the_referral(
    wechat: FakeWeChat, engine: AsyncEngine
) -> None:
    delivery = await wechat.say(RESIDENT, "我家狗今天不吃东西咋办")  # 狗 is a word of the dog-bite entries
    assert "《" not in delivery.text
    assert "12348" in delivery.text and "转给" in delivery.text
    [row] = await log_rows(engine)
    assert row["outcome"] == "no_match" and row["tier"] == "none" and not row["citations"]


async def test_chit_chat_is_told_what_pufa_is_for_without_a_promise_to_staff(
    wechat: FakeWeChat, engine: AsyncEngine
) -> None:
    delivery = await wechat.say(RESIDENT, "今天天气怎么样")
    assert "《" not in delivery.text and "转给" not in delivery.text and "抱歉" not in delivery.text
    assert "普法小助手" in delivery.text and "劳动用工" in delivery.text  # and the topic menu
    [row] = await log_rows(engine)
    assert row["outcome"] == "no_match" and row["tier"] == "chat" and not row["citations"]


@pytest.mark.parametrize("message", ["你多少岁了", "你是机器人吗？", "你叫啥名字", "您是真人不是"])
async def test_questions_about_pufa_itself_are_answered_about_pufa(wechat: FakeWeChat, message: str) -> None:
    # 多少岁 alone read as the age of marriage or of starting work.
    delivery = await wechat.say(RESIDENT, message)
    assert delivery.text.startswith("我是") and "《" not in delivery.text and "1." not in delivery.text


@pytest.mark.parametrize(
    ("message", "reply"),
    [("🙏🙏 谢谢老师", "不客气"), ("多谢老师 费心了！", "不客气"), ("你好呀 小助手", "您好"), ("在吗？", "您好"),
     ("[强][强]", "收到您的表情"), ("👍", "收到您的表情"), ("晚安", "好的，再见")],
)
async def test_courtesies_get_a_courtesy_not_a_law(wechat: FakeWeChat, message: str, reply: str) -> None:
    # 老师 alone once matched the entry on teachers who hit pupils.
    delivery = await wechat.say(RESIDENT, message)
    assert delivery.text.startswith(reply) and "《" not in delivery.text


async def test_a_question_with_thanks_is_still_a_question(wechat: FakeWeChat) -> None:
    delivery = await wechat.say(RESIDENT, "谢谢老师，老板欠我工钱不给咋办")
    assert "《" in delivery.text and not delivery.text.startswith("不客气")


@pytest.mark.parametrize(
    ("message", "first_words"),
    [
        ("对方让我转账到安全账户，说是公安局的", "请马上停止转账"),
        ("我老公正在打我，救命", "如果您或家人正在遭受暴力"),
        ("活着没意思，我不想活了", "您的感受很重要"),
        ("我刚刚被骗转了五千块", "请马上停止转账"),
        ("我被人打了，流了好多血", "如果您或家人正在遭受暴力"),
        ("家里着火了", "请马上离开着火的地方"),
        ("孩子被人拐走了", "请马上拨打110报警"),
    ],
)
async def test_urgent_danger_gets_emergency_numbers_first(wechat: FakeWeChat, message: str, first_words: str) -> None:
    delivery = await wechat.say(RESIDENT, message)
    assert delivery.text.startswith(first_words), delivery.text[:80]
    assert any(number in delivery.text.split("\n", 1)[0] for number in ("110", "96110", "12356", "119"))


@pytest.mark.parametrize("message", ["有人拿刀要砍我", "我不想活了", "家里着火了"])
async def test_someone_in_danger_gets_no_apology_and_no_topic_list(wechat: FakeWeChat, message: str) -> None:
    delivery = await wechat.say(RESIDENT, message)
    assert "答不上来" not in delivery.text and "常见问题分类" not in delivery.text
    assert "先顾好安全" in delivery.text or "《" in delivery.text


async def test_someone_beaten_now_is_pointed_to_the_police_and_the_womens_hotline(wechat: FakeWeChat) -> None:
    delivery = await wechat.say(RESIDENT, "有人拿刀要砍我")  # no written answer fits this one
    after = delivery.text.split("先顾好安全", 1)[1]
    assert after.index("110") < after.index("12348") and "12338" in after


async def test_a_scam_in_progress_is_answered_from_the_anti_fraud_entries(wechat: FakeWeChat) -> None:
    # The mistaken-transfer entry ranks first on its words alone; after "stop the transfer" it misleads.
    delivery = await wechat.say(RESIDENT, "对方让我转账")
    assert delivery.text.startswith("请马上停止转账")
    assert "不当得利" not in delivery.text and "诈骗" in delivery.text.split("\n\n", 1)[1]


async def test_a_scam_naming_the_office_is_a_scam_not_a_request_for_its_phone(wechat: FakeWeChat) -> None:
    delivery = await wechat.say(RESIDENT, "刚才有个电话说是你们司法所的要我转账")
    assert delivery.text.startswith("请马上停止转账")


async def test_a_deposit_a_boss_demands_stays_a_labour_answer(wechat: FakeWeChat) -> None:
    # Urgent by its words ("让我先交保证金"), but the labour entry scores far above any scam entry.
    delivery = await wechat.say(RESIDENT, "老板让我先交保证金才能上班 合法吗")
    assert "《劳动合同法》第九条" in delivery.text


async def test_one_word_of_a_topic_lists_its_questions(wechat: FakeWeChat) -> None:
    delivery = await wechat.say(RESIDENT, "土地")
    assert delivery.text.startswith("【农村土地】") and "1." in delivery.text
    assert "法律依据" in (await wechat.say(RESIDENT, "1")).text
