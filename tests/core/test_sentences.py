"""Sentence splitting and byline stripping: where a summary sentence may start and end."""
from __future__ import annotations

import pytest

from bot.core.bylines import strip_byline
from bot.core.sentences import split_sentences


def test_lines_always_separate_sentences() -> None:
    # Short <p> lines of one statement stay apart: the summariser, not the splitter, refuses to glue them.
    assert split_sentences("财政部8月26日发布2021年1-7月\n同比增长26.6%") == ["财政部8月26日发布2021年1-7月", "同比增长26.6%"]
    assert split_sentences("第一段。\u2029第二段。") == ["第一段。", "第二段。"]


def test_semicolons_end_chinese_sentences() -> None:
    assert split_sentences("一是稳外贸；二是稳外资。") == ["一是稳外贸；", "二是稳外资。"]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("新华社北京3月7日电 会议指出，要稳住外贸。", "会议指出，要稳住外贸。"),
        ("中新网上海3月7日电 (记者 张三)上海发布新规。", "上海发布新规。"),
        ("武汉晚报讯（记者李玉莹）12月6日上午，老人开始修订书稿。", "12月6日上午，老人开始修订书稿。"),
        ("本报讯 记者张三 12日，全市防汛会议召开。", "12日，全市防汛会议召开。"),
        ("21世纪经济报道记者张三 北京报道 海关总署发布数据。", "海关总署发布数据。"),
        ("记者 张三 李四 上海报道 昨天，上海发布新规。", "昨天，上海发布新规。"),
        ("【新华社北京电】会议召开。", "会议召开。"),
        ("央视网消息（新闻联播）：国务院召开常务会议。", "国务院召开常务会议。"),
        ("IT 之家 3 月 21 日消息 微软推送新版本。", "微软推送新版本。"),
        ("LONDON (Reuters) - Shares fell on Monday.", "Shares fell on Monday."),
        ("WASHINGTON, March 7 (Reuters) - The Fed held rates.", "The Fed held rates."),
        ("Marseille, France (CNN)The prosecutor spoke.", "The prosecutor spoke."),
        ("By . Sam Reporter . PUBLISHED: . 14:11 EST, 25 October 2013 . The bishop spoke.", "The bishop spoke."),
        ("By . Sam Reporter .", ""),
        ("记者 张三 北京报道", ""),
    ],
)
def test_bylines_are_cut_off_the_front(sentence: str, expected: str) -> None:
    assert strip_byline(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "媒体记者曾多次报道此事。",
        "记者21日了解到，近日国家发展改革委印发通知。",
        "接受记者采访时，老人谈起维权缘由仍很气愤。",
        "海量资讯、精准解读，尽在新浪财经APP",
        "By Mr. Smith's account, the plan failed.",
        "By Tuesday, the council had approved it.",
        "The company told Reuters (Reuters) nothing.",
    ],
)
def test_sentences_that_merely_mention_reporters_are_kept(sentence: str) -> None:
    assert strip_byline(sentence) == sentence
