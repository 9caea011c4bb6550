"""bot/core/digest.py: which items go in which message, within Telegram's limits (pure, no network)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.digest import DigestItem, plan_messages
from bot.core.render import entity_count
from sandbox.entities import parse_html, utf16_len

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
SH = ZoneInfo("Asia/Shanghai")


def item(n: int, title: str = "标题", cats=("新闻", "源", "要闻"), summary=("第一句。", "第二句。"), url=None,
         thread=0, image=None) -> DigestItem:
    return DigestItem(outbox_id=n, article_id=1000 + n, thread_id=thread, title=title, url=url, source="源",
                      published=NOW - timedelta(minutes=n), categories=cats, summary=summary, image_url=image)


def check(messages) -> None:
    for m in messages:
        limit = 1024 if m.photo_url else 4096
        plain, entities = parse_html(m.body)  # strict: raises on a cut tag or entity
        assert utf16_len(plain) <= limit and utf16_len(m.body) <= 4096  # Telegram counts UTF-16 code units
        assert len(entities) <= 100 and entity_count(m.body) <= 100


def test_burst_of_200_is_few_messages_and_never_splits_an_item():
    items = [item(n, title=f"第{n}条新闻标题" * 3) for n in range(200)]
    msgs = plan_messages(items, lang="zh", tz=SH, now=NOW, mode="instant")
    assert 2 <= len(msgs) <= 20
    check(msgs)
    seen = [a for m in msgs for a in m.article_ids]
    assert sorted(seen) == sorted(i.article_id for i in items)
    for m in msgs:  # each item's block is whole inside its message
        for a in m.article_ids:
            assert f"/read_{a}" in m.body


def test_html_heavy_long_titles_respect_4096_and_100_entities():
    items = [item(n, title="<&>" * 300, url=f"https://e.com/{n}", summary=("x" * 300,) * 5) for n in range(60)]
    msgs = plan_messages(items, lang="en", tz=SH, now=NOW, mode="instant", sentences=5)
    check(msgs)
    assert sum(len(m.outbox_ids) for m in msgs) == 60


def test_digest_groups_by_category_newest_first_and_caps_per_category():
    items = [item(n, cats=("A", "a1")) for n in range(15)] + [item(100 + n, cats=("B", "b1")) for n in range(3)]
    (msg,) = plan_messages(items, lang="en", tz=SH, now=NOW, mode="digest", per_category=10)
    assert msg.body.index("A › a1") < msg.body.index("B › b1")
    assert "and 5 more, see /latest a1" in msg.body
    assert set(msg.outbox_ids) == {i.outbox_id for i in items}  # the rest is counted, not lost
    shown = [int(x) for x in __import__("re").findall(r"/read_(\d+)", msg.body)]
    assert shown[:10] == sorted(shown[:10])  # newest first = smaller n = later published
    check([msg])


def test_single_item_with_lead_image_becomes_photo_with_short_caption():
    (msg,) = plan_messages([item(1, image="https://img.example.org/a.jpg", summary=("长" * 900,))], lang="zh",
                           tz=SH, now=NOW, mode="instant")
    assert msg.photo_url == "https://img.example.org/a.jpg"
    check([msg])
    msgs = plan_messages([item(1, image="https://i/a.jpg"), item(2)], lang="zh", tz=SH, now=NOW, mode="instant")
    assert all(m.photo_url is None for m in msgs)


def test_forum_threads_get_separate_messages():
    msgs = plan_messages([item(1, thread=5), item(2, thread=7), item(3, thread=5)], lang="zh", tz=SH, now=NOW,
                         mode="instant")
    assert sorted((m.thread_id, len(m.article_ids)) for m in msgs) == [(5, 2), (7, 1)]


@settings(deadline=None)
@given(st.lists(st.tuples(st.text(max_size=400), st.lists(st.text(max_size=200), max_size=5)), min_size=1, max_size=40))
def test_any_titles_and_summaries_give_valid_messages(data):
    items = [item(n, title=title or "x", summary=tuple(s)) for n, (title, s) in enumerate(data)]
    for mode in ("instant", "digest"):
        msgs = plan_messages(items, lang="zh", tz=SH, now=NOW, mode=mode, sentences=5)
        check(msgs)
        assert sorted(o for m in msgs for o in m.outbox_ids) == sorted(i.outbox_id for i in items)


def test_emoji_heavy_items_fit_in_utf16_units():
    # An emoji is one Python character but two UTF-16 units: counted in characters, these overshoot.
    items = [item(n, title="😀🎉" * 150, summary=("🚀新闻" * 100,) * 3) for n in range(40)]
    for mode in ("instant", "digest"):
        msgs = plan_messages(items, lang="zh", tz=SH, now=NOW, mode=mode, sentences=3)
        check(msgs)
        assert sorted(o for m in msgs for o in m.outbox_ids) == sorted(i.outbox_id for i in items)
    (photo,) = plan_messages([item(1, title="😀" * 290, summary=("🎉" * 400,), image="https://i.example/a.jpg")],
                             lang="zh", tz=SH, now=NOW, mode="instant")
    check([photo])


def test_oversized_url_and_category_path_never_cut_markup():
    huge_url = "https://example.org/?" + "a=1&b=2&" * 2000
    deep = tuple("&<>分类" * 20 for _ in range(6))
    items = [item(1, url=huge_url), item(2, cats=deep, title="&" * 300, summary=("&<>" * 600,) * 5)]
    for mode in ("instant", "digest"):
        msgs = plan_messages(items, lang="en", tz=SH, now=NOW, mode=mode, sentences=5)
        check(msgs)  # valid HTML: a cut inside <a href="…"> or <b> would be refused by Telegram
        assert sorted(o for m in msgs for o in m.outbox_ids) == [1, 2]
