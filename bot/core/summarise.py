"""Extractive summaries of cleaned news articles: paragraphs, title and language in, sentences out.

Pure functions, stdlib only, deterministic; cheap enough to run on every article at ingest.

How a summary is chosen:
1. Sentences are split (bot.core.sentences), datelines such as `武汉晚报讯（记者李玉莹）` are trimmed off
   their front, and at most MAX_CANDIDATES sentences are kept so a huge article stays bounded.
2. Boilerplate (source and editor lines, calls to scan/click/download, copyright, captions) and
   sentences that only restate the title score zero and are never chosen.
3. The rest are scored by a linear model over cheap features (bot.core.summary_model): LexRank-style
   centrality (weighted degree in the graph of idf-weighted cosine similarity of character bigrams for
   Chinese/Japanese, words for English), position, similarity to the title, length, digits, quotes,
   and whether it is a heading, caption or fragment. Its weights are learned on the validation
   splits of public human-reference sets (bench/train_summariser.py).
4. Greedy selection in rank order under the sentence and character budgets, never taking a
   sentence that nearly duplicates one already taken; output is in article order.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import add
from typing import NamedTuple

from bot.core.bylines import strip_byline
from bot.core.model import Article
from bot.core.sentences import split_sentences
from bot.core.summary_model import Weights, weights_for
from bot.core.summary_model import features as model_features
from bot.core.summary_model import relative as relative_scores
from bot.core.summary_model import score as model_score

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MAX_CANDIDATES",
    "MAX_SENTENCES",
    "SUMMARISER_VERSION",
    "ScoredSentence",
    "choose_sentences",
    "score_sentences",
    "split_sentences",
    "summarise",
]

SUMMARISER_VERSION = 4

# Beyond a few hundred sentences the graph costs quadratic time and the summary comes from the
# first screens of the article anyway.
MAX_CANDIDATES = 300
MAX_SENTENCES = 5
DEFAULT_MAX_CHARS = {"zh": 160, "ja": 160, "en": 320}

# Only this much of one sentence is looked at for similarity: a 200 KB paragraph without a single
# full stop is one "sentence", and it can only ever be shown clause-cut.
_FEATURE_CHARS = 1500

# Without priors (the benchmark's centrality baseline), these sentences count this much:
_WEAK = 0.25  # headings, captions, fragments, lead-ins ending with a colon

# Two sentences sharing this much of the smaller one's features say the same thing (Sina posts
# repeat their bullet points in the body word for word).
_NEAR_DUPLICATE = 0.6
# A sentence whose features are this much inside the title says nothing the title does not.
_RESTATES_TITLE = 0.75
# ... or whose characters (words in English) are this much the title's: a title cut from the first
# sentence ("11、每百元营业收入中的费用=（销售费用+管理费用+研发") leaves a sentence that only
# finishes it. Checked only past _MAYBE_RESTATES of shared features, which few sentences reach.
_IN_TITLE = 0.8
_MAYBE_RESTATES = 0.5

_BOILERPLATE_WHY = "boilerplate"
_FRAGMENT_WHY = "not a sentence"
_TITLE_WHY = "repeats the headline"
_CAPTION_WHY = "photo caption"

_TERMINAL = set("。！？；…．｡!?.")
_PAIRS = (("“", "”"), ("「", "」"), ("『", "』"), ("（", "）"), ("(", ")"), ("《", "》"))
_PAIRED = re.compile("[“”「」『』（）()《》]")
_TRAILING_CLOSERS = "”’）】」』》〕〉)]}»›\"'"

_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]+"
    r"|[a-z0-9]+(?:['.][a-z0-9]+)*"
)
_STOPWORD_LIST = (
    """a an the and or but if of to in on at by for from with as is are was were be been being it its
    this that these those he she they we you i his her their our your my me him them us not no so
    than then there here has have had do does did will would can could should may might must
    also just about into over after before more most such which who whom whose what when where
    why how all any each other some only own same very s t says said"""
)
_STOPWORDS = frozenset(_STOPWORD_LIST.split())

_CLAUSE_MARKS = {"zh": "，,;；", "en": ",;；，", "ja": "，,;；、"}

# A sentence that only says where the reporter heard the news, which the next one tells.
_ATTRIBUTION_ALONE = re.compile(
    r"(?:[^。，,]{0,16}[，,])?"  # 昨日， / 11月20日，
    r"(?:[^，。,]{0,12}?(?:记者|記者)[^，。,]{0,30}?(?:获悉|獲悉|了解到|得知|获知|獲知)|据悉|據悉)\s*[。．.！!]?$"
)

# One to four names: 记者高勇 摄, 本报记者 张三 李四 摄, （记者高勇/摄）.
_PHOTO_CREDIT = re.compile(
    r"(?:记者|記者|摄影|攝影|通讯员|通訊員)\s*[\w·]{1,10}(?:[\s、]+[\w·]{1,10}){0,3}\s*[/／]?\s*(?:摄|攝)[）)]?\s*[。.]?$"
)

# Sentences that are packaging, not news. They score zero so they can never be chosen, even when
# the cleaner upstream missed them. Split by where they can match, because one alternation of
# everything would be tried at every position of every sentence.
_BOILERPLATE_START = re.compile(
    "|".join(
        [
            r"(?:文章|本文|消息|新闻|图片|图|視頻|视频)?(?:来源|來源|出处|出處)\s*[：:]",
            r"原(?:标题|標題)\s*[：:]",
            r"(?:责任编辑|責任編輯|编辑|編輯|作者|撰文|校对|校對|审核|審核|审校|监制|監製|记者|記者|"
            r"实习记者|通讯员|摄影|攝影|出品|策划|策劃|文|图|圖)\s*[：:|｜/／]",
            r"[（(【\[][^）)】\]]{0,40}[）)】\]]\s*[。.]?$",  # （记者安蓓） （证券时报）
        ]
    )
)


def _each(heads: str, tail: str) -> str:
    """`a|b` and a tail as `a<tail>|b<tail>`: an alternation whose every branch starts with a literal
    character lets the regex engine skip ahead to those characters instead of trying each branch at
    every position (5x faster on a sentence without any of them)."""
    return "|".join(head + tail for head in heads.split("|"))


_BOILERPLATE_ANYWHERE = re.compile(
    "|".join(
        [
            _each("点击|點擊|点选|點選", "(?!率|量)"),
            "扫码|掃碼|" + _each("扫描|掃描|识别|識別|长按|長按", r"[^，。]{0,6}(?:二维码|二維碼)"),
            _each("关注|關注", "(?:我们|我們|公众号|公眾號|微信|微博|官方|本号|本號|账号|帳號)"),
            _each("下载|下載", r"[^，。,]{0,10}(?:APP|App|app|客户端|客戶端)") + "|" + _each("APP|App", r"\s*(?:下载|下載)"),
            r"尽在[^，。]{0,12}(?:APP|App)|海量资讯",
            r"转载请注明|轉載請註明|未经授权|未經授權|禁止转载|禁止轉載|版权所有|版權所有|版权归|版權歸|侵删|侵刪",
            _each("查看|阅读|閱讀", "(?:知乎)?(?:原文|讨论|討論)") + r"|本文(?:首发|首發|转载|轉載)(?:于|於|自)",
            r"©",
            _each("詳しくは|続きを読む|出典|引用元|画像|写真", r"\s*[：:]") + "|フォローして",
        ]
    )
)
# Matched against lower-cased text: a case-insensitive alternation is several times slower. At the
# start and anywhere apart: with a `^` branch in it, the engine could not skip to where a match starts.
# Possessive blanks: "image" + " " * n + "x" shared its blanks between two `\s*` in n² ways before failing.
_BOILERPLATE_EN_START = re.compile(
    r"copyright|\(c\)|more\s*+\.*+$"
    r"|(?:featured |header |lead )?(?:image|photo|picture|video)s?\s*+(?:credit|source|via|by)?\s*+[:：]"
    r"|(?:related|read more|read also|see also|source|via|ftc|disclosure|editor'?s note)\s*+[:：]"
)
_BOILERPLATE_EN = re.compile(
    r"all rights reserved|click here|sign up for|subscribe to|follow us|download (?:the|our) app"
    r"|to your google news"
)
_URL = re.compile(r"https?://\S+|www\.\S+")


@dataclass(frozen=True)
class ScoredSentence:
    """One sentence of an article in article order (`index`), with its summary-worthiness score: its
    likelihood as a share of the article's best sentence's, which scores 1.0 (without priors: its
    graph centrality).

    A score of 0.0 means it is never chosen, and `why` says why: boilerplate, not a sentence (a
    fragment, a heading, a line cut mid-sentence, a lead-in ending with a colon), a photo caption
    (followed by its credit, `记者高勇 摄`), or a restatement of the title. `byline`: the dateline,
    byline or agency prefix cut off its front, if any.
    """

    text: str
    index: int
    score: float
    why: str = ""
    byline: str = ""


def _features(text: str) -> set[str]:
    """Similarity features: character bigrams of CJK runs, and words (minus stopwords) otherwise."""
    feats: set[str] = set()
    words: list[str] = []
    for tok in _TOKEN.findall(text[:_FEATURE_CHARS].lower()):
        if tok[0] < "\u3040":
            words.append(tok)
        elif len(tok) == 1:
            feats.add(tok)
        else:
            feats.update(map(add, tok, tok[1:]))  # character bigrams
    if words:
        for tok in set(words).difference(_STOPWORDS):
            if tok.endswith("'s"):
                tok = tok[:-2]
            elif len(tok) > 4 and tok[-1] == "s" and tok[-2] not in "su":
                tok = tok[:-1]  # crude plural folding: "features" ~ "feature"
            feats.add(tok)
    return feats


def _units(text: str) -> list[str]:
    """Characters of CJK runs and whole words otherwise, lower-cased, in order."""
    units: list[str] = []
    for tok in _TOKEN.findall(text[:_FEATURE_CHARS].lower()):
        if tok[0] < "\u3040":
            units.append(tok)
        else:
            units.extend(tok)
    return units


def _mostly_in(text: str, title_units: set[str]) -> bool:
    """Whether _IN_TITLE of the sentence's characters (words) are found in the title."""
    units = _units(text)
    return bool(units) and sum(u in title_units for u in units) >= _IN_TITLE * len(units)


