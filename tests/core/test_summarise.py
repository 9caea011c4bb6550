"""The summariser as a reader sees it: where sentences end, what a summary may contain, its size."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.core.summarise import (
    DEFAULT_MAX_CHARS,
    MAX_CANDIDATES,
    SUMMARISER_VERSION,
    ScoredSentence,
    candidates,
    score_sentences,
    split_sentences,
    summarise,
)
from bot.core.summary_model import FEATURES
from tests.support.paths import ROOT as REPO

SEEDS = REPO.parent / "shared" / "seeds"


# --- sentence splitting --------------------------------------------------------------------------

SPLITS = [
    # Chinese end marks, and closing quotes/brackets staying with their sentence
    ("他说：“你好吗？”然后走了。", ["他说：“你好吗？”", "然后走了。"]),
    ("他说：「走吧。」大家都笑了。", ["他说：「走吧。」", "大家都笑了。"]),
    ("据悉（此前已有报道。）项目下周开工。", ["据悉（此前已有报道。）", "项目下周开工。"]),
    ("【快讯】股市大涨！", ["【快讯】股市大涨！"]),
    ("会议指出；坚持问题导向。", ["会议指出；", "坚持问题导向。"]),
    ("我们……不知道该怎么办", ["我们……", "不知道该怎么办"]),
    ("真的吗？！当然。", ["真的吗？！", "当然。"]),
    ("他问：“还有吗？”，没人回答。", ["他问：“还有吗？”，没人回答。"]),
    # a final sentence without an end mark is kept
    ("第一句话。最后一句没有标点", ["第一句话。", "最后一句没有标点"]),
    # decimals and mixed scripts
    ("股价上涨3.5%。成交额1.2亿元！", ["股价上涨3.5%。", "成交额1.2亿元！"]),
    (
        "小米发布Redmi Note 12 Pro+，起售价1599元。同时MIUI 14.0.3开始推送。",
        ["小米发布Redmi Note 12 Pro+，起售价1599元。", "同时MIUI 14.0.3开始推送。"],
    ),
    ("她说OK!我们出发吧。", ["她说OK!", "我们出发吧。"]),
    ("详见https://example.com/a?id=1。下一段。", ["详见https://example.com/a?id=1。", "下一段。"]),
    # English abbreviations, decimals, initials, URLs, ellipses, quotes
    (
        "The U.S. economy grew 3.5% in Q2. Analysts were surprised.",
        ["The U.S. economy grew 3.5% in Q2.", "Analysts were surprised."],
    ),
    ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
    (
        "Some tools, e.g. grep, are fast. Others are not.",
        ["Some tools, e.g. grep, are fast.", "Others are not."],
    ),
    ("Use e.g., grep. Or awk.", ["Use e.g., grep.", "Or awk."]),
    (
        "Read it at https://example.com/a.html?x=1. Then reply.",
        ["Read it at https://example.com/a.html?x=1.", "Then reply."],
    ),
    ("He paused... then left. Nobody noticed.", ["He paused... then left.", "Nobody noticed."]),
    ("Wait… what happened? Nobody knows.", ["Wait… what happened?", "Nobody knows."]),
    ('"Really?" she asked. "Yes!" he said.', ['"Really?" she asked.', '"Yes!" he said.']),
    ('He said "go." Then he left.', ['He said "go."', "Then he left."]),
    ("J. K. Rowling wrote it. It sold well.", ["J. K. Rowling wrote it.", "It sold well."]),
    ("It costs $3.50 today! Buy now?", ["It costs $3.50 today!", "Buy now?"]),
    # Japanese
    (
        "初めて回転寿司に来ました。これどうやって使うんですか？教えてください！",
        ["初めて回転寿司に来ました。", "これどうやって使うんですか？", "教えてください！"],
    ),
    ("彼は「行こう。」と言った。次の日になった。", ["彼は「行こう。」と言った。", "次の日になった。"]),
    # line breaks always separate; a stray closing quote on its own line joins the sentence before
    ("小标题\n正文第一句。", ["小标题", "正文第一句。"]),
    ("他说：“\n我认为可以。\n”", ["他说：“", "我认为可以。”"]),
    ("", []),
    ("   \n  ", []),
]


@pytest.mark.parametrize(("text", "expected"), SPLITS)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


# --- fixtures written for these tests ------------------------------------------------------------

LIBRARY_TITLE = "市图书馆新馆周一开放"
LIBRARY = [
    "本地晚报讯（记者王五）周一上午，市图书馆新馆正式对外开放，首日接待读者三千余人次。",
    "新馆位于城东文化公园北侧，建筑面积两万平方米，藏书一百二十万册。",
    "馆方介绍，新馆设有少儿阅览区、古籍修复室和二十四小时自助借还区。",
    "开放首日，不少市民一早便在门口排队，少儿阅览区尤其热闹。",
    "馆方表示，新馆开放后，老馆将改造为社区分馆，继续提供借阅服务。",
]

CUSTOMS_TITLE = "海关推动外贸新业态发展"
CUSTOMS = [
    "原标题：海关召开例会",
    "着力优化口岸营商环境，促进跨境电商等外贸新业态发展，大力支持开放平台建设。",
    "强化口岸疫情监测预警，严格做好入境人员和交通工具卫生检疫。",
    "3月15日，海关召开例会，分析当前形势，研究部署下阶段工作任务。",
    "会议强调，要稳住外贸主体。着力优化口岸营商环境，促进跨境电商等外贸新业态发展，大力支持开放平台建设。",
    "会议要求，强化口岸疫情监测预警，严格做好入境人员和交通工具卫生检疫。",
    "点击下载新浪财经APP，了解海关推动外贸新业态发展的更多信息。",
    "海量资讯、精准解读，尽在新浪财经APP",
    "来源：海关发布",
    "责任编辑：张三",
]

ENGLISH_TITLE = "City opens a new central library"
ENGLISH = [
    "The city opened its new central library on Monday, welcoming more than three thousand visitors.",
    "Image credit: City Library press office.",
    "The building holds 1.2 million books and a 24-hour self-service lending area.",
    "Related: City council approves the budget for two new branch libraries.",
    "Officials said the old library will become a neighbourhood branch next year.",
]


def _joined_length(sentences: list[str], language: str) -> int:
    return len((" " if language == "en" else "").join(sentences))


def _source_sentences(paragraphs: list[str]) -> list[str]:
    return [s for p in paragraphs for s in split_sentences(p)]


# --- what a summary contains ---------------------------------------------------------------------


def test_summary_sentences_are_whole_sentences_of_the_article_in_article_order() -> None:
    summary = summarise(LIBRARY, LIBRARY_TITLE, max_sentences=5, max_chars=1000)
    source = _source_sentences(LIBRARY)
    assert summary
    positions = []
    for sentence in summary:
        matches = [i for i, s in enumerate(source) if s.endswith(sentence)]
        assert matches, sentence
        positions.append(matches[0])
    assert positions == sorted(positions)


def test_dateline_is_trimmed_from_the_lead() -> None:
    summary = summarise(LIBRARY, LIBRARY_TITLE, max_sentences=1)
    assert summary == ["周一上午，市图书馆新馆正式对外开放，首日接待读者三千余人次。"]


def test_boilerplate_never_appears_even_when_it_mentions_the_title() -> None:
    summary = summarise(CUSTOMS, CUSTOMS_TITLE, max_sentences=5, max_chars=1000)
    text = "".join(summary)
    assert summary
    for marker in ("原标题", "点击", "APP", "海量资讯", "来源", "责任编辑"):
        assert marker not in text


def test_english_boilerplate_never_appears() -> None:
    summary = summarise(ENGLISH, ENGLISH_TITLE, language="en", max_sentences=5, max_chars=2000)
    assert summary
    assert not any(s.startswith(("Image credit", "Related:")) for s in summary)


def test_boilerplate_scores_zero() -> None:
    scored = {s.text: s.score for s in score_sentences(CUSTOMS, CUSTOMS_TITLE)}
    for line in ("原标题：海关召开例会", "海量资讯、精准解读，尽在新浪财经APP", "来源：海关发布", "责任编辑：张三"):
        assert scored[line] == 0.0


def test_repeated_lead_points_are_not_both_chosen() -> None:
    summary = summarise(CUSTOMS, CUSTOMS_TITLE, max_sentences=5, max_chars=1000)
    assert len(summary) == len(set(summary))
    assert sum("外贸新业态发展" in s for s in summary) <= 1
    assert sum("卫生检疫" in s for s in summary) <= 1


def test_a_sentence_that_only_restates_the_title_is_skipped() -> None:
    paragraphs = ["市图书馆新馆周一开放。", "新馆藏书一百二十万册，设有少儿阅览区和古籍修复室。"]
    assert summarise(paragraphs, LIBRARY_TITLE) == ["新馆藏书一百二十万册，设有少儿阅览区和古籍修复室。"]
    assert summarise(paragraphs[:1], LIBRARY_TITLE) == []


def test_captions_and_headings_do_not_pad_the_summary() -> None:
    paragraphs = [
        "新馆藏书一百二十万册，设有少儿阅览区和古籍修复室。",
        "市民在新馆少儿阅览区读书。记者王五 摄",
        "新馆外景",
    ]
    assert summarise(paragraphs, LIBRARY_TITLE, max_sentences=3) == [paragraphs[0]]


def test_empty_article_has_empty_summary() -> None:
    assert summarise([], "标题") == []
    assert summarise(["", "   "], "标题") == []
    assert score_sentences([]) == []


def test_one_sentence_article_is_its_own_summary() -> None:
    paragraphs = ["新馆设有少儿阅览区、古籍修复室和二十四小时自助借还区。"]
    assert summarise(paragraphs, LIBRARY_TITLE) == paragraphs
    assert summarise(paragraphs) == paragraphs


def test_scored_sentences_come_in_article_order() -> None:
    scored = score_sentences(LIBRARY, LIBRARY_TITLE)
    assert [s.index for s in scored] == list(range(len(scored)))
    assert all(isinstance(s, ScoredSentence) and s.score >= 0.0 for s in scored)
    plain = score_sentences(LIBRARY, LIBRARY_TITLE, priors=False)
    assert [s.text for s in plain] == [s.text for s in scored]


# --- budgets -------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_sentences", [1, 2, 3, 5])
@pytest.mark.parametrize("max_chars", [40, 60, 100, 160, 400])
def test_summary_respects_both_budgets(max_sentences: int, max_chars: int) -> None:
    for paragraphs, title, language in ((LIBRARY, LIBRARY_TITLE, "zh"), (ENGLISH, ENGLISH_TITLE, "en")):
        summary = summarise(paragraphs, title, language, max_sentences=max_sentences, max_chars=max_chars)
        assert len(summary) <= max_sentences
        assert _joined_length(summary, language) <= max_chars


def test_sentence_count_is_clamped_to_one_to_five() -> None:
    many = [f"第{i}号仓库完成了{i}批货物的盘点，盘点结果{i}号报告已经提交。" for i in range(1, 20)]
    assert 1 <= len(summarise(many, max_sentences=0, max_chars=10_000)) <= 1
    assert len(summarise(many, max_sentences=50, max_chars=10_000)) <= 5


def test_default_character_budget_depends_on_language() -> None:
    assert DEFAULT_MAX_CHARS == {"zh": 160, "ja": 160, "en": 320}
    words = "the committee reviewed the proposal in detail, and"
    english = [("After a long meeting " + " ".join([words] * 4) + " finally approved it.").strip()]
    assert 160 < len(english[0]) <= 320
    assert summarise(english, language="en", max_sentences=1) == english


def test_only_a_sentence_longer_than_the_whole_budget_is_cut_at_a_clause() -> None:
    clauses = [f"第{i}项措施要求各地加快推进重点项目建设" for i in range(1, 12)]
    long_sentence = "，".join(clauses) + "。"
    assert len(long_sentence) > 160
    summary = summarise([long_sentence], max_sentences=2)
    assert len(summary) == 1
    cut = summary[0]
    assert cut.endswith("…") and len(cut) <= 160
    stem = cut[:-1]
    assert long_sentence.startswith(stem) and long_sentence[len(stem)] == "，"


def test_sentences_that_fit_are_never_cut() -> None:
    for max_chars in (30, 45, 80, 160):
        summary = summarise(LIBRARY, LIBRARY_TITLE, max_sentences=3, max_chars=max_chars)
        source = _source_sentences(LIBRARY)
        for sentence in summary:
            if not sentence.endswith("…"):
                assert any(s.endswith(sentence) for s in source)


# --- determinism and bounds ----------------------------------------------------------------------


def test_same_input_same_summary_across_processes() -> None:
    code = (
        "import json, sys; from bot.core.summarise import summarise; "
        "a = json.loads(sys.stdin.read()); print(json.dumps(summarise(*a, max_sentences=5, max_chars=400)))"
    )
    import json

    payload = json.dumps([CUSTOMS + LIBRARY, CUSTOMS_TITLE])
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], input=payload, capture_output=True, text=True, env=env,
            cwd=REPO, check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert summarise(CUSTOMS, CUSTOMS_TITLE) == summarise(CUSTOMS, CUSTOMS_TITLE)


def test_huge_article_is_bounded() -> None:
    sentences = [f"第{i}号仓库今天完成了{i % 7 + 1}批货物的盘点工作，结果已经上报。" for i in range(6000)]
    paragraphs = ["".join(sentences[i : i + 20]) for i in range(0, len(sentences), 20)]
    assert len("".join(paragraphs).encode()) > 200_000
    assert len(score_sentences(paragraphs, "仓库盘点")) == MAX_CANDIDATES
    summary = summarise(paragraphs, "仓库盘点")
    assert summary and _joined_length(summary, "zh") <= 160


def test_huge_paragraph_without_punctuation_has_no_summary() -> None:
    blob = "数据" * 100_000
    assert len(score_sentences([blob])) == 1
    assert summarise([blob]) == []  # no real sentence in it: the digest shows the title alone


def test_version_is_a_positive_int() -> None:
    assert isinstance(SUMMARISER_VERSION, int) and SUMMARISER_VERSION >= 1


# --- the seed article ----------------------------------------------------------------------------


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared corpus not checked out next to the repo")
def test_seed_summary_has_no_repeats_and_no_boilerplate() -> None:
    from bot.feeds.ingest import load_post

    seed = sorted(SEEDS.glob("*.txt"))[0]
    article = load_post(seed)
    for n in (2, 5):
        summary = summarise(article.paragraphs, article.title, article.language, max_sentences=n)
        assert summary
        assert len(summary) == len(set(summary))
        text = "".join(summary)
        for marker in ("原标题", "转载请注明", "海量资讯", "责任编辑", "二维码", "来源"):
            assert marker not in text
        assert _joined_length(summary, article.language) <= 160
        # The seed repeats its lead points in the body: no two chosen sentences share most of it.
        for i, a in enumerate(summary):
            for b in summary[i + 1 :]:
                assert not (a in b or b in a)


# --- faithful by construction (issue 15) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraphs", "title", "language", "expected"),
    [
        (["新华社北京3月7日电 国务院常务会议7日召开，部署进一步稳外贸稳外资工作。"], "国常会部署稳外贸",
         "zh", ["国务院常务会议7日召开，部署进一步稳外贸稳外资工作。"]),
        (["新华社北京3月7日电（记者张三）国务院常务会议7日召开，部署进一步稳外贸稳外资工作。"], "国常会部署稳外贸",
         "zh", ["国务院常务会议7日召开，部署进一步稳外贸稳外资工作。"]),
        (["21世纪经济报道记者王五 北京报道 海关总署3月7日发布数据，前两个月我国货物贸易进出口总值同比增长。"],
         "前两月外贸增长", "zh", ["海关总署3月7日发布数据，前两个月我国货物贸易进出口总值同比增长。"]),
        (["本报记者李四报道：市图书馆新馆周一正式对外开放，首日接待读者三千余人次。"], "新馆开放",
         "zh", ["市图书馆新馆周一正式对外开放，首日接待读者三千余人次。"]),
        (["LONDON (Reuters) - British retail sales fell by more than expected in March, official figures showed."],
         "Retail sales drop", "en", ["British retail sales fell by more than expected in March, official figures showed."]),
        (["WASHINGTON, March 7 (Reuters) - The Federal Reserve held interest rates steady on Wednesday."],
         "Fed on hold", "en", ["The Federal Reserve held interest rates steady on Wednesday."]),
        (["PARIS (AP) — The council approved the new bridge after a two-year consultation with residents."],
         "Bridge approved", "en", ["The council approved the new bridge after a two-year consultation with residents."]),
    ],
)
def test_datelines_bylines_and_agency_prefixes_are_stripped(
    paragraphs: list[str], title: str, language: str, expected: list[str]
) -> None:
    assert summarise(paragraphs, title, language, max_sentences=1) == expected


def test_a_byline_inside_a_sentence_is_kept() -> None:
    paragraph = "多家媒体记者曾多次报道此事，但相关部门一直没有回应。"
    assert summarise([paragraph], "回应") == [paragraph]


def test_short_lines_of_an_infographic_are_never_glued_together() -> None:
    # A page that breaks one statement over several short <p> lines.
    lines = ["财政部8月26日发布2021年1-7月", "全国一般公共预算收入", "同比增长26.6%", "专家解读"]
    assert summarise(lines, "前7月财政收入", max_sentences=3) == []
    with_sentence = [*lines, "财政部表示，收入增长主要受经济恢复和价格上涨等因素带动，后续增速将逐步回落。"]
    summary = summarise(with_sentence, "前7月财政收入", max_sentences=3)
    assert summary == [with_sentence[-1]]


def test_a_fragment_without_an_end_mark_is_never_followed_by_another_sentence() -> None:
    paragraphs = [
        "今年以来全市新开工重点项目一百二十个，完成投资超过计划进度，其中民间投资占比明显提高",
        "市发改委表示，下半年将继续加快项目审批，推动更多项目尽早开工建设。",
    ]
    summary = summarise(paragraphs, "重点项目进展", max_sentences=2, max_chars=400)
    assert summary
    for item in summary[:-1]:
        assert item.rstrip("”’）)」』")[-1] in "。！？；…!?."


def test_a_sentence_only_repeating_the_headline_is_skipped_when_another_says_more() -> None:
    title = "市图书馆新馆周一正式开放"
    paragraphs = ["市图书馆新馆周一正式开放。", "新馆藏书一百二十万册，设有少儿阅览区和二十四小时自助借还区。"]
    assert summarise(paragraphs, title, max_sentences=2) == [paragraphs[1]]


def test_a_page_of_a_single_line_fragment_has_no_summary() -> None:
    assert summarise(["点击查看大图"], "某某发布会现场") == []
    assert summarise(["2021年1-7月"], "财政数据") == []
    assert summarise(["记者 张三 北京报道"], "新闻") == []


def test_summary_items_are_substrings_of_one_paragraph() -> None:
    paragraphs = [
        "本报讯（记者王五）周一上午，市图书馆新馆正式对外开放，首日接待读者三千余人次。",
        "新馆位于城东文化公园北侧，建筑面积两万平方米，藏书一百二十万册。",
        "馆方表示，新馆开放后，老馆将改造为社区分馆，继续提供借阅服务。",
    ]
    for item in summarise(paragraphs, "新馆开放", max_sentences=3, max_chars=400):
        assert any(item in p for p in paragraphs)


def test_a_paragraphs_last_sentence_without_its_end_mark_can_be_the_summary() -> None:
    # The page dropped the final 。: the sentence still ends where its paragraph ends.
    paragraphs = [
        "记者从市住建局获悉。今年全市计划新建保障性租赁住房八万套，比去年增加两成，年底前全部开工",
        "详情请见附件",
    ]
    summary = summarise(paragraphs, "保障房建设", max_sentences=1)
    assert summary == ["今年全市计划新建保障性租赁住房八万套，比去年增加两成，年底前全部开工"]


def test_an_english_paragraph_without_its_period_can_be_the_summary() -> None:
    paragraphs = [
        "Photos: Getty",
        "The city council approved a new budget for public transport and school repairs after a long debate on Monday night",
    ]
    assert summarise(paragraphs, "Budget vote", language="en", max_sentences=1) == [paragraphs[1]]


def test_a_paragraph_ending_in_a_comma_is_a_broken_line_not_a_sentence() -> None:
    # The page broke one sentence over two paragraphs: neither half is shown.
    paragraphs = ["市统计局今天发布数据显示，今年前三季度全市地区生产总值同比增长百分之六，", "高于全国平均水平"]
    assert summarise(paragraphs, "前三季度经济数据", max_sentences=2) == []


def test_a_sentence_that_only_says_where_the_reporter_heard_the_news_is_never_the_summary() -> None:
    paragraphs = ["本报记者日前从省教育厅获悉。", "全省今年秋季学期起将为所有中小学生免费提供午餐，惠及三百万学生。"]
    assert summarise(paragraphs, "中小学免费午餐", max_sentences=2) == [paragraphs[1]]
    whys = {s.text: s.why for s in score_sentences(paragraphs, "中小学免费午餐")}
    assert whys[paragraphs[0]] == "not a sentence"


def test_a_sentence_that_only_finishes_a_headline_cut_from_it_is_skipped() -> None:
    # Feeds often make the title from the first sentence's first characters.
    title = "11、每百元营业收入中的费用=（销售费用+管理费用+研发"
    paragraphs = ["11、每百元营业收入中的费用=（销售费用+管理费用+研发费用+财务费用）÷营业收入×100，单位：元。",
                  "1-10月份，规模以上工业企业每百元营业收入中的费用为8.43元，同比减少0.37元。"]
    assert summarise(paragraphs, title, max_sentences=2) == [paragraphs[1]]


def test_a_photo_caption_is_never_the_summary_even_at_the_top() -> None:
    paragraphs = ["中南财经政法大学退休教授赵德馨在家中书房办公，清理案头书籍和资料。记者高勇 摄",
                  "武汉晚报讯（记者李玉莹）12月6日上午，89岁的退休教授赵德馨又开始修订《楚国的货币》一书了。",
                  "老人对中国知网擅自收录他的100多篇论文打起了官司且全部胜诉，累计获赔70多万元。"]
    summary = summarise(paragraphs, "100多篇论文被知网擅自收录 九旬教授维权获赔70多万", max_sentences=2)
    assert summary and all("书房办公" not in s for s in summary)
    assert summary[0].startswith("12月6日上午")  # the wire's dateline cut off
    whys = {s.text: s.why for s in score_sentences(paragraphs, "")}
    assert whys["中南财经政法大学退休教授赵德馨在家中书房办公，清理案头书籍和资料。"] == "photo caption"


def test_a_byline_past_the_candidate_limit_does_not_break_the_summary() -> None:
    # One huge <p> of a scraped page, the wire's prefix on every sentence.
    paragraph = "【新华社】今天全市多地降雨，气象台发布暴雨预警。" * (MAX_CANDIDATES + 50)
    assert summarise([paragraph], "暴雨预警", max_sentences=1) == ["今天全市多地降雨，气象台发布暴雨预警。"]


@pytest.mark.parametrize(
    "caption",
    [
        ["市民在东湖公园赏樱花，现场游人如织十分热闹。（记者高勇 摄）"],
        ["市民在东湖公园赏樱花，现场游人如织十分热闹。本报记者 张三 李四 摄"],
        ["市民在东湖公园赏樱花，现场游人如织十分热闹。", "记者高勇 摄"],  # the credit on a line of its own
    ],
)
def test_a_photo_caption_is_never_chosen_however_its_credit_is_written(caption: list[str]) -> None:
    news = "今年东湖樱花节将持续到四月中旬，预计接待游客超过百万人次。"
    assert summarise([*caption, news], "东湖樱花节开幕", max_sentences=1) == [news]


def test_an_attribution_after_a_time_is_still_only_an_attribution() -> None:
    news = "全市今年将新开工保障性住房两万套，比去年增加三成。"
    assert summarise(["昨日，记者从市住建局获悉。", news], "保障房", max_sentences=1) == [news]
    assert summarise(["11月20日，记者从市住建局了解到。", news], "保障房", max_sentences=1) == [news]


def test_a_reader_who_asks_for_two_sentences_gets_two_when_the_article_has_them() -> None:
    paragraphs = ["国务院常务会议今天决定，明年起下调小微企业所得税。",
                  "此次减税预计每年为企业减负约两千亿元，惠及数百万家小微企业。",
                  "会议还部署了稳就业的多项措施。"]
    assert len(summarise(paragraphs, "小微企业减税", max_sentences=2)) == 2


def test_an_opening_that_repeats_the_headline_does_not_take_the_leads_place() -> None:
    title = "国务院决定下调小微企业所得税"
    lead = "国务院常务会议今天决定，明年起下调小微企业所得税，预计每年为企业减负约两千亿元。"
    later = "会议指出，要持续优化营商环境，支持民营经济发展壮大，稳住市场主体和就业基本盘。"
    paragraphs = ["国务院决定下调小微企业所得税。", lead, later]
    scored = score_sentences(paragraphs, title)
    assert scored[0].why == "repeats the headline"
    assert scored[1].score == 1.0
    found = candidates(paragraphs, title)
    first, position = FEATURES.index("first"), FEATURES.index("position")
    assert found[1].vector[first] == 1.0 and found[1].vector[position] == 1.0  # the lead's place
    assert found[2].vector[first] == 0.0
