"""A synthetic clickstream month that follows the shape of the real ones, at any size.

Articles are visited in order of popularity, rank k getting about `P_MIN * (A / k)` clicks (a
Zipf law; A, the number of articles, follows from the rows asked for). Each article's clicks
are split the way real months split theirs: about 64.3% external (over the five `other-*`
sources, one row each), 35% `link` (over distinct referring articles, which are themselves
drawn by popularity) and 0.7% `other`. Each part is cut into rows of n >= 10 whose sizes follow
a Pareto law starting at 10, so n = 10 is the commonest value and the tail is heavy. Parts too
small for a row of 10 become one row of 10 with the matching probability, which keeps every
share exact in expectation. Titles come from a rank-to-title function over several scripts,
with quotes, slashes, parentheses and the real titles `NaN` and `null`.

Everything is drawn from one seeded `random.Random`, so a seed gives the same file every time;
memory is bounded by one article's rows.
"""

from __future__ import annotations

import gzip
import math
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from contract.records import OTHER_SOURCES

#: Share of all clicks (sum of n) by type, as in a real English month.
EXTERNAL_SHARE = 0.643
OTHER_SHARE = 0.007
LINK_SHARE = 1.0 - EXTERNAL_SHARE - OTHER_SHARE
#: How far one article's external share strays from the mean (uniform).
EXTERNAL_SPREAD = 0.08
#: How the external clicks divide over the five other-* sources.
SOURCE_WEIGHTS = dict(zip(OTHER_SOURCES, (0.62, 0.05, 0.04, 0.28, 0.01)))
#: Clicks of the least popular article, and the Zipf exponent of popularity.
P_MIN = 30.0
ZIPF = 1.0
#: Rows per article on average with these constants (measured), to size A from the rows asked.
ROWS_PER_ARTICLE = 6.4
#: The smallest n a real dump publishes, and the mean row size of a small article's parts.
N_MIN = 10
SMALL_MEAN = 14.0

_FLUSH_LINES = 20_000


def generate(rows: int, seed: int, lang: str = "en", month: str = "2024-11") -> Iterator[bytes]:
    """Yield `rows` dump lines (with their newline), in batches joined into one bytes object."""
    rng = random.Random(f"{seed}:{lang}:{month}")
    title = _titles(lang)
    articles = max(1, math.ceil(rows / ROWS_PER_ARTICLE))
    left = rows
    buffer: list[str] = []
    k = 0
    clicks = external_clicks = 0.0
    while left > 0:
        k += 1
        popularity = max(P_MIN * (articles / k) ** ZIPF, P_MIN) * rng.lognormvariate(0.0, 0.25)
        # Each article's mix strays from the mean, towards whichever side keeps the total on target.
        sign = -1.0 if external_clicks > EXTERNAL_SHARE * clicks else 1.0
        external = popularity * (EXTERNAL_SHARE + sign * EXTERNAL_SPREAD * rng.random())
        clicks += popularity
        external_clicks += external
        lines = _article(rng, title, k, articles, popularity, external)
        if len(lines) > left:
            lines = lines[:left]
        buffer.extend(lines)
        left -= len(lines)
        if len(buffer) >= _FLUSH_LINES:
            yield "".join(buffer).encode()
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode()


def write(path: Path | None, rows: int, seed: int, lang: str, month: str,
          progress: Callable[[int], None] | None = None) -> int:
    """Write a month to `path` (gzip if it ends in .gz; stdout if None); returns the rows written."""
    done = 0
    with _open(path) as out:
        for chunk in generate(rows, seed, lang, month):
            out.write(chunk)
            done += chunk.count(b"\n")
            if progress:
                progress(done)
    return done


@contextmanager
def _open(path: Path | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    tmp = path.with_name(path.name + ".tmp")
    raw = tmp.open("wb")
    try:
        with (gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=raw, compresslevel=5, mtime=0)
              if path.name.endswith(".gz") else raw) as out:
            yield out
        raw.close()
        tmp.replace(path)
    except BaseException:
        raw.close()
        tmp.unlink(missing_ok=True)
        raise


def _article(rng: random.Random, title: Callable[[int], str], k: int, articles: int, popularity: float,
             external: float) -> list[str]:
    """The rows of the article of rank k, `external` of whose clicks come from other-* sources."""
    r = rng.random
    curr = title(k)
    link = popularity * (1.0 - OTHER_SHARE) - external
    lines = []
    append = lines.append
    tail = f"\t{curr}\texternal\t"
    for source, weight in SOURCE_WEIGHTS.items():
        if n := _round(r, external * weight):
            append(f"{source}{tail}{n}\n")
    used = {k}
    # Referring articles are popular ones more often: rank = (A+1)^U is Zipf-distributed.
    log_articles = math.log(articles + 1)
    tail = f"\t{curr}\tlink\t"
    for n in _pieces(r, link, 1 + int(math.sqrt(popularity) / 3)):
        prev = int(math.exp(r() * log_articles))
        if prev in used:
            prev = _fresh(used, r, articles)
        used.add(prev)
        append(f"{title(prev)}{tail}{n}\n")
    tail = f"\t{curr}\tother\t"
    for n in _pieces(r, popularity * OTHER_SHARE, 1 + int(popularity ** 0.25)):
        prev = 1 + int(r() * articles)
        if prev in used:
            prev = _fresh(used, r, articles)
        used.add(prev)
        append(f"{title(prev)}{tail}{n}\n")
    return lines