def _is_photo_credit(text: str) -> bool:
    return ("摄" in text or "攝" in text) and _PHOTO_CREDIT.search(text) is not None


def _is_boilerplate(text: str) -> bool:
    if (
        _BOILERPLATE_START.match(text)
        or (not text.isascii() and _BOILERPLATE_ANYWHERE.search(text))  # its every phrase has CJK or ©
        or _is_photo_credit(text)
    ):
        return True
    # The English rules start with an ASCII character, and their phrases hold a space: most Chinese
    # sentences need neither lower-casing nor a search.
    spaced = " " in text
    if (text[:1].isascii() or spaced) and (
        _BOILERPLATE_EN_START.match(lower := text.lower()) or (spaced and _BOILERPLATE_EN.search(lower))
    ):
        return True
    # A sentence that is mostly a link is a pointer elsewhere, not news.
    return ("://" in text or "www." in text) and len(_URL.sub("", text).strip()) < 0.3 * len(text)


def _is_weak(text: str, n_features: int, language: str, alone: bool = True) -> bool:
    """Headings, captions and fragments: readable, but rarely what a summary should say. `alone`: the
    sentence is its paragraph."""
    if n_features < (4 if language == "en" else 6):
        return True
    body = text.rstrip(_TRAILING_CLOSERS + " ")
    if not body or body[-1] not in _TERMINAL:
        # A line of its own without an end mark: a subheading or an image caption. The last sentence
        # of a paragraph of prose that lost its mark is prose.
        return alone
    if text.rstrip()[-1] in "：:":
        return True  # a lead-in whose point comes after it
    # Half a quotation: '“2021年军费开支连续第七次增长。' reads broken on its own.
    return _PAIRED.search(text) is not None and any(text.count(a) != text.count(b) for a, b in _PAIRS)


