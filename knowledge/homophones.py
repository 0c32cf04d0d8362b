"""Voice-input slips: a character replaced by another of the same sound (离昏, 法律原助, 摘基地, 中裁).

Residents dictate; the phone's recogniser writes what it hears, and a word of the law often comes out
with one character of the same pinyin swapped (援助 → 原助, 仲裁 → 中裁). jieba then cuts the slip into
single characters that match nothing. The synonym table lists the slips seen so far; this module finds
the others: a run of two to four characters that is not a word itself, and that differs from a word of
the lay and legal vocabulary in exactly one character with a common reading (tones ignored, as the
recogniser ignores them), is read as that word.

Precision first, since a wrong correction changes a question: the run must not be a word (工商 stays 工商,
not 工伤 — the table maps a real word that is a slip where residents mean it), only one character may
differ (是事 is not 事实), and a run that could be two different words is left alone.
"""

from __future__ import annotations

import importlib.metadata
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = ["HomophoneFixer", "readings_table", "readings_version", "word_readings"]

MIN_LEN, MAX_LEN = 2, 4
_FIRST, _LAST = 0x3400, 0x9FFF  # CJK Unified Ideographs and Extension A
_AMBIGUOUS = ""  # a key that leads to more than one word


def _toneless(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable.strip()).replace("u\u0308", "v")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def readings_version() -> str:
    """pypinyin's version: its dictionary decides the readings, so cached analyses and pickled indexes
    made with another one are not reused (knowledge/termcache.py, knowledge/snapshot.py)."""
    try:
        return importlib.metadata.version("pypinyin")
    except importlib.metadata.PackageNotFoundError:  # vendored, not installed as a distribution
        import pypinyin

        return str(getattr(pypinyin, "__version__", "unknown"))


def readings_table() -> dict[str, str]:
    """The main toneless reading of every character pypinyin knows: what a recogniser that heard
    that syllable may have written. Built once with the index, so that a process loading the pickled
    index does not import pypinyin's dictionary (0.3 s)."""
    from pypinyin.pinyin_dict import pinyin_dict  # heavy: only when an index is built

    return {chr(code): _toneless(raw.split(",")[0]) for code, raw in pinyin_dict.items()
            if _FIRST <= code <= _LAST and raw.strip()}


def word_readings(word: str) -> tuple[str, ...]:
    """The toneless reading of each character of ``word`` as the word is said (多音字 by context)."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(word, style=Style.NORMAL, v_to_u=False, neutral_tone_with_five=False))


class HomophoneFixer:
    """``fix(tokens, is_word)`` rewrites the slips in a segmented query; everything else is left."""

    def __init__(self, vocabulary: Iterable[str], readings: Mapping[str, str],
                 keep: Iterable[str] = ()) -> None:
        # Characters never taken for a slip: particles and pronouns (为成年人 is not 未成年人, 上家 not 商家).
        self._keep = frozenset(keep)
        # (the word with one position masked, that position, the masked character's reading) → word
        index: dict[tuple[str, int, str], str] = {}
        # (length, position, character) of the first two characters of every word: a run one
        # character off a word has the word's character at position 0 or 1, so a run with neither
        # is passed over before any string is built (most runs of a message).
        heads: set[tuple[int, int, str]] = set()
        for word in dict.fromkeys(vocabulary):
            if not MIN_LEN <= len(word) <= MAX_LEN or any(ch not in readings for ch in word):
                continue
            said = word_readings(word)
            if len(said) != len(word):
                continue
            heads.update(((len(word), 0, word[0]), (len(word), 1, word[1])))
            for pos, reading in enumerate(said):
                key = (word[:pos] + "?" + word[pos + 1:], pos, reading)
                index[key] = word if index.get(key, word) == word else _AMBIGUOUS
        self._index = index
        self._heads = frozenset(heads)
        # The reading of every character that sounds like a character of a word (the others never
        # match a key), as a syllable number + 1 per code point (0: none): a dict of ~15,000
        # one-character strings took 4.6 MB in every serving process, this 54 KB.
        used = {reading for _, _, reading in index}
        self._syllables = ("", *sorted(used))
        number = {s: n for n, s in enumerate(self._syllables)}
        self._numbers = array("H", bytes(2 * (_LAST - _FIRST + 1)))
        for ch, reading in readings.items():
            if reading in used and _FIRST <= ord(ch) <= _LAST:
                self._numbers[ord(ch) - _FIRST] = number[reading]

    def reading(self, ch: str) -> str | None:
        """The main reading of ``ch``, if it is one a word's character has."""
        code = ord(ch) - _FIRST
        return self._syllables[self._numbers[code]] or None if 0 <= code <= _LAST - _FIRST else None

    def __len__(self) -> int:
        return len(self._index)

    def candidate(self, span: str) -> str | None:
        """The one word ``span`` is a slip of, or None."""
        found: set[str] = set()
        for pos, ch in enumerate(span):
            if ch in self._keep:
                continue
            reading = self.reading(ch)
            if reading is None:
                continue
            word = self._index.get((span[:pos] + "?" + span[pos + 1:], pos, reading))
            if word is not None and word != span:
                found.add(word)
        if len(found) != 1:
            return None
        return found.pop() or None

    def fix(self, tokens: Sequence[str], is_word: Callable[[str], bool]) -> str | None:
        """The text of ``tokens`` (as the segmenter cut it) with each slip replaced by its word, or
        None when there is none. A slip is cut into pieces (原/助), leaving a stray character the
        segmenter could not attach, so a run is two or more whole tokens, one of them a single
        character that may be a slip (not a particle); ``is_word``: whether a run is a word in its
        own right (then it is left alone)."""
        keep, numbers = self._keep, self._numbers
        loose = [len(tok) == 1 and tok not in keep and _FIRST <= ord(tok) <= _LAST and numbers[ord(tok) - _FIRST] > 0
                 for tok in tokens]
        if not any(loose):
            return None
        heads = self._heads
        out: list[str] = []
        changed = False
        t, n = 0, len(tokens)
        while t < n:
            # Runs starting at t, longest first: 摘基地 is 宅基地, not 摘 + 基地.
            ends: list[tuple[int, int]] = []
            size, stray = len(tokens[t]), loose[t]
            for u in range(t + 1, min(n, t + MAX_LEN)):
                size += len(tokens[u])
                if size > MAX_LEN:
                    break
                stray = stray or loose[u]
                if stray:
                    ends.append((u + 1, size))
            first = tokens[t]
            second = first[1] if len(first) > 1 else (tokens[t + 1][0] if t + 1 < n else "")
            for u, length in reversed(ends):
                if (length, 0, first[0]) not in heads and (length, 1, second) not in heads:
                    continue
                span = "".join(tokens[t:u])
                if is_word(span):
                    continue
                word = self.candidate(span)
                if word is not None:
                    out.append(word)
                    t = u
                    changed = True
                    break
            else:
                out.append(tokens[t])
                t += 1
        return "".join(out) if changed else None