def _fresh(used: set[int], r, articles: int) -> int:
    """A rank this article has not used yet (so no (prev, curr) pair repeats)."""
    for _ in range(8):
        rank = 1 + int(r() * articles)
        if rank not in used:
            return rank
    rank = articles + 1 + int(r() * articles)
    while rank in used:
        rank += 1
    return rank


def _round(r, amount: float) -> int:
    """An integer >= N_MIN (or 0) whose expectation is `amount`."""
    if amount < N_MIN:
        return N_MIN if r() * N_MIN < amount else 0
    return int(amount + r())


def _pieces(r, amount: float, max_rows: int) -> list[int]:
    """Row sizes >= N_MIN summing to about `amount` (exactly, in expectation), Pareto-distributed."""
    total = _round(r, amount)
    if total <= 2 * N_MIN or max_rows <= 1:
        return [total] if total else []
    mean = max(SMALL_MEAN, total / max_rows)
    exponent = -(mean - N_MIN) / mean  # -1/alpha for a Pareto law of this mean starting at N_MIN
    pieces = []
    while total >= N_MIN:
        n = int(N_MIN * (1.0 - r()) ** exponent)
        if total - n < N_MIN or len(pieces) + 1 >= 4 * max_rows:
            n = total
        pieces.append(n)
        total -= n
    return pieces


# Titles -------------------------------------------------------------------------------------

#: Real titles that trip careless parsers, at fixed popular ranks.
SPECIAL_TITLES = {
    1: "Main_Page", 3: "NaN", 5: "null", 8: "Hyphen-minus", 13: '"Heroes"_(David_Bowie_album)',
    21: "AC/DC", 34: "Don't_Stop_Me_Now", 55: "100%_(song)", 89: "Who_Framed_Roger_Rabbit?",
    144: "Tom_&_Jerry", 233: "C++", 377: "Œuvre", 610: "Москва", 987: "東京都", 1597: "N/A",
}


def _syllables(consonants: str, vowels: str) -> list[str]:
    return [c + v for c in consonants for v in vowels]


#: Per script: syllables (a word is two of them) and the separator between words.
SCRIPTS = {
    "latin": (_syllables("bcdfghklmnprstvz", "aeiou"), "_"),
    "cyrillic": (_syllables("бвгдзклмнпрстфх", "аеиоуя"), "_"),
    "greek": (_syllables("βγδζκλμνπρστφχ", "αεηιου"), "_"),
    "cjk": ([chr(0x4E00 + 37 * i) for i in range(90)], ""),
    "kana": ([chr(c) for c in range(0x30A2, 0x30F3) if chr(c) not in "ッャュョヮヰヱ"], ""),
    "hangul": ([chr(0xAC00 + 28 * i) for i in range(90)], ""),
    "arabic": (_syllables("بتثجحدرسشصطعفقكلمن", "اوي"), "_"),
    "hebrew": (_syllables("בגדהזחטכלמנסעפצקרש", "וי"), "_"),
    "devanagari": (_syllables("कखगजटडतदनपबमयरलवसह", "ािीुे"), "_"),
}
#: A wiki's own script, used for most of its titles.
NATIVE = {"ru": "cyrillic", "uk": "cyrillic", "el": "greek", "zh": "cjk", "ja": "kana", "ko": "hangul",
          "ar": "arabic", "fa": "arabic", "he": "hebrew", "hi": "devanagari"}


def _titles(lang: str) -> Callable[[int], str]:
    """rank -> title, one-to-one, for the wiki `lang` (cached: popular ranks repeat)."""
    native = NATIVE.get(lang, "latin")
    foreign = [s for s in SCRIPTS if s != native]

    @lru_cache(maxsize=1 << 17)
    def title(k: int) -> str:
        if k in SPECIAL_TITLES:
            return SPECIAL_TITLES[k]
        spin = (k * 2654435761) & 0xFFFFFFFF
        script = native if spin % 100 < 75 else foreign[spin % len(foreign)]
        text = _spell(k, script)
        if script not in ("cjk", "kana", "hangul"):
            text = text[0].upper() + text[1:]
            # Real titles run to ~20 bytes (bench/calibrate.py). Trailing words of exactly one word each
            # keep the title one-to-one: all but the last two or three words spell k.
            text += "".join(f"_{_word(k * m + m, script)}" for m in range(1, 3 + (k % 3 == 0)))
        if k % 11 == 3:
            text = f"{text}_({_spell(k % 997 + 1, 'latin').capitalize()})"
        if k % 13 == 5:
            text = f'"{text}"'
        if k % 17 == 7:
            text = f"{text}/{_spell(k % 89 + 1, 'latin')}"
        if k % 19 == 2:
            text = f"{text}'s"
        if k % 29 == 4:
            text = f"{text}_&_{_spell(k % 53 + 1, script)}"
        return text

    return title


def _word(k: int, script: str) -> str:
    """One two-syllable word of `script`, picked by k."""
    syllables, _ = SCRIPTS[script]
    digit = (k * 7919 + 13) % (len(syllables) ** 2)
    return syllables[digit // len(syllables)] + syllables[digit % len(syllables)]


def _spell(k: int, script: str) -> str:
    """k in base (syllables²), one two-syllable word per digit: distinct k give distinct words."""
    syllables, sep = SCRIPTS[script]
    size = len(syllables)
    words = []
    while True:
        k, digit = divmod(k, size * size)
        digit = (digit * 7919 + 13) % (size * size)  # a bijection that mixes the first syllables
        words.append(syllables[digit // size] + syllables[digit % size])
        if k == 0:
            return sep.join(reversed(words))