def _overlap(a: set[str], b: set[str]) -> float:
    """Share of the smaller feature set found in the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _centrality(feats: list[set[str]], nodes: list[int]) -> dict[int, float]:
    """Weighted degree of each of the `nodes` sentences in the graph of idf-weighted cosine similarity.

    Without damping, LexRank's random walk on this undirected graph has the weighted degree as its
    stationary distribution; with it the ranking barely differs (python -m bench.summarise), and the
    power iteration cost 4/5 of the summariser's time.
    """
    n = len(nodes)
    if n <= 1:
        return dict.fromkeys(nodes, 1.0)
    sets = [feats[i] for i in nodes]
    # Most features occur in one sentence only: they count towards the norms, all with the same
    # weight, and never towards a similarity. Set operations find the others without a Python loop.
    seen: set[str] = set()
    shared: set[str] = set()
    for s in sets:
        shared |= s & seen
        seen |= s
    shared_sets = [s & shared for s in sets]
    df = Counter(chain.from_iterable(shared_sets))

    # Squared idf weights as fixed-point integers: integer sums do not depend on the order a set
    # is visited in (it varies with string hashing), so scores are reproducible across runs.
    lone = _fixed(math.log(1.0 + n) ** 2)
    weight_of_df = {m: _fixed(math.log(1.0 + n / m) ** 2) for m in set(df.values())}
    weight = {f: weight_of_df[m] for f, m in df.items()}
    inverse_norms = []
    for s, common in zip(sets, shared_sets, strict=True):
        norm_sq = lone * (len(s) - len(common)) + sum(map(weight.__getitem__, common))
        inverse_norms.append(1.0 / math.sqrt(norm_sq) if norm_sq > 0 else 0.0)
    # Features in more than half the sentences carry no signal.
    limit = max(2, n // 2)
    dense = {f for f, m in df.items() if m > limit}
    linking = [common - dense for common in shared_sets] if dense else shared_sets

    # Σ over b of sim(a, b) = inv_a · Σ_{f in a} w_f · (reach_f − inv_a), where reach_f sums inv_b over
    # the sentences b holding f: linear in the features, where comparing every pair was quadratic in
    # the sentences. fsum is exact, so the result does not depend on the order a set is visited in.
    reach: dict[str, float] = dict.fromkeys(chain.from_iterable(linking), 0.0)
    for links, inv in zip(linking, inverse_norms, strict=True):
        for f in links:
            reach[f] += inv
    # Σ_f w_f · (reach_f − inv_a) as Σ_f w_f · reach_f − inv_a · Σ_f w_f: two sums over C-level maps.
    weighted_reach = {f: weight[f] * r for f, r in reach.items()}
    degree = [
        inv * (math.fsum(map(weighted_reach.__getitem__, links)) - inv * sum(map(weight.__getitem__, links)))
        if links else 0.0
        for links, inv in zip(linking, inverse_norms, strict=True)
    ]
    return dict(zip(nodes, degree, strict=True))


def _fixed(x: float) -> int:
    return int(x * 65536.0 + 0.5)


class Candidate(NamedTuple):
    """A sentence as the model sees it (bench/train_summariser.py learns from these).

    `eligible` False: never chosen, for the reason in `why` (boilerplate, not a sentence, a photo
    caption, a restatement of the title). `terminated`: it ends with an end mark, so another sentence
    can follow it in a summary without the two reading as one. `byline`: what strip_byline cut off
    its front.
    """

    text: str
    eligible: bool
    terminated: bool
    weak: bool
    vector: tuple[float, ...]
    why: str = ""
    byline: str = ""


def _is_terminated(text: str) -> bool:
    body = text.rstrip(_TRAILING_CLOSERS + " ")
    return bool(body) and body[-1] in _TERMINAL


def _is_real_sentence(text: str, n_features: int, terminated: bool, ends_paragraph: bool, language: str) -> bool:
    """A sentence a summary may show: long enough to say something, and either ended by an end mark or
    the end of its paragraph, long enough to be a sentence written without one (a paragraph's last
    sentence with its `。` missing, an English line without its period; never a short line of a page
    that breaks its sentences over several lines, nor a piece ending in a comma)."""
    last = text.rstrip()[-1]
    if n_features < (4 if language == "en" else 6) or last in "：:":
        return False
    if len(text) < 48 and ("者" in text or "悉" in text) and _ATTRIBUTION_ALONE.match(text):
        return False  # "记者从市住建局获悉。": who told the reporter, the news is in the next sentence
    if terminated:
        return True
    if not ends_paragraph or last in "，,、":
        return False
    if language == "en":
        return n_features >= 12  # a dozen content words: a sentence, not a heading
    return len(text) >= 30 and any(m in text for m in _CLAUSE_MARKS.get(language, _CLAUSE_MARKS["zh"]))


def candidates(paragraphs: Sequence[str], title: str = "", language: str = "zh") -> list[Candidate]:
    """Every candidate sentence in article order (at most MAX_CANDIDATES), bylines stripped."""
    return _candidates(paragraphs, title, language, weights_for(language).position_decay)[0]


def _candidates(
    paragraphs: Sequence[str], title: str, language: str, decay: float
) -> tuple[list[Candidate], list[set[str]]]:
    texts: list[str] = []
    bylines: list[str] = []  # what strip_byline cut off each of `texts`
    captions: set[int] = set()
    paragraph_ends: set[int] = set()
    whole: set[int] = set()
    for paragraph in paragraphs:
        first = len(texts)
        pieces = split_sentences(paragraph)
        for whole_sentence in pieces:
            # "…在家中书房办公。记者高勇 摄", "…（记者高勇 摄）", or the credit as a paragraph of its own:
            # the sentence before it describes a picture. Checked before strip_byline, which cuts a
            # bracketed credit off entirely.
            if texts and (len(texts) > first or len(pieces) == 1) and _is_photo_credit(whole_sentence):
                captions.add(len(texts) - 1)
            sentence = strip_byline(whole_sentence)
            if not sentence:
                continue
            texts.append(sentence)
            bylines.append(whole_sentence[: whole_sentence.rfind(sentence)].strip())
        if len(texts) > first:
            paragraph_ends.add(len(texts) - 1)
        if len(texts) == first + 1:
            whole.add(first)
        if len(texts) >= MAX_CANDIDATES:
            break
    del texts[MAX_CANDIDATES:], bylines[MAX_CANDIDATES:]

    sets = [_features(t) for t in texts]
    title_set = _features(title)
    title_units = set(_units(title))
    live = [i for i, t in enumerate(texts) if sets[i] and not _is_boilerplate(t)]
    central = _centrality(sets, live)
    top = max(central.values(), default=0.0) or 1.0

    ended = [_is_terminated(t) for t in texts]
    why = [_BOILERPLATE_WHY if f else _FRAGMENT_WHY for f in sets]  # until found live below
    eligible: list[tuple[int, float, bool]] = []  # index, similarity to the title, weak
    title_size, title_chars = len(title_set), 3 * len(title)
    for i in live:
        s, text = sets[i], texts[i]
        n = len(s)
        # Never chosen, so no features needed:
        if not _is_real_sentence(text, n, ended[i], i in paragraph_ends, language):
            why[i] = _FRAGMENT_WHY
            continue
        if i in captions:  # it describes a picture the digest does not show
            why[i] = _CAPTION_WHY
            continue
        to_title = 0.0
        if title_size:
            overlap = len(s & title_set)
            if overlap >= _RESTATES_TITLE * n or (
                overlap >= _MAYBE_RESTATES * n and len(text) <= title_chars and _mostly_in(text, title_units)
            ):
                why[i] = _TITLE_WHY
                continue
            to_title = overlap / math.sqrt(n * title_size)
        eligible.append((i, to_title, _is_weak(text, n, language, i in whole)))
    # Position, first and last count the sentences that can be chosen: an opening that only repeats
    # the headline does not take the lead's place.
    chosen: dict[int, Candidate] = {}
    last_ordinal = len(eligible) - 1
    for ordinal, (i, to_title, weak) in enumerate(eligible):
        last = 0 < ordinal == last_ordinal
        vector = model_features(texts[i], central[i] / top, ordinal, to_title, language, decay, last=last, weak=weak)
        chosen[i] = Candidate(texts[i], True, ended[i], weak, vector, "", bylines[i])
    out = [chosen.get(i) or Candidate(t, False, e, False, (), w, b)
           for i, (t, e, w, b) in enumerate(zip(texts, ended, why, bylines, strict=True))]
    return out, sets


def _analyse(
    paragraphs: Sequence[str], title: str, language: str, priors: bool, weights: Weights
) -> tuple[list[float], list[Candidate], list[set[str]]]:
    """Each candidate's score (0.0: never chosen), the candidates and their similarity features."""
    found, sets = _candidates(paragraphs, title, language, weights.position_decay)
    eligible = [i for i, c in enumerate(found) if c.eligible]
    if priors:
        vector = weights.vector()
        shares = relative_scores([model_score(found[i].vector, vector) for i in eligible])
    else:  # graph centrality alone (the benchmark's baseline), weak ones discounted
        shares = [max(found[i].vector[0], 1e-9) * (_WEAK if found[i].weak else 1.0) for i in eligible]
    scores = [0.0] * len(found)
    for i, share in zip(eligible, shares, strict=True):
        scores[i] = share
    return scores, found, sets


