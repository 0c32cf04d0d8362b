"""Every sentence residents see, in one place, so staff can reword them without reading logic."""

from __future__ import annotations

WELCOME = (
    "您好，欢迎关注{account}！我是{town}的普法小助手。\n"
    "有法律上的难事，直接打字或者发语音问我就行，比如：\n"
    "· 老板欠工钱不给咋办\n· 离婚了娃儿归哪个\n· 网上买到假货能不能退\n"
    "回复下面的分类名，看常见问题："
)
MENU_HEADER = "常见问题分类（回复分类名查看）："
MENU_FOOTER = "也可以直接打字问我。想找工作人员，回复“留言+您的问题”。"
TOPIC_LIST = "【{topic}】常见问题，回复数字查看："
CHOOSE_HINT = "回复数字查看答案。"
AMBIGUOUS = "您问的是不是下面这些？"
# Below a written answer, when other answers came close: a long story is easily misread.
ALTERNATIVES = "上面没说到您的事？您可能想问："
CITATION_PREFIX = "法律依据："
CANDIDATE_LAWS = "相关法律："
LAW_TIER_FURTHER = "另见："
NEXT_STEPS = "下一步可以找："
ORIGINAL_HINT = "回复“原文”看法条原文。"
MORE_HINT = "（内容较长，回复“继续”看下一段）"
NO_MORE = "后面没有了。有别的问题可以直接问我。"
NOTHING_TO_CONTINUE = "现在没有要接着看的内容。有问题可以直接问我。"
NO_ORIGINAL = "我刚才没有引用具体法条。您可以先问一个问题，再回复“原文”。"
NO_CANDIDATES = "现在没有可以选的问题。请直接把您的问题告诉我。"
BAD_CHOICE = "没有第{n}个选项，请回复 1 到 {max} 之间的数字。"
BAD_CHOICE_ONE = "没有第{n}个选项，只有1个，回复 1 查看。"
ARTICLE_NOT_FOUND = "法条库里暂时没有{label}的原文。"
LAW_TIER_HEADER = "这个问题我还没有整理好的解答，下面是相关法律规定，仅供参考："
LAW_TIER_CAVEAT = "法条比较专业，具体情况不同，结果可能不同。建议带上材料咨询专业人员。这个问题已经记下来，工作人员会整理解答。"
NO_MATCH = (
    "抱歉，这个问题我暂时答不上来，已经记下来转给{office}的工作人员。\n"
    "您也可以："
)
NO_MATCH_TOPICS = "或者看看这些常见问题分类："
# A message with nothing about law in its words (weather, farming, phones, chat): no promise that staff
# will answer, only what pufa is for — and, in case it was a legal question after all, how to ask again
# or reach staff.
CHAT = ("我是{office}的普法小助手，只会回答法律上的问题，比如工钱要不到、离婚、承包地、遇到诈骗。"
        "您问的如果是法律上的事，可以换个说法再问我，或者回复“留言+您的问题”请工作人员帮忙。")
ABOUT_BOT = "我是{office}的普法小助手，是自动回复的程序，不是真人。有法律上的问题直接问我；要找工作人员，请回复“留言+您的问题”。"
EMPTY_TEXT = "您好像没有说话。请直接打字把问题告诉我，比如“老板欠工钱不给咋办”。"
VOICE_UNRECOGNISED = "不好意思，这条语音我没听清楚，请发文字给我，或者再说一遍。"
MEDIA_HINT = "收到啦。我只看得懂文字和语音，请用文字或语音把问题告诉我。"
LOCATION_HINT = "收到您的位置。如需上门服务，请回复“留言+您的问题”，工作人员会联系您。"
LEAVE_MESSAGE_ACK = (
    "您的留言已经收到，{office}工作人员会尽快回复您（一般48小时内）。"
    "急事请直接打电话："
)
LEAVE_MESSAGE_EMPTY = "请在“留言”后面写上您的问题，比如：留言 我家承包地被人占了，想请人帮忙调解。"
HUMAN_PROMPT = "需要工作人员帮忙的话，请回复“留言+您的问题”，我们会转给{office}。"
GREETING = "您好！有法律上的问题，直接打字或者发语音问我就行。"
EMOJI = "收到您的表情啦！有法律上的问题，直接打字或者发语音问我就行。"
THANKS = "不客气！以后有问题随时问我。"
FAREWELL = "好的，再见！以后有法律上的问题随时问我。"
CONTACTS = "联系方式："
URGENT = {
    "violence": "如果您或家人正在遭受暴力，请马上拨打110报警，受伤了拨打120。先到安全的地方去。",
    "fraud": "请马上停止转账！凡是让您转到“安全账户”、要验证码、先交钱的都是诈骗。已经转账的请立刻拨打110或96110报警。",
    "self_harm": "您的感受很重要，请不要一个人扛着。请马上拨打心理援助热线12356，或者拨打110、120求助，也可以找身边信得过的人。",
    "fire": "请马上离开着火的地方，拨打119报火警，有人受伤拨打120。不要回去拿东西。",
    "missing_child": "请马上拨打110报警，越快越好！报警不用等24小时。说清楚孩子的样子、穿的衣服、在哪里不见的。",
}
# After the emergency numbers, when no written answer fits: no apology and no topic menu for
# someone in danger, only where to turn once safe.
URGENT_NO_MATCH = "先顾好安全。等安全了，有法律上的事可以再问我，也可以找："
LATE_ANSWER_PREFIX = ""
