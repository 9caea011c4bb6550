"""bot/core/parse.py + bot/core/clean.py over the real posts in ../shared and hand-made edge cases."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import RejectedPost
from bot.core.parse import parse_post
from bot.feeds.ingest import build_article, load_post
from tests.support.paths import REAL, SEEDS, real_posts

UTC = timezone.utc
BOILERPLATE = ("海量资讯", "责任编辑", "<style", "&#123;", "appendQr", "原标题：", "FTC: We use", "查看知乎")

# (path below corpus/real, title, categories, UTC date, a sentence that must survive cleaning)
KNOWN = [
    ("金融/新浪财经/新浪财经－国內/0！上海昨日本土无新增.md", "0！上海昨日本土无新增",
     ("金融", "新浪财经", "新浪财经－国內"), datetime(2022, 8, 6, 0, 6, 5, tzinfo=UTC), "均在闭环管控中发现"),
    ("金融/新浪财经/新浪财经－国內/100万吨国家钾肥储备投放保春耕.md", "100万吨国家钾肥储备投放保春耕",
     ("金融", "新浪财经", "新浪财经－国內"), datetime(2022, 3, 21, 12, 0, 26, tzinfo=UTC), "投放100万吨国家钾肥储备"),
    ("金融/新浪财经/新浪财经－国內/\"倒查20年\"，挽回损失523亿！.md", "\"倒查20年\"，挽回损失523亿！",
     ("金融", "新浪财经", "新浪财经－国內"), datetime(2021, 11, 6, 9, 13, 6, tzinfo=UTC), "内蒙古是产煤大区"),
    ("新媒体/36kr/快讯/10月制造业PMI为492.md", "10月制造业PMI为49.2", ("新媒体", "36kr", "快讯"),
     datetime(2021, 10, 31, 1, 9, 9, tzinfo=UTC), "中国制造业采购经理指数（PMI）为49.2%"),
    ("社交媒体/知乎/知乎日报/CPU 的指令集存放在什么地方？.md", "CPU 的指令集存放在什么地方？",
     ("社交媒体", "知乎", "知乎日报"), datetime(2022, 3, 28, 16, 43, 13, tzinfo=UTC), "指令集不是具象化物体"),
    ("社交媒体/知乎/知乎日报/CPU 为什么会有高频低负载的状态？.md", "CPU 为什么会有高频低负载的状态？",
     ("社交媒体", "知乎", "知乎日报"), datetime(2022, 1, 12, 21, 12, 8, tzinfo=UTC), "先说结论，这样做是为了更加省电"),
    ("新媒体/9To5/9To5 分站/Apple details the ways its CSAM detection system is designed to prevent misuse.md",
     "Apple details the ways its CSAM detection system is designed to prevent misuse", ("新媒体", "9To5", "9To5 分站"),
     datetime(2021, 8, 13, 19, 2, 41, tzinfo=UTC), "Apple has published a new document today"),
    ("游戏/3DMGame/新闻中心/007系列电影制作人表示：不想要女邦德.md", "007系列电影制作人表示：不想要女邦德",
     ("游戏", "3DMGame", "新闻中心"), datetime(2021, 12, 9, 3, 34, tzinfo=UTC), "她表示不想要女邦德"),
    ("二次元/Eventernote/声优活动及演唱会/みもパ！～夏休みだよ、全員集合！～.md", "みもパ！～夏休みだよ、全員集合！～",
     ("二次元", "Eventernote", "声优活动及演唱会"), datetime(2021, 11, 11, 7, 7, 57, tzinfo=UTC), "開催場所 神奈川県民ホール 大ホール"),
    ("_older-generator/34130653642.md", "How to turn off the tab previews in Safari on Mac",
     ("新媒体", "iDownloadBlog - blog"), datetime(2021, 3, 19, 17, 51, 46, tzinfo=UTC), "With Safari 14 on Mac came a cool feature"),
    ("_older-generator/34640979618.md", "被废止数月后 Linux准备向WiMAX说再见", ("新媒体", "cnBeta - 最新"),
     datetime(2021, 3, 21, 13, 50, 57, tzinfo=UTC), "丢掉这段没有维护的代码"),
    ("编程/Dockone/周报/GitOps：运用DevOps之力实现基础设施自动化.md", "GitOps：运用DevOps之力实现基础设施自动化",
     ("编程", "Dockone", "周报"), datetime(2021, 4, 17, 0, 8, 6, tzinfo=UTC), "GitOps是一种强大的工作流模式"),
    ("新媒体/Aljazeera 半岛网/新闻/SIPRI：世界军费开支首次突破2万亿美元.md", "SIPRI：世界军费开支首次突破2万亿美元",
     ("新媒体", "Aljazeera 半岛网", "新闻"), datetime(2022, 4, 25, 13, 6, 19, tzinfo=UTC), "全球军费开支已达到历史最高水平"),
]


def test_every_real_post_and_the_seed_parse():
    posts = real_posts()
    assert len(posts) >= 33
    for path in posts:
        art = load_post(path)
        assert art.title.strip(), path
        assert art.categories, path
        assert art.published.tzinfo is not None
        text = art.text
        for junk in BOILERPLATE:
            assert junk not in text, (path, junk)


@pytest.mark.parametrize("rel,title,cats,date,sentence", KNOWN, ids=[k[1][:20] for k in KNOWN])
def test_known_posts(rel, title, cats, date, sentence):
    art = load_post(REAL / rel)
    assert art.title == title
    assert art.categories == cats
    assert art.published == date
    assert sentence in art.text
    for junk in BOILERPLATE:
        assert junk not in art.text


def test_seed_post():
    (seed,) = sorted(SEEDS.glob("*.txt"))
    art = load_post(seed)
    assert art.title.startswith("海关总署：着力优化口岸营商环境")
    assert art.categories == ("金融", "新浪财经", "新浪财经－国內")
    assert art.published == datetime(2022, 3, 15, 10, 56, 54, tzinfo=UTC)
    assert art.language == "zh"
    assert "强化疫情监测预警" in art.text
    assert "原标题" not in art.text and "海量资讯" not in art.text


def _post(front: str, body: str = "<p>正文第一段。</p>") -> bytes:
    return f"\n---\n{front}\n---\n\n<div>{body}</div>\n".encode()


def test_zoneless_date_uses_configured_zone():
    data = _post("title: 'x标题'\ndate: 2022-03-29 00:43:13")
    assert parse_post(data).published == datetime(2022, 3, 28, 16, 43, 13, tzinfo=UTC)
    assert parse_post(data, default_tz=ZoneInfo("UTC")).published == datetime(2022, 3, 29, 0, 43, 13, tzinfo=UTC)


def test_yaml_rejected_by_pyyaml_is_salvaged():
    raw = parse_post(_post('title: """""Broken title\'"""\ncategories:\n    - A\n    - B\ndate: Tue, 15 Mar 2022 10:56:54 GMT'))
    assert raw.title == "Broken title"
    assert raw.categories == ("A", "B")
    assert raw.published == datetime(2022, 3, 15, 10, 56, 54, tzinfo=UTC)
    assert "yaml_salvaged" in raw.notes