def score_sentences(
    paragraphs: Sequence[str], title: str = "", language: str = "zh", priors: bool = True
) -> list[ScoredSentence]:
    """Every candidate sentence in article order with its score (at most MAX_CANDIDATES).

    With `priors=False` the score is graph centrality alone, without position or title similarity.
    """
    scores, found, _ = _analyse(paragraphs, title, language, priors, weights_for(language))
    return [ScoredSentence(c.text, i, score, c.why, c.byline)
            for i, (c, score) in enumerate(zip(found, scores, strict=True))]


def _cut_at_clause(text: str, max_chars: int, language: str) -> str | None:
    """`text` cut at its last clause mark that leaves room for `…`, or None if that is too short."""
    marks = _CLAUSE_MARKS.get(language, _CLAUSE_MARKS["zh"])
    cut = max(text.rfind(m, 0, max_chars) for m in marks)
    if cut < max_chars // 3:
        return None
    return text[:cut].rstrip() + "…"


def summarise(
    paragraphs: Sequence[str],
    title: str = "",
    language: str = "zh",
    max_sentences: int = 2,
    max_chars: int | None = None,
    *,
    priors: bool = True,
    weights: Weights | None = None,
) -> list[str]:
    """Up to `max_sentences` (1–5) sentences in article order, within `max_chars` characters (see
    choose_sentences)."""
    chosen = choose_sentences(paragraphs, title, language, max_sentences, max_chars, priors=priors, weights=weights)
    return [text for _, text in chosen]


