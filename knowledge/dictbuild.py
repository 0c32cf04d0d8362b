"""Build knowledge/dict/legal.txt (jieba user-dictionary format) from THUOCL_law and the lay-term list.

Run once when the sources change::

    python -m knowledge.dictbuild ../shared/data/THUOCL_law.txt

THUOCL's DF values (up to 13 million) must not become jieba frequencies directly: they would outweigh
jieba's whole dictionary (total ≈ 6e7) and glue ordinary words together. A square root, clamped, keeps
legal terms whole without letting them swallow their neighbours.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

DICT_DIR = Path(__file__).resolve().parent / "dict"
LAY_DEFAULT_FREQ = 3000
MIN_FREQ, MAX_FREQ = 300, 5000


def thuocl_freq(df: int) -> int:
    return max(MIN_FREQ, min(MAX_FREQ, round(math.sqrt(df))))


def read_lay_terms(path: Path) -> dict[str, int]:
    terms: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        terms[parts[0]] = int(parts[1]) if len(parts) > 1 else LAY_DEFAULT_FREQ
    return terms


def build(thuocl: Path, dict_dir: Path = DICT_DIR) -> int:
    """Write legal.txt; returns the number of words written."""
    words: dict[str, int] = {}
    for line in thuocl.read_text(encoding="utf-8").splitlines():
        word, _, df = line.partition("\t")
        word = word.strip()
        # Spaces would break jieba's "word freq tag" line format.
        if word and " " not in word and df.strip().isdigit():
            words[word] = thuocl_freq(int(df))
    for word, freq in read_lay_terms(dict_dir / "lay_terms.txt").items():
        words[word] = max(words.get(word, 0), freq)
    lines = [f"{w} {f}" for w, f in sorted(words.items())]
    (dict_dir / "legal.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("thuocl", type=Path)
    args = parser.parse_args()
    print(f"wrote {build(args.thuocl)} words to {DICT_DIR / 'legal.txt'}")


if __name__ == "__main__":
    main()
