"""Chinese text → search terms: normalisation, jieba with the legal dictionary, synonyms, stopwords.

One private ``jieba.Tokenizer`` per instance (never the global one, whose cache goes to /tmp and
whose dictionary other code may change). Its cache file lives in the ``cache_dir`` given by the
application; without one nothing is written and the prefix dictionary is built in memory.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from knowledge.dictbuild import read_lay_terms
from knowledge.homophones import HomophoneFixer, readings_table
from knowledge.jieba_loader import jieba

DICT_DIR = Path(__file__).resolve().parent / "dict"
CACHE_FILE = "pufa-jieba.cache"
# Longer messages are cut: nobody asks a question in 1000 characters, and it bounds the latency.
MAX_CHARS = 1000
SYNONYM_FREQ = 5000
# jieba's dictionary has many rare fragments (托车, 可不); a sub-word must be a real word to be added.
MIN_PART_FREQ = 50

# Words a voice slip is read back to (knowledge/homophones.py), besides the lay terms: the law's core
# words that jieba knows already, so lay_terms.txt does not list them (赔尝 → 赔偿, 中裁 → 仲裁).
SOUND_TARGETS = ("赔偿", "补偿", "仲裁", "援助", "担保", "继承", "抚养", "拖欠", "判刑", "公证", "诉讼", "律师")

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORDLIKE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[a-z0-9]{2,}")
_SPACES = re.compile(r"\s+")
# 地 alone is a stopword (the adverbial particle of 慢慢地), but residents call their land 地: "我家的地",
# "地被占了", "收我家的地", "俺家地被征了", "要把地收回去", "三亩地". After 的, 家, 把 or a measure (块, 亩,
# 片), at the end of a phrase or before a verb, and at the start of a phrase before 被/给/让, it is land
# (的地方, 的地区, 的地位 … are left alone).
_LAND = re.compile(r"(?<=[的家把块亩片])地(?=$|[\s,，。？！、.?!；;：:被给让租占卖换分收荒种都也还没不要咋怎啥是])"
                   r"|(?:^|(?<=[\s,，。？！、.?!]))地(?=[被给让])")
# Ages, sums and dates ("七十多岁", "三千多块", "2023年") say little about the legal question, yet each is a
# rare word and would outweigh everything else. Multiples (三倍, 十倍) are kept: they name remedies.
# Public service numbers are words residents ask about ("12348是干啥的"), not amounts or ages.
SERVICE_NUMBERS = frozenset({"110", "119", "120", "122", "12315", "12333", "12338", "12339", "12345", "12348",
                             "12355", "12356", "12358", "12366", "12368", "12388", "96110"})
_NUMERIC = re.compile(
    r"^(?:[零〇一二两三四五六七八九十百千万亿0-9.]*[零〇二两三四五六七八九十百千万亿0-9][零〇一二两三四五六七八九十百千万亿0-9.]*"
    r"[多几余来]?(?:岁|块|元|年|天|个|月|号|次|斤|亩|人|万|千|百|分|米|点|多|来)*"
    r"|[多几][十百千万]?(?:岁|块|元|年|天|个月|次|万|千|百)+)$"
)


# A month and a day: 4月15号, 4.15, 4·15, 十二月四日, 九月初九.
_MONTH = r"1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]"
_DAY = r"3[01]|[12][0-9]|0?[1-9]|[二三]?十[一二三四五六七八九]?|初[一二三四五六七八九十]|[一二三四五六七八九]"
_DATE = re.compile(rf"(?<![0-9.])({_MONTH})\s*(月份?|[.·•・/\-])\s*({_DAY})\s*(?:日|号)?(?![0-9万千百元块角%])")
_CALL = re.compile(r"打(?=(?:了|过)?(?:个|一个)?(?:电话)?\s*[0-9]{3,}(?![0-9]*(?:块|元|万|千|百|多|斤|次)))")
# 打 is also how people write a note: 打借条, 打了个白条, "借条是前年打的" (and voice input's 借调 for 借条).
# Read as 殴打 it pulled IOU questions towards assault (村里人 "借条是2019年打的 还能告不").
_NOTE = r"(?:借|欠|白)[条调]"
_NOTE_AFTER = re.compile(rf"打((?:了|过)?(?:个|张|一张|一个)?{_NOTE})")
# Only "…打的" / "…打了" ending the clause: "为了欠条的事他打了我一顿" is a blow.
_NOTE_BEFORE = re.compile(rf"({_NOTE}[^，。,.!?！？;；\s]{{0,10}}?)打(?=的|了(?:$|[，。,.!?！？;；\s]))")
_NOTE_SLIP = re.compile(r"(借|欠)调(?=[^，。,.!?！？;；\s]{0,10}?打[的了过])"
                        r"|(?<=打)((?:了|过)?(?:个|张|一张|一个)?(?:借|欠))调")
# …and how pesticide is sprayed (邻居打农药飘到我家地里).
_SPRAY = re.compile(r"打(?=(?:了|过)?(?:点|些)?(?:农药|除草剂|杀虫剂|药水))")
# Severance as workers name it: N+1 (劳动合同法 40, 47), 2N (87).
_SEVERANCE = re.compile(r"(?<![a-z0-9])(?:n\s*\+\s*1(?![0-9])|(2)\s*n(?![a-z]))")
# An age decides many answers (未成年人 under 18, 民法典 17; 老年人 from 60, 老年人权益保障法 2): "十五岁…打工"
# is about a minor at work, "七十多岁…不给生活费" about an old parent. The age itself stays out (see above);
# the class the law gives it goes in.
_AGE = re.compile(r"([零〇一二两三四五六七八九十百0-9]+)([多几来余])?周?岁")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}


def _note(m: re.Match[str]) -> str:
    return f"{m.group(1)}条" if m.group(1) else f"{m.group(2)}条"


def _chinese_number(text: str) -> int | None:
    """0–999 in digits or Chinese numerals (十五, 二十, 一百零二); None for anything else."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _age_class(match: re.Match[str]) -> str:
    age = _chinese_number(match.group(1))
    if age is None or age > 130:
        return match.group(0)
    if match.group(2) == "几" and match.group(1) == "十":  # 十几岁: a teenager
        return " 未成年人 "
    if age < 18 and not match.group(2):
        return " 未成年人 "
    if age >= 60:
        return " 老年人 "
    return " "