def choose_sentences(
    paragraphs: Sequence[str],
    title: str = "",
    language: str = "zh",
    max_sentences: int = 2,
    max_chars: int | None = None,
    *,
    priors: bool = True,
    weights: Weights | None = None,
) -> list[tuple[int, str]]:
    """The summary as (index, text) in article order, the index that of its sentence in
    score_sentences: up to `max_sentences` (1–5) sentences within `max_chars` characters.

    Fewer when the rest score well below the best one. The budget counts the sentences joined as
    they are shown: with no separator for Chinese and Japanese, with one space for English.
    `max_chars` None means 160 for zh/ja and 320 for en. Whole sentences of the article only, bylines
    stripped, never a line fragment glued to what follows; when no eligible sentence fits, the best
    one cut at a clause mark and ending with `…`; an empty list when the article has no real
    sentence (the digest then shows the title alone).
    `priors=False` ranks by centrality alone (the benchmark's baseline); `weights` replaces the
    language's learned ones (bench/train_summariser.py).
    """
    max_sentences = min(max(max_sentences, 1), MAX_SENTENCES)
    budget = max_chars if max_chars is not None else DEFAULT_MAX_CHARS.get(language, 160)
    separator = 1 if language == "en" else 0
    weights = weights or weights_for(language)
    scores, found, sets = _analyse(paragraphs, title, language, priors, weights)
    ranked = sorted((i for i, score in enumerate(scores) if score > 0.0), key=lambda i: (-scores[i], i))
    min_relative = weights.min_relative

    chosen: list[tuple[int, str]] = []
    used = 0
    floor = 0.0
    for index in ranked:
        text, score = found[index].text, scores[index]
        if len(chosen) >= max_sentences or score < floor:
            break
        cost = len(text) + (separator if chosen else 0)
        if used + cost > budget or _glues_a_fragment(index, chosen, found):
            continue
        if any(_overlap(sets[index], sets[i]) >= _NEAR_DUPLICATE for i, _ in chosen):
            continue
        chosen.append((index, text))
        used += cost
        if len(chosen) == 1:
            floor = min_relative * score
    if not chosen and ranked:
        # No whole sentence fits: a clause of the best one, cut where the article has a clause mark.
        cut = _cut_at_clause(found[ranked[0]].text, budget, language)
        if cut is not None:
            chosen.append((ranked[0], cut))
    return sorted(chosen)


def _glues_a_fragment(index: int, chosen: list[tuple[int, str]], found: list[Candidate]) -> bool:
    """Whether adding sentence `index` would put a sentence without an end mark before another one,
    where the two would read as one sentence the article never says."""
    if not found[index].terminated and any(i > index for i, _ in chosen):
        return True
    return any(i < index and not found[i].terminated for i, _ in chosen)


Summariser = Callable[[Article], tuple[list[str], int]]


def default_summariser(article: Article) -> tuple[list[str], int]:
    """The summary made at ingest (up to 5 sentences) and the summariser version that made it."""
    return summarise(article.paragraphs, article.title, article.language, max_sentences=5), SUMMARISER_VERSION


def current_summary(article: Article, summary: list[str] | None, version: int | None) -> list[str]:
    """The stored summary, or a fresh one when it is missing or was made by an older summariser (lazy
    recompute; `newsbot resummarise` does all of them at once)."""
    if summary is not None and version == SUMMARISER_VERSION:
        return summary
    return default_summariser(article)[0]
