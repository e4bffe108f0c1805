"""Words, stop words and stems: the shared vocabulary of the encoder and the query parser.

Both sides must turn "moved" and "moving" into the same key, or a memory and the question
about it never meet; so every word goes through `term()` here and nowhere else.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import unicodedata
from typing import Any, Final

_WORD: Final = re.compile(r"[^\W_](?:[\w'’.-]*[^\W_])?")

STOP_WORDS_EN: Final = frozenset(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't
    do does doesn't doing don't down during each else even ever every few for from further
    get gets got had hadn't has hasn't have haven't having he he'd he'll he's her here
    here's hers herself him himself his how how's however i i'd i'll i'm i've if in into
    is isn't it it's its itself just let's like me more most much must mustn't my myself
    no nor not now of off oh ok okay on once only or other ought our ours ourselves out
    over own really same shan't she she'd she'll she's should shouldn't so some such than
    that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've this those through to too under until up upon us very was
    wasn't we we'd we'll we're we've were weren't what what's when when's where where's
    whether which while who who's whom why why's will with won't would wouldn't yeah yes
    yet you you'd you'll you're you've your yours yourself yourselves""".split()
)

STOP_WORDS_VI: Final = frozenset(
    """và của là có được cho với này trong để các những một cái thì mà ở đã đang sẽ rồi cũng
    như nhưng hay hoặc nên vì tại bị do từ ra vào lên xuống lại nữa không chưa rất quá lắm
    tôi bạn anh chị em họ nó chúng ta mình ai gì nào đâu sao bao nhiêu vậy thế""".split()
)

STOP_WORDS: Final = STOP_WORDS_EN | STOP_WORDS_VI


def _english_stemmer() -> Any:
    """snowballstemmer's English stemmer, loaded without the package's `__init__`, which
    imports every one of its thirty-odd languages: a tenth of a fresh `nmem recall`'s start-up,
    for the one language used. The package is only lent a stand-in while English loads (a
    later `import snowballstemmer` runs its `__init__` as usual)."""
    spec = importlib.util.find_spec("snowballstemmer")
    if "snowballstemmer" in sys.modules or spec is None or not spec.submodule_search_locations:
        import snowballstemmer

        return snowballstemmer.stemmer("english")
    stand_in = types.ModuleType("snowballstemmer")
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules["snowballstemmer"] = stand_in
    try:
        from snowballstemmer.english_stemmer import EnglishStemmer
    finally:
        del sys.modules["snowballstemmer"]
    return EnglishStemmer()


_stemmer = _english_stemmer()
_stems: dict[str, str] = {}
_STEM_CACHE_LIMIT: Final = 500_000


def normalize(word: str) -> str:
    """Lowercase, NFC, with straight apostrophes and possessive 's removed."""
    w = word.lower() if word.isascii() else unicodedata.normalize("NFC", word).lower()
    if "’" in w:
        w = w.replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return w


def stem(word: str) -> str:
    """Snowball stem of an ASCII word (cached: the library takes tens of µs per call)."""
    cached = _stems.get(word)
    if cached is not None:
        return cached
    result = _stemmer.stemWord(word) if word.isascii() and word.isalpha() else word
    if len(_stems) >= _STEM_CACHE_LIMIT:
        _stems.clear()
    _stems[word] = result
    return result


def is_keyword(norm: str) -> bool:
    """Worth a neuron: 2+ characters (so "16" in "PostgreSQL 16" counts), not a stop word."""
    return len(norm) >= 2 and norm not in STOP_WORDS


def term(norm: str) -> str:
    """The index key of a normalised word: its stem for English, itself otherwise."""
    return stem(norm)


def _keyword_of(word: str) -> tuple[str, str] | None:
    norm = normalize(word)
    return (term(norm), norm) if is_keyword(norm) else None


_keyword_cache: dict[str, tuple[str, str] | None] = {}


def keywords(text: str) -> list[tuple[str, str]]:
    """(key, surface) pairs for the text's keywords, first occurrence order, no repeats."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    cache = _keyword_cache
    for word in _WORD.findall(text):
        try:
            hit = cache[word]
        except KeyError:
            if len(cache) >= _STEM_CACHE_LIMIT:
                cache.clear()
            hit = cache[word] = _keyword_of(word)
        if hit is not None and hit[0] not in seen:
            seen.add(hit[0])
            out.append(hit)
    return out
