"""The `newsbot` command line as a user runs it (subprocesses, real files)."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import ROOT, SEEDS
from tests.support.posts import write_post

TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def newsbot(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_ingest_reports_counts_and_rejections_then_lists_articles(tmp_path):
    feed = tmp_path / "feed"
    write_post(feed, "命令行导入的第一篇文章")
    (feed / "bad.md").write_bytes(b"\x00\x01binary\x00")
    db = str(tmp_path / "cli.sqlite3")
    r = newsbot("--db", db, "ingest", str(feed), "--workers", "0")
    assert r.returncode == 0, r.stderr
    assert "1 new" in r.stdout and "1 rejected" in r.stdout and "bad.md: binary" in r.stdout
    r = newsbot("--db", db, "ingest", str(feed))
    assert r.returncode == 0 and "0 new" in r.stdout and "1 already known" in r.stdout
    r = newsbot("--db", db, "articles", "--category", "新闻/测试源")
    assert "命令行导入的第一篇文章" in r.stdout
    r = newsbot("--db", db, "search", "导入")
    assert r.returncode == 0 and "1 results for 导入" in r.stdout and "命令行«导入»的第一篇文章" in r.stdout


def test_summarise_a_file_prints_title_sentences_and_scores():
    (seed,) = sorted(SEEDS.glob("*.txt"))
    r = newsbot("summarise", str(seed), "--sentences", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("海关总署")
    assert 1 <= sum(1 for line in lines[2:] if line.strip()) <= 2
    assert "原标题" not in r.stdout


def test_summarise_explains_every_sentence_it_leaves_out(tmp_path):
    post = write_post(tmp_path, "上海地铁十四号线今日开通", paragraphs=(
        "本报记者王小明 上海报道 上海地铁十四号线今天上午正式开通运营，全线共设三十一座车站。",
        "上海地铁十四号线今日开通。",
        "新线开通后，浦东前滩至嘉定封浜的通勤时间缩短约四十分钟，沿线居民出行更加便利。",
        "地铁集团2024年1-9月",
    ))
    r = newsbot("summarise", str(post), "--sentences", "2", "--explain")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    summary = out.split("every candidate sentence")[0]
    assert "上海地铁十四号线今天上午正式开通运营" in summary and "本报记者" not in summary
    assert "[byline cut: 本报记者王小明 上海报道]" in out
    assert "— repeats the headline  上海地铁十四号线今日开通。" in out
    assert "— not a sentence  地铁集团2024年1-9月" in out


def test_summarise_explain_marks_the_sentence_actually_chosen_when_a_page_repeats_one(tmp_path):
    caption = "市民在东湖公园赏樱花，现场游人如织十分热闹。"
    news = "今年东湖樱花节将持续到四月中旬，预计接待游客超过百万人次。"
    post = write_post(tmp_path, "东湖樱花节开幕", paragraphs=(caption + "记者高勇 摄", news, caption))
    r = newsbot("summarise", str(post), "--sentences", "1", "--explain")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[2].split()[0] == "1.000" and lines[2].endswith(news)
    marked = [line for line in lines if line.startswith(" *")]
    assert len(marked) == 1 and marked[0].endswith(news)
    assert any("— photo caption  " + caption in line for line in lines)


def test_summarise_says_when_a_page_has_no_sentence_to_show(tmp_path):
    post = write_post(tmp_path, "活动日程", paragraphs=("開場 2021-08-14 17:00", "地点 上海"))
    r = newsbot("summarise", str(post))
    assert r.returncode == 0, r.stderr
    assert "no real sentence" in r.stdout and "title alone" in r.stdout


def test_user_errors_are_one_line_not_tracebacks(tmp_path):
    r = newsbot("ingest", str(tmp_path / "missing"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such file" in r.stderr
    r = newsbot("run", env={"NEWSBOT_TIMEZONE": "Mars/Olympus"})
    assert r.returncode == 2 and "NEWSBOT_TIMEZONE" in r.stderr and "Traceback" not in r.stderr
    r = newsbot("run", env={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:9",
                            "NEWSBOT_DB": str(tmp_path / "x.sqlite3")})
    assert r.returncode == 2 and "cannot reach the Bot API" in r.stderr
    assert "Traceback" not in r.stderr and TOKEN.split(":")[1] not in r.stderr + r.stdout


def test_demo_runs_offline_and_shows_a_conversation():
    r = newsbot("demo", "--posts", str(ROOT / "bot" / "cli" / "demo_posts"), timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    for expected in ("👤 Ann: /start", "/subscribe", "🤖 bot:", "/search", "/latest"):
        assert expected in r.stdout
    assert "Traceback" not in r.stderr

