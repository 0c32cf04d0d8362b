"""The error-code policy of docs/reliability.md ("Scheduled pushes"), as one table.

Every WeChat answer to a mass send maps to one action. Retries always reuse the post's clientmsgid,
wait at least ``min_backoff`` and stop ``retry_window`` after the send time (then a human decides:
an automatic resend past WeChat's 24 h memory could reach followers twice).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.Enum):
    SENT = "sent"  # accepted now
    ALREADY_SENT = "already_sent"  # 45065: an earlier attempt got through; keep its msg_id
    RETRY = "retry"  # transient: same clientmsgid, back off
    FAILED = "failed"  # stop and alert staff; nothing was sent
    NEEDS_ATTENTION = "needs_attention"  # stop; staff must check the account, then decide
    RECORD = "record"  # customer-service window/count: recorded, no retry


@dataclass(frozen=True)
class Rule:
    action: Action
    alert: bool
    # Minimum wait before the next try (seconds); 0 = the normal backoff.
    wait: float = 0.0
    note: str = ""


# errcode → rule. TRANSPORT (-1 with no answer) covers timeouts, connection errors and HTTP 5xx.
TRANSPORT = -1
POLICY: dict[int, Rule] = {
    0: Rule(Action.SENT, False, note="已提交群发"),
    -1: Rule(Action.RETRY, False, note="系统繁忙/超时/5xx：同一 clientmsgid 退避重试"),
    # The client already refreshed the token once and retried once; if that failed too, back off.
    40001: Rule(Action.RETRY, False, note="access_token 无效：已刷新重试一次，稍后再试"),
    40014: Rule(Action.RETRY, False, note="access_token 不合法：已刷新重试一次，稍后再试"),
    42001: Rule(Action.RETRY, False, note="access_token 过期：已刷新重试一次，稍后再试"),
    45009: Rule(Action.FAILED, True, note="接口调用超过每日限额"),
    45011: Rule(Action.FAILED, True, note="接口调用过于频繁（API 限额）"),
    45028: Rule(Action.FAILED, True, note="群发次数已用完"),
    45065: Rule(Action.ALREADY_SENT, False, note="24 小时内已用相同 clientmsgid 群发过"),
    45066: Rule(Action.RETRY, False, wait=60.0, note="重试过快，至少等待 60 秒"),
    45015: Rule(Action.RECORD, False, note="客服消息窗口已关闭或用户已取消关注"),
    45047: Rule(Action.RECORD, False, note="客服消息条数超限"),
    40164: Rule(Action.NEEDS_ATTENTION, True, note="调用 IP 不在白名单中，请在公众号后台添加"),
}
UNKNOWN = Rule(Action.FAILED, True, note="未知错误码，未自动重试")


def rule_for(errcode: int) -> Rule:
    return POLICY.get(errcode, UNKNOWN)


def backoff(attempt: int, *, minimum: float, maximum: float) -> float:
    """Seconds before try ``attempt + 1``: 60, 120, 240 … capped; never below ``minimum``."""
    return float(max(minimum, min(maximum, minimum * 2.0 ** max(0, attempt - 1))))
