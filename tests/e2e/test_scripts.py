"""Chinese without borders (#17) through the sandbox: a Traditional and a Simplified reader of one category."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.script import fold_script
from bot.feeds.ingest import ingest_paths
from tests.support.harness import BotHarness
from tests.support.posts import write_post

TRADITIONAL = Path(__file__).resolve().parents[1] / "fixtures" / "traditional"
CATEGORY = ("财经", "示例财经", "要闻")


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path) as harness:
        yield harness


def ids(text: str) -> list[str]:
    return re.findall(r"/read_(\d+)", text)


async def readers(h, tmp_path):
    """Two readers subscribed to one category, each typing its name in their own script."""
    write_post(tmp_path / "s", "海关：进出口保持稳定", CATEGORY,
               ("海关总署今天发布数据，经济运行总体平稳，进出口保持稳定。", "分析人士认为后面几个月仍将平稳。"))
    await ingest_paths(h.db, [tmp_path / "s"])
    trad = h.sb.add_user("陳", language_code="zh-tw")
    simp = h.sb.add_user("王", language_code="zh-hans")
    tchat, schat = h.sb.private_chat(trad), h.sb.private_chat(simp)
    (msg,) = await h.say(tchat, trad, "/subscribe 財經")
    assert "已訂閱" in msg["text"] and "財經" in msg["text"]  # the reply and the category label in Traditional
    (msg,) = await h.say(schat, simp, "/subscribe 财经")
    assert "已订阅" in msg["text"] and "财经" in msg["text"]
    return trad, simp, tchat, schat


async def test_both_readers_get_the_same_digest_each_in_their_script(h, tmp_path):
    trad, simp, tchat, schat = await readers(h, tmp_path)
    write_post(tmp_path / "s2", "央行公布货币政策报告", CATEGORY, ("央行今天公布报告，经济保持恢复。", "后续政策将更加稳健。"))
    await ingest_paths(h.db, [TRADITIONAL, tmp_path / "s2"])
    await h.runtime.delivery.dispatch()
    await h.runtime.delivery.drain()
    ttext = "\n".join(m["text"] for m in h.sb.messages(tchat) if "/read_" in m["text"])
    stext = "\n".join(m["text"] for m in h.sb.messages(schat) if "/read_" in m["text"])
    assert sorted(ids(ttext)) == sorted(ids(stext)) and len(ids(ttext)) == 3  # two Traditional posts, one Simplified
    assert "央行公布第三季經濟數據" in ttext and "央行公佈貨幣政策報告" in ttext  # Taiwan: 公佈     # Simplified source, Traditional reader
    assert "央行公布第三季经济数据" in stext and "央行公布货币政策报告" in stext     # Traditional source, Simplified reader
    assert "经济" not in ttext and "經濟" not in stext
    assert fold_script(ttext) == fold_script(stext)  # the same digest, word for word, in two scripts


async def test_each_finds_the_other_scripts_articles_with_their_own_spelling(h, tmp_path):
    trad, simp, tchat, schat = await readers(h, tmp_path)
    await ingest_paths(h.db, [TRADITIONAL])
    (tmsg,) = await h.say(tchat, trad, "/search 經濟")
    (smsg,) = await h.say(schat, simp, "/search 经济")
    assert len(ids(tmsg["text"])) == len(ids(smsg["text"])) == 2  # 经济运行 (Simplified) and 經濟數據 (Traditional)
    assert sorted(ids(tmsg["text"])) == sorted(ids(smsg["text"]))
    assert "<b>經濟</b>" in tmsg["source"] or "經濟" in tmsg["text"]
    (smsg,) = await h.say(schat, simp, "/search 头发干燥")  # phrase-level: 頭髮乾燥 in the source
    [hit] = ids(smsg["text"])
    assert "头发干燥" in smsg["text"]
    (tmsg,) = await h.say(tchat, trad, "/search 後面")
    assert len(ids(tmsg["text"])) == 1  # 后面 in the Simplified post
    (tmsg,) = await h.say(tchat, trad, "/latest 財經")
    assert "港口貨運量連續三個月增長" in tmsg["text"] and "海關：進出口保持穩定" in tmsg["text"]
    (smsg,) = await h.say(schat, simp, "/latest 財經 2")  # either spelling of the name
    assert len(ids(smsg["text"])) == 2 and "港口货运量连续三个月增长" in smsg["text"]
    # /read in the reader's script, with the original one tap away
    msgs = await h.say(schat, simp, f"/read_{hit}")
    assert "头发容易分岔" in msgs[0]["text"] and f"/read_{hit}_orig" in msgs[0]["text"]
    msgs = await h.say(schat, simp, f"/read_{hit}_orig")
    assert "頭髮容易分岔" in msgs[0]["text"]


async def test_script_setting_and_watches(h, tmp_path):
    trad, simp, tchat, schat = await readers(h, tmp_path)
    (msg,) = await h.say(schat, simp, "/settings script hk")
    assert "script hk" in msg["text"]
    (msg,) = await h.say(schat, simp, "/settings")
    assert "設置" in msg["text"]  # Hong Kong wording from now on
    (msg,) = await h.say(schat, simp, "/settings script 简体")
    assert "保存" in msg["text"]
    (msg,) = await h.say(tchat, trad, "/watch 貨运量")  # mixed scripts in one word
    assert "提醒" in msg["text"]
    await ingest_paths(h.db, [TRADITIONAL])
    await h.runtime.delivery.dispatch()
    await h.runtime.delivery.drain()
    assert any("港口貨運量連續三個月增長" in m["text"] for m in h.sb.messages(tchat))


async def test_the_category_buttons_are_in_the_readers_script(h, tmp_path):
    await readers(h, tmp_path)
    trad = h.sb.add_user("林", language_code="zh-hk")
    (msg,) = await h.say(h.sb.private_chat(trad), trad, "/subscribe")  # no name: the keyboard of categories
    labels = [b["text"] for row in msg["reply_markup"]["inline_keyboard"] for b in row]
    assert any("財經" in label for label in labels) and not any("财经" in label for label in labels), labels
