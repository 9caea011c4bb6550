"""Write Hexo-style posts for tests (our own text, not the shared corpus)."""
from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

_n = 0


def write_post(folder: Path, title: str, categories: tuple[str, ...] = ("新闻", "测试源", "要闻"),
               paragraphs: tuple[str, ...] | None = None, date: datetime | None = None,
               image: str | None = None, name: str | None = None) -> Path:
    global _n
    _n += 1
    paragraphs = paragraphs or (f"{title}的第一段正文，记者今天报道了相关情况。", "第二段补充了更多细节和背景信息。")
    date = date or datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    lines = ["", "---", "title: '" + title.replace("'", "''") + "'", "categories: "]
    lines += [f" - {c}" for c in categories]
    if image:
        lines.append(f"headimg: '{image}'")
    lines += ["author: 测试源", "comments: false", f"date: {date.strftime('%a, %d %b %Y %H:%M:%S GMT')}", "---", ""]
    body = "<div>\n" + "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if image:
        body += f'\n<p><img src="{image}"></p>'
    body += "\n</div>\n"
    path = folder.joinpath(*categories) / (name or f"post-{_n}.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + body, encoding="utf-8")
    return path
