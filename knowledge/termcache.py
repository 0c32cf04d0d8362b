"""A file cache of analysed texts, so that a restart does not re-tokenise the law.

Tokenising the ~14,000 articles and the entries' phrasings was most of the index build (≈8 s of a
≈9 s cold start, measured with cProfile). An analysis depends only on the text, the tokenizer's
dictionaries and its code, so analyses are kept in the app-owned cache directory under a key hashed
from them: an edited entry or a new law version costs only its own texts, a changed dictionary
starts a new file.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

import knowledge.homophones as homophones_module
import knowledge.tokenizer as tokenizer_module
from knowledge.homophones import readings_version
from knowledge.tokenizer import Analysis, Tokenizer

FORMAT = b"pufa-analyses-1"


def fingerprint(tokenizer: Tokenizer) -> str:
    h = hashlib.sha256(FORMAT)
    h.update(b"hmm" if tokenizer.hmm else b"nohmm")
    # The tokenizer's own code reads text too (ages, dates, search-mode parts): a change there must
    # not reuse analyses made by the old code.
    for module in (tokenizer_module, homophones_module):
        h.update(Path(str(module.__file__)).read_bytes())
    h.update(readings_version().encode())
    for path in sorted(tokenizer.dict_dir.glob("*.txt")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:24]


class AnalysisCache:
    """``analyze`` through a persistent memo; ``save`` keeps exactly the texts used since loading."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.path: Path | None = None
        self._stored: dict[str, Analysis] = {}
        self._used: dict[str, Analysis] = {}
        if tokenizer.cache_dir is not None:
            self.path = tokenizer.cache_dir / f"analyses-{fingerprint(tokenizer)}.pickle"
            try:
                # Our own file in our own cache directory, written by save(); never outside data.
                self._stored = pickle.loads(self.path.read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
                self._stored = {}

    def analyze(self, text: str) -> Analysis:
        found = self._used.get(text) or self._stored.get(text)
        if found is None:
            found = self.tokenizer.analyze(text)
        self._used[text] = found
        return found

    def save(self) -> None:
        if self.path is None or self._used.keys() == self._stored.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".analyses-")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(self._used, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)  # atomic: a reader sees the old file or the whole new one
        except OSError:
            pass  # a read-only cache directory only costs speed
