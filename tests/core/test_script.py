"""bot.core.script: one script for matching, the reader's script for display; and where the rest of the core uses it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.catalogue import zh, zh_hant
from bot.core.categories import build_tree, resolve
from bot.core.chat_settings import SettingChange, parse_setting
from bot.core.i18n import language_of, t
from bot.core.query import MatchDoc, ParsedQuery, fts_text, parse_query, tokens
from bot.core.script import (
    HANS,
    HANT,
    HK,
    TW,
    fold_script,
    locale,
    match_fold,
    script_of,
    script_of_client,
    script_of_locale,
    to_script,
)
from bot.core.snippet import find_matches

PAIRS = [  # Traditional, Simplified: the phrases the issue names and a few more that need the phrase table
    ("頭髮", "头发"), ("乾燥", "干燥"), ("後面", "后面"), ("經濟", "经济"), ("財經", "财经"), ("臺灣", "台湾"),
    ("發展", "发展"), ("麵包", "面包"), ("於是", "于是"), ("幹部", "干部"), ("裡面", "里面"),
]


@pytest.mark.parametrize(("hant", "hans"), PAIRS)
def test_both_scripts_fold_alike(hant: str, hans: str) -> None:
    assert match_fold(hant) == match_fold(hans) == hans


def test_phrases_keep_characters_that_are_not_script() -> None:
    # 乾隆 and 皇后 are written so in Simplified too: a character table would make them 干隆 and 皇後
    assert match_fold("乾隆皇帝") == "乾隆皇帝"
    assert match_fold("皇后在後面") == "皇后在后面"
    assert match_fold("ＩＰＨＯＮＥ 經濟") == "iphone 经济"  # NFKC and casefold first


@given(st.text(alphabet=st.sampled_from(list("頭髮乾燥後面皇后乾隆經濟发展干燥头发台灣臺灣裡里面 ,。abc")), max_size=40))
def test_folding_never_moves_a_character(text: str) -> None:
    assert len(fold_script(text)) == len(text)


@pytest.mark.parametrize(("hant", "hans"), PAIRS)
def test_queries_in_either_script_match_articles_in_either(hant: str, hans: str) -> None:
    for written in (hant, hans):
        doc = MatchDoc(f"今日{written}新聞", f"關於{written}的報道", "")
        for typed in (hant, hans):
            q = parse_query(typed)
            assert isinstance(q, ParsedQuery)
            assert doc.matches(q), (written, typed)
    assert fts_text(hant) == fts_text(hans)
    assert tokens(hant) == tokens(hans)


def test_no_spurious_match_from_folding() -> None:
    doc = MatchDoc("乾隆皇帝", "皇后", "")
    q = parse_query("干隆")
    assert isinstance(q, ParsedQuery) and not doc.matches(q)


def test_snippet_marks_the_readers_own_characters() -> None:
    text = "他說頭髮乾燥以後很難打理"
    q = parse_query("头发干燥")
    assert isinstance(q, ParsedQuery)
    [(s, e)] = find_matches(text, [p.tokens for p in q.include])
    assert text[s:e] == "頭髮乾燥"


def test_category_names_resolve_in_either_script() -> None:
    tree = build_tree([(("财经", "要闻"), 3), (("科技",), 2)])
    found = resolve(tree, "財經")
    assert found.node is not None and found.node.path == ("财经",)
    found = resolve(tree, "財經/要聞")
    assert found.node is not None and found.node.path == ("财经", "要闻")


def test_cat_filter_is_folded_like_category_keys() -> None:
    q = parse_query("cat:財經 經濟")
    assert isinstance(q, ParsedQuery)
    assert q.categories == ("财经",)
    assert q.category_ok("财经\x1f要闻\x1f")


def test_script_detection() -> None:
    assert script_of("經濟發展與頭髮") == HANT
    assert script_of("经济发展与头发") == HANS
    assert script_of("hello") is None
    assert script_of("中文") is None  # the same in both


def test_display_converts_only_text_in_the_other_script() -> None:
    assert to_script("软件信息：头发干燥以后", TW) == "軟體資訊：頭髮乾燥以後"   # Taiwan vocabulary
    assert to_script("软件信息：头发干燥以后", HK) == "軟件信息：頭髮乾燥以後"   # Hong Kong characters
    assert to_script("软件信息：头发干燥以后", HANT) == "軟件信息：頭髮乾燥以後"
    assert to_script("頭髮乾燥以後", HANS) == "头发干燥以后"
    assert to_script("头发干燥以后", HANS) == "头发干燥以后"
    assert to_script("頭髮乾燥以後", HANT) == "頭髮乾燥以後"
    assert to_script("台灣的綫路", HK) == "台灣的綫路"
    assert to_script("頭髮", None) == "頭髮" and to_script("Hello", TW) == "Hello"
    # with marks in it: never a different length, so regional vocabulary is skipped
    assert to_script("U盘", TW, same_length=True) == "U盤"
    assert to_script("U盘", TW) == "隨身碟"


@pytest.mark.parametrize(("code", "script"), [
    ("zh-hant", HANT), ("zh-Hant-TW", TW), ("zh-tw", TW), ("zh-hk", HK), ("zh_HK", HK), ("zh-mo", HK),
    ("zh-hans", HANS), ("zh", HANS), ("zh-cn", HANS), ("en", HANS), (None, HANS),
])
def test_client_language_codes(code: str | None, script: str) -> None:
    assert script_of_client(code) == script


def test_locales() -> None:
    assert language_of("zh-tw") == "zh-TW" and language_of("zh-hant") == "zh-Hant" and language_of("zh") == "zh"
    assert language_of("en-GB") == "en"
    assert locale("zh", TW) == "zh-TW" and locale("zh-HK", None) == "zh-HK" and locale("en", TW) == "en"
    assert locale("zh", HANS) == "zh" and locale("zh-TW", HANS) == "zh"
    assert script_of_locale("zh-HK") == HK and script_of_locale("en") is None


def test_traditional_catalogue_covers_every_key_with_the_same_placeholders() -> None:
    import string

    def fields(s: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    for key, text in zh.MESSAGES.items():
        for lang in ("zh-Hant", "zh-TW", "zh-HK"):
            out = t(lang, key)
            assert out  # present, or converted from the Simplified entry
        if key in zh_hant.MESSAGES:
            assert fields(zh_hant.MESSAGES[key]) == fields(text), key
    for extra in (zh_hant.TW, zh_hant.HK):
        for key, text in extra.items():
            assert fields(text) == fields(zh_hant.MESSAGES[key]), key


def test_catalogue_reads_regional_vocabulary() -> None:
    assert t("zh-TW", "settings_header") == "<b>設定</b>"
    assert t("zh-HK", "settings_header") == "<b>設置</b>"
    assert t("zh", "settings_header") == "<b>设置</b>"
    assert fold_script(t("zh-Hant", "read_not_found", id=1)) == t("zh", "read_not_found", id=1)


@pytest.mark.parametrize(("value", "script"), [("繁體", HANT), ("tw", TW), ("香港", HK), ("简体", HANS), ("auto", None)])
def test_settings_script(value: str, script: str | None) -> None:
    change = parse_setting(["script", value])
    assert isinstance(change, SettingChange) and change.values == {"script": script}
    assert not isinstance(parse_setting(["script", "klingon"]), SettingChange)


def test_render_shows_articles_in_the_readers_script() -> None:
    from bot.core.model import Article
    from bot.core.render import read_messages

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    a = Article(uid="x", feed_id=None, source="s", title="頭髮乾燥怎麼辦", categories=("生活",), author="記者",
                published=when, image_url=None, paragraphs=("頭髮乾燥以後要護理。",), language="zh",
                content_hash="h", story_key="k", ingested=when)
    [msg] = read_messages("zh", timezone.utc, a, article_id=7)
    assert "头发干燥怎么办" in msg and "头发干燥以后要护理" in msg and "/read_7_orig" in msg
    [orig] = read_messages("zh", timezone.utc, a, article_id=7, original=True)
    assert "頭髮乾燥怎麼辦" in orig and "/read_7_orig" not in orig
    [same] = read_messages("zh-TW", timezone.utc, a, article_id=7)
    assert "頭髮乾燥以後要護理" in same and "/read_7_orig" not in same
