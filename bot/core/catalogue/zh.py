"""简体中文消息目录。占位符用 str.format 语法，参数在插入前已做 HTML 转义。"""

COMMANDS = {
    "start": "开始使用并选择订阅分类",
    "help": "查看全部命令",
    "subscribe": "订阅分类：/subscribe 分类名",
    "unsubscribe": "取消订阅：/unsubscribe 分类名",
    "subscriptions": "查看我的订阅",
    "categories": "浏览分类及文章数",
    "latest": "最新文章：/latest [分类] [条数]",
    "search": "搜索文章：/search 关键词",
    "read": "阅读全文：/read 编号",
    "watch": "关键词提醒：/watch 关键词",
    "watches": "查看关键词提醒",
    "unwatch": "删除提醒：/unwatch 序号",
    "digest": "立即发送待推送的摘要",
    "settings": "推送方式、时间、免打扰、长度、语言、时区",
    "stop": "暂停推送（保留订阅）",
    "channels": "我管理的频道：/channels",
    "share": "订阅链接：/share 分类名",
}

MESSAGES = {
    "start": (
        "👋 <b>新闻推送机器人</b>\n"
        "按分类订阅新闻，我会把新文章整理成摘要推送给你；也可以随时 /search 搜索、/latest 查看最新。\n"
        "点下面的按钮选择分类，或发送 /help 查看全部命令。"
    ),
    "start_reactivated": "✅ 推送已恢复。你的订阅和设置都保留着。",
    "help": (
        "<b>命令</b>\n"
        "/subscribe 分类 — 订阅（任意层级，含其下全部）\n"
        "/unsubscribe 分类 — 取消订阅\n"
        "/subscriptions — 我的订阅\n"
        "/categories — 分类树与文章数\n"
        "/latest [分类] [条数] — 最新文章\n"
        "/search 关键词 — 搜索（\"短语\"、-排除、cat:分类、since:7d、sort:new）\n"
        "/read 编号 — 阅读全文\n"
        "/watch 关键词 — 新文章命中时提醒；/watches 列表；/unwatch 序号\n"
        "/digest — 立即发送待推送内容\n"
        "/settings — 推送方式、时间、免打扰、摘要长度、语言、时区\n"
        "/stop — 暂停推送（订阅保留），/start 恢复\n"
        "\n/share 分类 — 生成订阅链接，打开即可订阅\n"
        "/channels — 我管理的频道；/subscribe @频道 分类、/settings @频道 …\n"
        "在任意聊天输入 @{bot} 关键词，即可搜索并分享文章"
    ),
    "help_admin": (
        "\n\n<b>管理员</b>\n"
        "/addfeed 文件夹或网址 [分类] — 添加来源\n"
        "/feeds — 来源列表；/removefeed 编号 [purge]；/pausefeed 编号；/resumefeed 编号\n"
        "/fetchnow [编号] — 立即抓取；/stats — 运行统计；/export — 导出 OPML；/import — 回复 OPML 文件导入"
    ),
    "stopped": "⏸ 已暂停推送。订阅和设置都保留，发送 /start 即可恢复。",
    "already_stopped": "推送已经是暂停状态。发送 /start 恢复。",
    "group_admin_only": "只有本群管理员可以修改本群的订阅和设置。",
    "admin_only": "⛔ 此命令仅限机器人管理员使用。",
    "admin_private_only": "⛔ 管理命令请在与机器人的私聊中使用。",
    "rate_limited": "🐢 操作太频繁了，请稍等几秒再试。",
    "error_generic": "😵 处理命令时出错了，已记录。请稍后再试。",
    "unknown_command": "未知命令。发送 /help 查看全部命令。",
    "no_categories": "还没有任何文章和分类。",
    "categories_header": "<b>分类</b>（文章数）：",
    "categories_hint": "用 /subscribe 分类名 订阅任意层级。",
    "subscribe_pick": "点击分类切换订阅（✅ 表示已订阅）：",
    "subscribed": "✅ 已订阅 <b>{path}</b>。之后的新文章会推送给你；想看已有文章，请用 /latest {name}",
    "already_subscribed": "你已经订阅了 <b>{path}</b>。",
    "unsubscribed": "已取消订阅 <b>{path}</b>。",
    "not_subscribed": "你没有订阅 <b>{path}</b>。",
    "unknown_category": "❓ 没有找到分类「{name}」。",
    "did_you_mean": "你是不是想找：{names}",
    "ambiguous_category": "「{name}」对应多个分类，请写得更具体一些，例如：{names}",
    "subscriptions_none": "你还没有订阅任何分类。发送 /subscribe 选择。",
    "subscriptions_header": "<b>你的订阅</b>：",
    "argument_too_long": "参数太长了（最多 {limit} 个字符）。",
    "page": "第 {page}/{pages} 页",
    "button_prev": "« 上一页",
    "button_next": "下一页 »",
    "button_done": "完成",
    "stale_button": "这个按钮已失效，请重新发送命令。",
    "toggled_on": "已订阅 {path}",
    "toggled_off": "已取消 {path}",
    "settings_header": "<b>设置</b>",
    "settings_body": (
        "推送方式：<b>{mode}</b>\n"
        "摘要时间：{times}\n"
        "免打扰：{quiet}\n"
        "摘要长度：{length} 句\n"
        "语言：{language}\n"
        "时区：{tz}\n\n"
        "文字修改：/settings mode instant|digest，/settings time 08:00,20:00，"
        "/settings quiet 23:00-07:00（off 关闭），/settings length 1..5，/settings lang zh|en，"
        "/settings tz Asia/Shanghai"
    ),
    "mode_instant": "即时",
    "mode_digest": "定时摘要",
    "quiet_off": "关闭",
    "lang_zh": "中文",
    "lang_en": "English",
    "lang_zh-Hant": "繁體中文", "lang_zh-TW": "繁體中文（台灣）", "lang_zh-HK": "繁體中文（香港）",
    "settings_saved": "✅ 已保存：{what}",
    "settings_bad_key": "不认识的设置「{key}」。可用：mode、time、quiet、length、lang、tz。",
    "settings_bad_mode": "推送方式只能是 instant 或 digest。",
    "settings_bad_time": "时间格式不对：请写 HH:MM，多个用逗号分隔，最多 6 个，例如 08:00,20:00。",
    "settings_bad_quiet": "免打扰格式不对：请写 23:00-07:00，或 off 关闭。",
    "settings_bad_length": "摘要长度是 1 到 5 之间的整数。",
    "settings_bad_lang": "语言只能是 zh 或 en。",
    "settings_bad_script": "中文字体可选 auto（跟随 Telegram 语言）、hans（简体）、hant（繁体）、tw（台湾）、hk（香港）。",
    "settings_bad_tz": "不认识的时区「{tz}」。请用 IANA 名称，例如 Asia/Shanghai、Europe/Berlin。",
    "settings_missing_value": "请在 {key} 后面写上要设置的值。",
    "button_mode": "切换推送方式",
    "button_lang": "切换语言",
    "button_shorter": "摘要 −1 句",
    "button_longer": "摘要 +1 句",
    "button_quiet_off": "关闭免打扰",
    # --- articles, latest, read, search, watches
    "latest_none": "没有找到文章。",
    "latest_header": "<b>最新文章</b>{where}：",
    "latest_bad_count": "条数应是 1 到 {max} 之间的整数。",
    "read_usage": "用法：/read 文章编号，例如 /read 42",
    "read_not_found": "没有编号为 {id} 的文章。",
    "read_no_text": "（这篇文章没有文字内容。）",
    "read_part": "（{part}/{parts}）",
    "read_original": "<i>已转为简体；原文：</i>{command}",
    "search_usage": "用法：/search 关键词。支持 \"短语\"、-排除词、cat:分类、since:7d、sort:new。",
    "search_none": "没有找到与「{query}」相关的文章。",
    "search_header": "🔎 「{query}」共 {total} 条结果",
    "search_error": "搜索条件有误：{reason}",
    "search_expired": "这个搜索已失效，请重新发送 /search。",
    "query_empty": "请输入要搜索的词。",
    "query_too_long": "搜索条件太长了（最多 {limit} 个字符）。",
    "query_too_many_terms": "搜索词太多了（最多 {limit} 个）。",
    "query_no_terms": "搜索条件里没有可以搜索的文字。",
    "query_bad_since": "since: 的写法不对，例如 since:7d、since:12h、since:2w。",
    "query_bad_sort": "sort: 只能是 new（按时间）或 rank（按相关度）。",
    "query_bad_category": "cat: 后面需要分类名，例如 cat:金融。",
    "query_bad_filter": "since: 和 sort: 不能取反。",
    "query_since_in_watch": "提醒只针对新文章，不需要 since:。",
    "watch_usage": "用法：/watch 关键词（语法同 /search）。新文章命中时会推送给你。",
    "watch_added": "🔔 已添加提醒 #{n}：{query}",
    "watch_full": "每个聊天最多 {max} 个提醒。请先用 /unwatch 删除一些。",
    "watch_duplicate": "这个提醒已经存在。",
    "watches_none": "还没有关键词提醒。用 /watch 关键词 添加。",
    "watches_header": "<b>关键词提醒</b>：",
    "unwatch_usage": "用法：/unwatch 序号（见 /watches）。",
    "unwatched": "已删除提醒：{query}",
    "unwatch_missing": "没有第 {n} 个提醒。",
    "digest_none": "目前没有待推送的内容。",
    "digest_sent": "已发送待推送内容。",
    # --- delivery
    "digest_title": "📰 <b>新闻摘要</b> · {count} 条",
    "more_in_category": "…另有 {count} 条，见 /latest {name}",
    "read_more": "全文",
    "watch_reason": "🔔 提醒「{query}」",
    # --- admin
    "feeds_none": "还没有任何来源。用 /addfeed 添加。",
    "feeds_header": "<b>来源</b>：",
    "feed_added": "✅ 已添加来源 #{id}：{name}\n{detail}",
    "feed_add_usage": "用法：/addfeed 文件夹或 http(s) 网址 [分类/路径]",
    "feed_error": "❌ {reason}",
    "feed_removed": "已删除来源 #{id}{purged}。",
    "feed_paused": "已暂停来源 #{id}。",
    "feed_resumed": "已恢复来源 #{id}。",
    "feed_not_found": "没有编号为 {id} 的来源。",
    "feed_id_usage": "用法：/{command} 来源编号（见 /feeds）。",
    "fetch_result": "抓取完成：{lines}",
    "feed_failing_notice": "⚠️ 来源 #{id} {name} 已连续失败 {failures} 次：{error}",
    "feed_recovered_notice": "✅ 来源 #{id} {name} 已恢复。",
    "feed_err_not_found": "找不到这个文件夹：{detail}",
    "feed_err_not_a_folder": "这是一个文件，不是文件夹：{detail}",
    "feed_err_unreadable": "无法读取这个文件夹：{detail}",
    "feed_err_bad_scheme": "只支持 http:// 或 https:// 网址（不支持 file: 等）。",
    "feed_err_bad_url": "网址无效：{detail}",
    "feed_err_network": "连接失败：{detail}",
    "feed_err_timeout": "请求超时：{detail}",
    "feed_err_too_large": "内容太大：{detail}",
    "feed_err_too_many_redirects": "重定向次数过多。",
    "feed_err_http_status": "服务器返回错误：{detail}",
    "feed_err_not_a_feed": "这不是 RSS 或 Atom 订阅源：{detail}",
    "feed_err_no_such_feed": "没有这个来源：{detail}",
    "feed_err_internal": "内部错误，详见日志。",
    "feed_err_blocked_address": "已拒绝：{detail}。来源只能访问公网地址（运营者可用 NEWSBOT_ALLOW_PRIVATE_NETWORKS 放行某个网段）。",
    "feed_err_credentials": "已拒绝：来源网址中不能包含用户名或密码。",
    "feed_err_folder_not_allowed": "已拒绝：在聊天中只能添加 NEWSBOT_FEED_ROOTS 之下的文件夹（或使用 newsbot feeds add 命令）：{detail}",
    "feed_found": "找到 {items} 篇，最新：{newest}",
    "feed_exists": "这个来源已经存在（#{id}）。",
    "feed_line": "#{id} [{status}] {name} — {kind}\n   {location}\n   文章 {articles} · 连续失败 {failures}{error}",
    "fetch_line": "#{id} {name}：新 {new}，重复 {duplicate}，同一新闻 {same}，拒绝 {rejected}{error}",
    "fetch_capped": " · 已限流：{skipped} 条较旧条目未读取，{deferred} 条新条目留待之后",
    "feed_capped": "\n   ⏸ 最近一天曾限流：{skipped} 条较旧条目未读取，{deferred} 条新条目留待之后"
                   "（上限：每次抓取 {per_fetch} 条，每天新增 {per_day} 条）",
    "stats_lines": (
        "文章 {articles}（新闻 {stories}）\n聊天 活跃 {active} / 停用 {inactive}\n订阅 {subscriptions} · 提醒 {watches}\n"
        "待推送 {pending} · 失败 {failed}\n来源 {feeds}（失败 {failing}，暂停 {paused}）\n"
        "上次抓取 {poll}\n上次分发 {dispatch}\n数据库 {size}"
    ),
    "never": "从未",
    "opml_invalid": "OPML 文件无效：{reason}",
    "stats_body": "<b>统计</b>\n{lines}",
    "stats_ops_lines": (
    "当前待发 {due} · 最久等待 {oldest} 秒\n已发送 {sent} · 失败 {sent_failed} · 重试 {retried}（自启动）\n"
    "429 次数 {limited} · 暂停 {held} 秒\n已清理故事记录 {tombstones}"
    ),
    "import_usage": "请把 OPML 文件作为回复附件发送，并在说明里写 /import。",
    "import_result": "导入完成：新增 {added}，跳过 {skipped}，无效 {invalid}。",
    # 频道、深度链接、内联搜索
    "channel_read": "全文",
    "inline_none": "没有找到",
    "inline_none_text": "没有文章匹配“{query}”。",
    "inline_bad_query": "搜索无效",
    "channel_activated": "📢 我现在可以在频道 <b>{title}</b> 发帖了。在这里管理它，例如 /subscribe {handle} 分类；/channels 列出你的频道。",
    "channel_deactivated": "⏸ 我已无法在频道 <b>{title}</b> 发帖（{why}），待发的内容已丢弃。把我设为可以发消息的管理员即可恢复。",
    "channel_why_left": "我被移出了频道",
    "channel_why_no_post": "我没有发消息的权限",
    "channels_none": "你没有我能发帖的频道。请把我加入你的频道，设为可以发消息的管理员。",
    "channels_header": "<b>你的频道</b>：",
    "channel_line": "• <b>{title}</b> {handle} — {subs} 个订阅，{mode}",
    "channel_heading": "📢 <b>{title}</b>",
    "channel_unknown": "我不认识频道 {name}。请先把我加入该频道，设为可以发消息的管理员。",
    "channel_not_admin": "⛔ 只有频道 <b>{title}</b> 中可以发消息的管理员才能管理它。",
    "channel_inactive": "我现在无法在 <b>{title}</b> 发帖。请把我设为可以发消息的管理员后再试。",
    "channel_private_only": "请在与我的私聊中管理频道。",
    "channel_subscribe_usage": "用法：/subscribe {handle} 分类名",
    "quiet_posts_silent": "静音发布",
    "quiet_posts_hold": "暂缓到免打扰结束",
    "settings_channel_extra": "\n免打扰时段内的帖子：{how}（/settings {handle} quiet_posts silent|hold）。",
    "settings_bad_quiet_posts": "quiet_posts 可选 silent（静音发布）或 hold（暂缓到免打扰结束）。",
    "share_usage": "用法：/share 分类名 — 生成一个链接，打开即可订阅。",
    "share_link": "🔗 打开这个链接即可订阅 <b>{path}</b>：\n{link}",
    "button_share": "🔗 分享 {name}",
    "deeplink_confirm": "订阅 <b>{path}</b>？有新文章时会推送给你。",
    "button_confirm_subscribe": "✅ 订阅",
    "deeplink_stale": "链接里的分类已不存在。请看 /categories。",
}
