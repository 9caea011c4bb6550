"""Datelines, bylines and agency prefixes: found at the front of a sentence and cut off it.

`新华社北京3月7日电（记者张三）会议指出…` → `会议指出…`; `LONDON (Reuters) - Shares fell…` → `Shares fell…`.
Pure and stdlib-only; the summariser strips them so a summary starts with the news, not the wire.
"""
from __future__ import annotations

import re

__all__ = ["strip_byline"]

# Each alternative is anchored at the start and bounded ({m,n}, no nested repeats), so a failed
# match costs at most a few dozen steps whatever follows.
_CJK_BYLINE = re.compile(
    r"(?:"
    r"【[^】]{1,40}】"  # 【#话题#】 or 【新华社北京电】
    # 武汉晚报讯（记者李玉莹） / 本报讯 记者张三
    # (a bare "…讯" only after a paper, site or station: "海量资讯、…" is not a dateline)
    r"|[^，。,\s（(]{0,20}?(?:报|网|台|社|刊|端|闻)讯\s*(?:[（(][^）)]{0,40}[）)]|(?:记者|通讯员)[\w·]{1,12}(?:\s|(?=[\d一二三四五六七八九十])))?"
    r"|[^，。,\s（(]{0,20}?讯\s*[（(](?:本报|本台)?(?:记者|通讯员)[^）)]{0,40}[）)]"
    # 新华社北京3月15日电（记者…） / 中新网上海3月7日电 (记者 张三)
    r"|(?:新华社|中新社|中新网|人民网|央视网|央广网|中国新闻网|新华网|环球网|澎湃新闻|法新社|路透社|美联社)"
    r"[^，。（(\s]{0,20}?电(?:\s*[（(][^）)]{0,40}[）)])?"
    # 21世纪经济报道记者张三 北京报道 / 本报记者张三报道： / 记者 张三 李四 上海报道
    # (报道 must end the byline: a space, a colon or a comma follows, so "记者曾多次报道此事" stays whole)
    r"|[^，。,（(\s]{0,16}?(?:本报)?(?:记者|通讯员)\s*[\w·]{1,8}(?:[\s、]+[\w·]{1,8}){0,4}?\s*报道(?:\s*[：:，,]|\s+|$)"
    r"|[（(](?:本报)?(?:记者|通讯员|实习生)[^）)]{1,40}[）)]"
    r"|(?:央视网|央广网|人民网|新华网|中新网)?消息\s*[（(][^）)]{1,20}[）)]\s*[：:]"  # 央视网消息（新闻联播）：
    r"|[^，。,：:]{0,12}?\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:消息|电|讯)[，,：:]?"  # IT之家 3 月 21 日消息
    r"|(?:文|图|文图|图文)\s*[/／|｜]\s*[\w·]{1,12}\s+"  # 文/张三 正文…
    r")\s*"
)
_EN_BYLINE = re.compile(
    r"(?:"
    # PARIS (AP) — / WASHINGTON, March 7 (Reuters) - / Marseille, France (CNN)The French …
    # (capitalised words and day numbers only: "The company told Reuters (Reuters)" is not a dateline)
    r"[A-Z][\w.'-]{0,20}(?:[ ,]{1,2}(?:[A-Z][\w.'-]{0,20}|\d{1,2})){0,5}\s*\((?:AP|Reuters|AFP|Bloomberg|UPI|CNN|CNN Money|EW\.com|Mashable)\)\s*[-—–:]*"
    r"|\((?:AP|Reuters|AFP|Bloomberg|UPI|CNN)\)\s*[-—–:]*"
    # Daily Mail: "By . Daily Mail Reporter . PUBLISHED: . 14:11 EST, 25 October 2013 . | . UPDATED: . …"
    r"|By\s*\.\s*[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,5}\s*\.\s*"
    r"|(?:PUBLISHED|UPDATED|Last updated)\s*(?:at)?\s*:?\s*\.?\s*\d{1,2}:\d{2}\s*(?:[AP]M\s*)?(?:EST|EDT|GMT|BST|UTC)?,?"
    r"\s*(?:\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|[A-Z][a-z]+\s+\d{1,2},?\s+\d{4})?\s*\.?\s*\|?\s*\.?"
    r"|\d{1,2}\s+[A-Z][a-z]+\s+\d{4}\s+Last updated at\s+\d{1,2}:\d{2}\s+(?:GMT|BST)\s*"
    r")\s*"
)
_WORDLIKE = re.compile(r"\w")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
# A character every byline above holds near its start: most sentences have none, and one search for
# them costs a fraction of trying each alternative above at the start (their lazy prefixes backtrack).
_CJK_HINT = re.compile(r"[【讯电记通消（(/／|｜]")
_CJK_HINT_CHARS = 64
_EN_HINT = re.compile(r"\(|By\b|PUBLISHED|UPDATED|Last updated")
_EN_HINT_CHARS = 200


def strip_byline(sentence: str) -> str:
    """`sentence` without the datelines, bylines and agency prefixes at its front (several may be
    stacked: `By . A . PUBLISHED: . … | UPDATED: . …`); "" when that is all it was."""
    text = sentence.strip()
    for _ in range(4):
        if _CJK.search(text, 0, 24):
            if not _CJK_HINT.search(text, 0, _CJK_HINT_CHARS):
                break
            pattern = _CJK_BYLINE
        elif _EN_HINT.search(text, 0, _EN_HINT_CHARS):
            pattern = _EN_BYLINE
        else:
            break
        m = pattern.match(text)
        if m is None or not m.end():
            break
        text = text[m.end():].lstrip(" -—–:：,，|.")
    return text if _WORDLIKE.search(text) else ""