def test_categories_as_string_and_missing():
    assert parse_post(_post("title: t\ncategories: 金融/新浪财经")).categories == ("金融", "新浪财经")
    assert parse_post(_post("title: t\ncategories: 科技")).categories == ("科技",)
    raw = parse_post(_post("title: t"), fallback_categories=("Folder", "Sub"))
    assert raw.categories == ("Folder", "Sub")


def test_no_front_matter_title_from_first_line_or_name():
    raw = parse_post("第一行就是标题\n正文内容在这里。".encode())
    assert raw.title == "第一行就是标题" and "no_front_matter" in raw.notes
    raw = parse_post(b"<div><img src='x.png'></div>", name="file-name")
    assert raw.title == "file-name"


def test_multiline_title_is_joined():
    raw = parse_post(_post("title: '第一行\n  第二行'\ncategories:\n - A"))
    assert raw.title == "第一行 第二行"


def test_encodings_bom_crlf_gbk():
    text = "\n---\ntitle: '海关总署发布数据'\ncategories:\n - 金融\n---\n<p>进口冷链食品监测。</p>\n"
    for data in (
        text.encode("utf-8"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),
        text.replace("\n", "\r\n").encode("utf-8"),
        text.encode("gbk"),
        text.encode("gb18030"),
        text.encode("utf-16"),
    ):
        art = build_article(data, source="x")
        assert art.title == "海关总署发布数据"
        assert art.categories == ("金融",)
        assert art.paragraphs == ("进口冷链食品监测。",)


def test_undecodable_bytes_are_replaced_not_fatal():
    data = _post("title: 'ok title'", "<p>good \xff\xfe text</p>".encode("latin-1").decode("latin-1")).replace(b"good", b"go\xffod")
    art = build_article(data, source="x")
    assert art.title == "ok title"


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"   \n\n  ", "empty"),
    (b"\x00\x01\x02binary\x00" * 100, "binary"),
    (b"x" * (5 * 1024 * 1024 + 1), "too large"),
])
def test_rejections_have_reasons(data, reason):
    with pytest.raises(RejectedPost) as err:
        build_article(data, source="x")
    assert reason in str(err.value)