@dataclass(frozen=True)
class Analysis:
    """What the index needs from one text, from a single jieba pass."""

    words: tuple[str, ...]  # search-mode content words (with sub-words of long words), repeated as they occur
    keywords: tuple[str, ...]  # unique content words in order, precise mode (for grouping questions)
    bigrams: tuple[str, ...]  # character bigrams of Han runs: the fallback for typos and unknown words


def _read_pairs(path: Path) -> dict[str, tuple[str, ...]]:
    pairs: dict[str, tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition("\t")
        pairs[key.strip()] = tuple(value.split())
    return pairs


def resolve_chains(synonyms: dict[str, tuple[str, ...]], depth: int = 4) -> dict[str, tuple[str, ...]]:
    """Synonyms whose replacement is itself a synonym key resolve to that key's replacement: a typing
    slip mapped to the lay word (吸独 → 吸毒) must reach the words the index has (吸毒 → 吸食 毒品), or the
    slip matches nothing. A word that maps to itself (闲鱼 → 闲鱼 二手) stays; cycles stop at ``depth``."""
    def expand(word: str, seen: frozenset[str], left: int) -> tuple[str, ...]:
        target = synonyms.get(word)
        if target is None or word in seen or left == 0:
            return (word,)
        return tuple(t for w in target
                     for t in ((w,) if w == word else expand(w, seen | {word}, left - 1)))

    return {key: tuple(dict.fromkeys(t for w in value
                                     for t in ((w,) if w == key else expand(w, frozenset({key}), depth))))
            for key, value in synonyms.items()}


def _read_words(path: Path) -> frozenset[str]:
    return frozenset(
        ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and ln[0] != "#"
    )


class Tokenizer:
    """Thread-safe after ``warm_up``; ``analyze`` only reads."""

    def __init__(self, cache_dir: str | Path | None = None, dict_dir: Path = DICT_DIR, hmm: bool = False) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.dict_dir = dict_dir
        self.hmm = hmm
        self.synonyms = resolve_chains(_read_pairs(dict_dir / "synonyms.txt"))
        self.stopwords = _read_words(dict_dir / "stopwords.txt")
        self.phrases = _read_words(dict_dir / "phrases.txt") if (dict_dir / "phrases.txt").exists() else frozenset()
        # (month, day) → the publicity day's name (days.txt).
        self.days = {tuple(int(n) for n in k.split("-")): " ".join(v)
                     for k, v in _read_pairs(dict_dir / "days.txt").items()} if (dict_dir / "days.txt").exists() else {}
        # The legal vocabulary (THUOCL_law + lay terms) and the words synonyms map to: a message with
        # none of them, and none of the entries' keywords, is not a legal question (see engine.py).
        self.legal_words = frozenset(
            ln.split()[0] for ln in (dict_dir / "legal.txt").read_text(encoding="utf-8").splitlines()
            if ln.strip() and ln[0] != "#"
        ) | frozenset(w for targets in self.synonyms.values() for w in targets)
        self.t2s = str.maketrans({k: v[0] for k, v in _read_pairs(dict_dir / "t2s.txt").items() if v})
        self._jieba = jieba.Tokenizer()
        self._homophones: HomophoneFixer | None = None
        self._lock = threading.Lock()
        self._ready = False

    def warm_up(self) -> None:
        """Load jieba's dictionary and ours (≈1 s); later calls return at once."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            jieba.setLogLevel(logging.WARNING)  # jieba prints progress lines to stderr otherwise
            tk = self._jieba
            if self.cache_dir is not None:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                tk.tmp_dir = str(self.cache_dir)
                tk.cache_file = CACHE_FILE
                tk.initialize()
            else:
                # jieba's own initialize() always tries to write a cache file; build in memory instead.
                with tk.get_dict_file() as f:
                    tk.FREQ, tk.total = tk.gen_pfdict(f)
                tk.initialized = True
            tk.load_userdict(str(self.dict_dir / "legal.txt"))
            for key in (*self.synonyms, *self.phrases):
                if len(key) > 1:
                    tk.add_word(key, max(SYNONYM_FREQ, tk.FREQ.get(key) or 0))
            if self._homophones is None:
                # Lay terms that are themselves colloquial (老汉儿, 啥子) are not what a slip stands for.
                lay = [w for w in read_lay_terms(self.dict_dir / "lay_terms.txt") if w not in self.synonyms]
                keep = [w for w in self.stopwords if len(w) == 1]
                self._homophones = HomophoneFixer([*lay, *SOUND_TARGETS], readings_table(), keep)
            self._ready = True

    def normalize(self, text: str) -> str:
        """NFKC (full-width Latin/digits), traditional → simplified, lower case, no control characters,
        a resident's 地 as 土地."""
        text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).translate(self.t2s).lower()
        text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
        text = _AGE.sub(_age_class, text) if "岁" in text else text
        text = _DATE.sub(self._day_name, text) if self.days else text
        if "打" in text:  # 打12348, 打了110: a call, not a blow (打 alone maps to 殴打); nor a note, nor spraying
            text = _CALL.sub("拨打", text)
            if "条" in text or "调" in text:
                # The note itself says it was written: the 打 goes.
                text = _NOTE_BEFORE.sub(r"\1", _NOTE_AFTER.sub(r"\1", _NOTE_SLIP.sub(_note, text)))
            text = _SPRAY.sub("喷", text)
        if "n" in text:
            text = _SEVERANCE.sub(lambda m: " 违法解除 赔偿金 " if m.group(1) else " 经济补偿 代通知金 ", text)
        return _LAND.sub("土地", _SPACES.sub(" ", text).strip())

    def _expand(self, token: str) -> tuple[str, ...]:
        if _NUMERIC.match(token) and token not in SERVICE_NUMBERS:
            return ()
        mapped = self.synonyms.get(token, (token,))
        # Interned: an index over 100k entries holds millions of references to a few thousand words.
        return tuple(sys.intern(t) for t in mapped if t not in self.stopwords and _WORDLIKE.search(t))

    def _day_name(self, m: re.Match[str]) -> str:
        month, day = _chinese_number(m.group(1)), _chinese_number(m.group(3).lstrip("初"))
        name = self.days.get((month, day)) if month is not None and day is not None else None
        if name:
            return f" {name} "
        # Any other date with 月 is dropped, like every number; 3.5 may be an amount: left as it is.
        return " " if m.group(2).startswith("月") else m.group(0)

    def _parts(self, w: str) -> list[str]:
        """Search mode, as jieba.cut_for_search: the known 2- and 3-character parts of a longer word,
        so 劳动合同 also matches 合同. None for synonym keys (耍朋友 is about 恋爱, not 朋友), stopwords,
        phrases and numbers."""
        if w in self.synonyms or w in self.stopwords or w in self.phrases or _NUMERIC.match(w):
            return []
        freq = self._jieba.FREQ
        return [t for n in (2, 3) if len(w) > n for i in range(len(w) - n + 1)
                if freq.get(w[i:i + n], 0) >= MIN_PART_FREQ for t in self._expand(w[i:i + n])]

    def _is_word(self, text: str) -> bool:
        return self._jieba.FREQ.get(text, 0) >= MIN_PART_FREQ or text in self.synonyms or text in self.legal_words

    def analyze(self, text: str, *, fix_slips: bool = False) -> Analysis:
        """``fix_slips``: read voice slips back (原助 → 援助) — for a resident's message only, never
        for the texts indexed (a law's 为成年人 is not 未成年人)."""
        self.warm_up()
        norm = self.normalize(text)
        tokens = self._jieba.lcut(norm, HMM=self.hmm)
        fixed = self._homophones.fix(tokens, self._is_word) if fix_slips and self._homophones else None
        if fixed is not None:  # cut again as the word it was meant to be
            norm, tokens = fixed, self._jieba.lcut(fixed, HMM=self.hmm)
        words: list[str] = []
        keywords: dict[str, None] = {}
        for w in tokens:
            w = w.strip()
            if not w:
                continue
            expanded = self._expand(w)
            if w in self.synonyms:
                # A slip or a lay word reads as its targets typed (宅机地 as 宅基地: also 基地); a target
                # that is itself a synonym key is not split, as it would not be typed.
                for t in expanded:
                    words.extend(self._parts(t))
            else:
                words.extend(self._parts(w))
            words.extend(expanded)
            keywords.update(dict.fromkeys(expanded))
        grams = [sys.intern(run[i:i + 2]) for run in _HAN_RUN.findall(norm) for i in range(len(run) - 1)]
        return Analysis(tuple(words), tuple(keywords), tuple(grams))

    def words(self, text: str) -> list[str]:
        return list(self.analyze(text).words)

    def keywords(self, text: str) -> tuple[str, ...]:
        return self.analyze(text).keywords


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))
