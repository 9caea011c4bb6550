"""bot/core/clean.py and build_article on shapes the sample corpus does not show: boilerplate rules that must
not eat news, tables, invisible characters, posts dated in the future, titles guessed from the text."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.core.clean import clean_html
from bot.feeds.ingest import build_article

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("news", [
    "来源：国家统计局数据显示，1-11月全国规模以上工业企业实现利润总额同比增长，其中制造业增长较快。",
    "关注度最高的是微博热搜话题。",
    "扫码支付二维码已成为主流，商户接入成本大幅下降。",
    "用户只需下载京东APP",
    "本文系统介绍了新规的适用范围，并授权地方细化执行。",
])
def test_news_sentences_that_look_like_boilerplate_are_kept(news):
    assert clean_html(f"<p>{news}</p><p>第二段。</p>") == (news, "第二段。")


@pytest.mark.parametrize("junk", [
    "来源：新浪财经", "关注我们的微信公众号，获取更多资讯。", "扫描下方二维码关注我们", "下载新浪财经APP",
    "本文系作者原创，转载请注明出处", "责任编辑：张三",
])
def test_boilerplate_lines_still_go(junk):
    assert clean_html(f"<p>正文。</p><p>{junk}</p>") == ("正文。",)


def test_table_cells_are_separated_and_rows_are_paragraphs():
    html = "<table><tr><th>指标</th><th>数值</th></tr><tr><td>GDP</td><td>5%</td></tr></table>"
    assert clean_html(html) == ("指标 数值", "GDP 5%")


def test_invisible_characters_do_not_split_chinese_words():
    assert clean_html("<p>苹\u200b果\u200c发\u200d布\u2060会\xad召开\ufeff。</p>") == ("苹果发布会召开。",)
    assert clean_html("<p>家庭 👨\u200d👩\u200d👧 合影</p>") == ("家庭 👨\u200d👩\u200d👧 合影",)  # emoji stay whole


def _post(front: str, body: str) -> bytes:
    return f"---\n{front}\n---\n{body}\n".encode()


def test_a_date_in_the_future_is_not_trusted():
    art = build_article(_post("title: 未来\ndate: 2999-01-01 00:00:00\ncategories:\n - 新闻", "<p>正文。</p>"),
                        source="x", now=NOW)
    assert art.published == NOW and "date_in_future" in art.flags


def test_a_guessed_title_comes_from_the_cleaned_text():
    body = "<script>window.a=1</script><!-- 广告 --><p>原标题：旧标题</p><p>海关总署发布新规。</p>"
    art = build_article(_post("categories:\n - 新闻\nauthor: 某人", body), source="x", now=NOW)
    assert art.title == "海关总署发布新规。" and art.paragraphs == ("海关总署发布新规。",)


def test_related_links_after_a_zhihu_answer_are_dropped_inline_links_kept():
    html = ('<p>正文提到<a class="internal" href="https://www.zhihu.com/q/1">另一个回答</a>的观点。</p><hr>'
            '<p><a class="internal" href="https://www.zhihu.com/q/2">毕业一年，裸辞已经两个月了？</a></p>')
    assert clean_html(html) == ("正文提到另一个回答的观点。",)


def test_entities_in_titles_are_decoded_literal_markup_kept():
    art = build_article(_post("title: 'A &amp; B &#39;q&#39; &#123;json&#125; AT&T <b>x</b>'\ncategories:\n - 新闻",
                              "<p>正文。</p>"), source="x", now=NOW)
    assert art.title == "A & B 'q' {json} AT&T <b>x</b>"


def test_markdown_with_a_hexo_more_marker_and_an_image_tag_reads_as_plain_paragraphs():
    body = ("## 小标题\n\n这是**加粗**文字，见[链接](https://a.com)。\n\n<!-- more -->\n\n- 列表一\n- 列表二\n\n"
            "<img src=\"https://img.example.org/a.jpg\">\n")
    assert clean_html(body) == ("小标题", "这是加粗文字，见链接。", "列表一", "列表二")
