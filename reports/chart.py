"""The PNG of monthly trends (pushes, questions, answer rate, followers) with Chinese labels.

The CJK font comes from a Python package the project depends on (``pylopdf-fonts-zh-cn``: Noto Sans SC,
SIL OFL), so the labels render on any machine that ran ``pip install``; a system Noto/WenQuanYi CJK
font is used if that package is missing.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.ticker import MaxNLocator, PercentFormatter

from reports.figures import Report

log = logging.getLogger("pufa.reports.chart")
SYSTEM_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                    "Source Han Sans SC", "SimHei")


class FontMissingError(RuntimeError):
    pass


@cache
def cjk_font() -> str:
    """The family name of a font that has Chinese glyphs, registered with matplotlib."""
    try:
        import pylopdf_fonts_zh_cn

        path = pylopdf_fonts_zh_cn.sans_path()
        font_manager.fontManager.addfont(str(path))
        return str(font_manager.FontProperties(fname=str(path)).get_name())
    except (ImportError, OSError, RuntimeError) as exc:  # pragma: no cover - the dependency is pinned
        log.warning("bundled CJK font unavailable (%s); looking for a system font", exc)
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in SYSTEM_CJK_FONTS:
        if name in installed:
            return name
    raise FontMissingError("找不到中文字体：请运行 pip install -e . 安装 pylopdf-fonts-zh-cn")


def write(report: Report, path: Path) -> None:
    family = cjk_font()
    plt.rcParams["font.family"] = [family]
    plt.rcParams["axes.unicode_minus"] = False
    months = report.months
    labels = [f"{m.first.month}月" if len({x.first.year for x in months}) == 1 else f"{m.first:%Y-%m}"
              for m in months]
    x = range(len(months))
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), dpi=110)
    fig.suptitle(f"{report.period.label}普法宣传月度趋势", fontsize=16)

    ax = axes[0][0]
    ax.bar(x, [m.pushes.by_channel.get("wechat", 0) for m in months], label="微信公众号", color="#2f7d32")
    ax.bar(x, [m.pushes.by_channel.get("dingtalk", 0) for m in months], label="钉钉", color="#1e88e5",
           bottom=[m.pushes.by_channel.get("wechat", 0) for m in months])
    ax.set_title("推送法律知识（条）")
    ax.legend()

    ax = axes[0][1]
    ax.plot(x, [m.questions.received for m in months], marker="o", label="收到咨询")
    ax.plot(x, [m.questions.answered for m in months], marker="o", label="自动答复")
    ax.plot(x, [m.questions.unanswered for m in months], marker="o", label="未能答复")
    ax.set_title("群众咨询（条）")
    ax.legend()

    ax = axes[1][0]
    # A month without questions has no rate: a gap in the line, not a fall to 0%.
    rates = [m.questions.answer_rate if m.questions.answer_rate is not None else float("nan") for m in months]
    ax.plot(x, rates, marker="o", color="#c62828")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title("答复率")

    ax = axes[1][1]
    ax.bar(x, [m.followers.new for m in months], label="新增关注", color="#43a047")
    ax.bar(x, [-m.followers.lost for m in months], label="取消关注", color="#e53935")
    ax2 = ax.twinx()
    ax2.plot(x, [m.followers.end for m in months], marker="o", color="#333333", label="期末关注")
    ax.set_title("关注人数")
    ax.legend(loc="upper left")
    ax2.legend(loc="upper right")

    for row in axes:
        for a in row:
            a.set_xticks(list(x), labels)
            a.set_xlim(-0.6, len(months) - 0.4)
            a.grid(axis="y", alpha=0.3)
    for a in (axes[0][0], axes[0][1], axes[1][1], ax2):
        a.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