def test_html_title_keeps_literal_text():
    art = build_article(_post("title: 'AT&T <b>&</b> <script>alert(1)</script>'"), source="x")
    assert art.title == "AT&T <b>&</b> <script>alert(1)</script>"


def test_billion_laughs_front_matter_is_bounded():
    lol = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lol += f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
    lol += "title: *i\ncategories: *i\n"
    art = build_article(_post(lol), source="x")
    assert len(art.title) < 1001 and len(art.categories) <= 6


@settings(deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_an_article_or_a_rejection(data):
    try:
        art = build_article(data, source="fuzz")
    except RejectedPost as exc:
        assert exc.reason
    else:
        assert art.title


@settings(deadline=None)
@given(st.text(max_size=500), st.text(max_size=500))
def test_any_front_matter_text_gives_an_article_or_a_rejection(front, body):
    try:
        art = build_article(f"---\n{front}\n---\n{body}".encode("utf-8", "surrogatepass"), source="fuzz")
    except RejectedPost as exc:
        assert exc.reason
    else:
        assert art.title


def test_links_are_made_safe_to_send_or_dropped():
    from bot.core.parse import web_url

    post = ("---\ntitle: 链接\nlink: ' https://example.org/a b?q=\"x\" '\nheadimg: javascript:alert(1)\n"
            "categories:\n - 新闻\n---\n<p>正文。</p>\n").encode()
    raw = parse_post(post)
    assert raw.url == "https://example.org/a%20b?q=%22x%22" and raw.image_url is None
    assert web_url("https://例子.中国/新闻") == "https://例子.中国/新闻"  # IRIs stay readable
    for bad in ("http://", "ftp://x.org/a", "https://[::1", "https://a.org/" + "x" * 3000, 42, None):
        assert web_url(bad) is None


def test_markdown_bodies_read_as_plain_paragraphs():
    from bot.core.clean import clean_html

    body = ("# 海关总署发布新规\n\n> 记者 张三\n\n据**新华社**报道，[海关总署](https://example.org/x)今天发布公告。\n\n"
            "![图片](https://img.example.org/a.jpg)\n\n- 第一条：进口商品需申报。\n* 第二条：出口退税加快。\n1. 编号保留。\n\n"
            "---\n#话题# 不是标题。 2 * 3 = 6\n")
    assert clean_html(body) == ("海关总署发布新规", "记者 张三", "据新华社报道，海关总署今天发布公告。", "第一条：进口商品需申报。",
                                "第二条：出口退税加快。", "1. 编号保留。", "#话题# 不是标题。 2 * 3 = 6")
    brief = "36氪获悉，某公司完成融资。\n投资方：甲、乙\n金额：1亿元"
    assert clean_html(brief) == tuple(brief.split("\n"))  # plain text without Markdown passes through


def test_salvaged_title_keeps_lines_that_start_at_column_zero():
    # PyYAML rejects this header (apostrophes inside a single-quoted title), as Mastodon-sourced posts have it
    front = ("title: '@alice \"\nI can't believe it's July!\n\"'\ncategories: [社交媒体, Mastodon]\n"
             "date: Tue, 15 Mar 2022 10:56:54 GMT")
    art = build_article(_post(front, "<p>七月了。</p>"), source="x")
    assert art.title == "@alice \" I can't believe it's July! \""
    assert art.categories == ("社交媒体", "Mastodon")  # an inline list, read without YAML
    assert art.published == datetime(2022, 3, 15, 10, 56, 54, tzinfo=UTC)
    assert "yaml_salvaged" in art.flags


def test_unclosed_front_matter_is_read_as_header_and_body():
    post = ("\n---\ntitle: '海关总署：着力优化口岸营商环境'\ncategories:\n - 金融\n - 新浪财经\nauthor: 新浪财经\n"
            "date: 2022-03-15 18:56:54\n\n<div><p>进口冷链食品监测。</p></div>\n").encode()
    art = build_article(post, source="x")
    assert art.title == "海关总署：着力优化口岸营商环境"
    assert art.categories == ("金融", "新浪财经") and art.author == "新浪财经"
    assert art.published == datetime(2022, 3, 15, 10, 56, 54, tzinfo=UTC)
    assert art.paragraphs == ("进口冷链食品监测。",)
    assert "front_matter_unclosed" in art.flags
    # a body in plain text after a blank line, and a Mastodon title over lines at column 0
    raw = parse_post("---\ntitle: '@bob \"\nIt's July\n\"'\ndate: 2022-03-15\n\n今天天气很好。\n第二行。".encode())
    assert raw.title == "@bob \" It's July \"" and raw.body == "今天天气很好。\n第二行。"
    assert "front_matter_unclosed" in raw.notes


@pytest.mark.parametrize("value,expected", [
    ("Tue, 15 Mar 2022 10:56:54 CST", datetime(2022, 3, 15, 2, 56, 54, tzinfo=UTC)),  # China, not US Central
    ("Tue, 15 Mar 2022 10:56:54 HKT", datetime(2022, 3, 15, 2, 56, 54, tzinfo=UTC)),
    ("Tue, 15 Mar 2022 10:56:54 JST", datetime(2022, 3, 15, 1, 56, 54, tzinfo=UTC)),
    ("Tue, 15 Mar 2022 10:56:54 IST", datetime(2022, 3, 15, 5, 26, 54, tzinfo=UTC)),
    ("Tue, 15 Mar 2022 10:56:54 EST", datetime(2022, 3, 15, 15, 56, 54, tzinfo=UTC)),
    ("2022年3月15日 10:56", datetime(2022, 3, 15, 2, 56, tzinfo=UTC)),
    ("2022年3月15日", datetime(2022, 3, 14, 16, 0, tzinfo=UTC)),
    ("2022/3/5 10:56", datetime(2022, 3, 5, 2, 56, tzinfo=UTC)),
    ("2022.03.15", datetime(2022, 3, 14, 16, 0, tzinfo=UTC)),
    ("15 Mar 2022", datetime(2022, 3, 14, 16, 0, tzinfo=UTC)),
    ("Mar 15, 2022", datetime(2022, 3, 14, 16, 0, tzinfo=UTC)),
    ("2022-03-15 10:56:54 UTC", datetime(2022, 3, 15, 10, 56, 54, tzinfo=UTC)),
    ("Tue Mar 15 2022 10:56:54 GMT+0800 (中国标准时间)", datetime(2022, 3, 15, 2, 56, 54, tzinfo=UTC)),
    ("2022-03-15 10:56:54 GMT+0800", datetime(2022, 3, 15, 2, 56, 54, tzinfo=UTC)),
    ("1647341814", datetime(2022, 3, 15, 10, 56, 54, tzinfo=UTC)),
    ("1647341814000", datetime(2022, 3, 15, 10, 56, 54, tzinfo=UTC)),
])
def test_feed_date_forms(value, expected):
    # in the post unquoted: YAML hands over a string, or an int for the epoch forms
    assert parse_post(_post(f"title: t\ndate: {value}")).published == expected
    assert parse_post(_post(f"title: t\ndate: '{value}'")).published == expected


def test_unusable_dates_are_none():
    for value in ("2022", "nonsense", "2022-13-45", "'" + "1 " * 300 + "'"):
        assert parse_post(_post(f"title: t\ndate: {value}")).published is None


@pytest.mark.parametrize("title", ["#今日话题# 苹果发布会", "苹果发布会 #1", "Yes", "NO", "010", "1:30", "3.10"])
def test_unquoted_title_and_author_are_text_as_written(title):
    art = build_article(_post(f"title: {title}\nauthor: {title}\ncategories:\n - 科技"), source="x")
    assert art.title == title and art.author == title
    assert "title_guessed" not in art.flags


def test_image_is_the_first_web_link_of_headimg_thumbnail_cover():
    for headimg in ("undefined", "'null'", "/images/logo.png", "''"):
        raw = parse_post(_post(f"title: t\nheadimg: {headimg}\nthumbnail: https://img.example.org/a.jpg"))
        assert raw.image_url == "https://img.example.org/a.jpg", headimg
    raw = parse_post(_post("title: t\nheadimg: undefined\nthumbnail: ./a.jpg\ncover: 'https://img.example.org/c.jpg'"))
    assert raw.image_url == "https://img.example.org/c.jpg"


def test_hexo_multi_path_categories_use_the_first_path():
    for front in ("categories: [[新媒体, cnBeta], [其他]]", "categories:\n - [新媒体, cnBeta]\n - [其他]"):
        assert parse_post(_post(f"title: t\n{front}")).categories == ("新媒体", "cnBeta")
        # the same with a header PyYAML rejects
        raw = parse_post(_post(f'title: """""坏标题\'"""\n{front}'))
        assert raw.categories == ("新媒体", "cnBeta") and "yaml_salvaged" in raw.notes


def test_invisible_characters_are_removed_from_title_author_categories():
    front = ("title: '苹\u200b果\u00ad发布会\ufeff 新品'\nauthor: \u200d张\u2060三\n"
             "categories:\n - \u200c新媒体\n - \u200b\n - cn\u200bBeta")
    art = build_article(_post(front), source="x")
    assert art.title == "苹果发布会 新品"
    assert art.author == "张三"
    assert art.categories == ("新媒体", "cnBeta")
