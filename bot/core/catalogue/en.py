"""English message catalogue. Placeholders use str.format; arguments are HTML-escaped before insertion."""

COMMANDS = {
    "start": "Start and pick categories",
    "help": "List all commands",
    "subscribe": "Subscribe: /subscribe category",
    "unsubscribe": "Unsubscribe: /unsubscribe category",
    "subscriptions": "Your subscriptions",
    "categories": "Category tree with article counts",
    "latest": "Newest articles: /latest [category] [n]",
    "search": "Search articles: /search words",
    "read": "Full text: /read id",
    "watch": "Keyword alert: /watch words",
    "watches": "Your keyword alerts",
    "unwatch": "Remove an alert: /unwatch n",
    "digest": "Send what is pending now",
    "settings": "Mode, times, quiet hours, length, language, time zone",
    "stop": "Pause pushes (subscriptions kept)",
    "channels": "Channels you manage: /channels",
    "share": "Link that subscribes: /share category",
}

MESSAGES = {
    "start": (
        "👋 <b>News bot</b>\n"
        "Subscribe to categories and I will push new articles to you as short digests; "
        "/search and /latest work any time.\n"
        "Pick categories with the buttons below, or send /help for every command."
    ),
    "start_reactivated": "✅ Pushes resumed. Your subscriptions and settings were kept.",
    "help": (
        "<b>Commands</b>\n"
        "/subscribe category — subscribe (any level, includes everything below)\n"
        "/unsubscribe category — unsubscribe\n"
        "/subscriptions — your subscriptions\n"
        "/categories — category tree with counts\n"
        "/latest [category] [n] — newest articles\n"
        "/search words — search (\"phrase\", -exclude, cat:category, since:7d, sort:new)\n"
        "/read id — full text of an article\n"
        "/watch words — alert on new matches; /watches lists them; /unwatch n\n"
        "/digest — send what is pending now\n"
        "/settings — mode, times, quiet hours, summary length, language, time zone\n"
        "/stop — pause pushes (subscriptions kept), /start resumes\n"
        "\n/share category — a link that subscribes whoever opens it\n"
        "/channels — channels you manage; /subscribe @channel category, /settings @channel …\n"
        "In any chat: type @{bot} words to search and share an article"
    ),
    "help_admin": (
        "\n\n<b>Admin</b>\n"
        "/addfeed folder-or-url [category/path] — add a feed\n"
        "/feeds — list feeds; /removefeed id [purge]; /pausefeed id; /resumefeed id\n"
        "/fetchnow [id] — poll now; /stats — figures; /export — OPML; /import — reply with an OPML file"
    ),
    "stopped": "⏸ Pushes paused. Subscriptions and settings are kept; send /start to resume.",
    "already_stopped": "Pushes are already paused. Send /start to resume.",
    "group_admin_only": "Only this group's admins can change its subscriptions and settings.",
    "admin_only": "⛔ This command is for the bot's admins only.",
    "admin_private_only": "⛔ Use admin commands in a private chat with the bot.",
    "rate_limited": "🐢 Too many commands at once; please wait a few seconds.",
    "error_generic": "😵 Something went wrong handling that command; it has been logged. Please try again later.",
    "unknown_command": "Unknown command. Send /help for the list.",
    "no_categories": "There are no articles or categories yet.",
    "categories_header": "<b>Categories</b> (articles):",
    "categories_hint": "Use /subscribe name to subscribe at any level.",
    "subscribe_pick": "Tap a category to toggle it (✅ = subscribed):",
    "subscribed": "✅ Subscribed to <b>{path}</b>. New articles will be pushed to you; for earlier ones use /latest {name}",
    "already_subscribed": "You are already subscribed to <b>{path}</b>.",
    "unsubscribed": "Unsubscribed from <b>{path}</b>.",
    "not_subscribed": "You are not subscribed to <b>{path}</b>.",
    "unknown_category": "❓ No category called “{name}”.",
    "did_you_mean": "Did you mean: {names}",
    "ambiguous_category": "“{name}” matches several categories; please be more specific, e.g. {names}",
    "subscriptions_none": "You have no subscriptions yet. Send /subscribe to pick some.",
    "subscriptions_header": "<b>Your subscriptions</b>:",
    "argument_too_long": "That argument is too long (at most {limit} characters).",
    "page": "page {page}/{pages}",
    "button_prev": "« Previous",
    "button_next": "Next »",
    "button_done": "Done",
    "stale_button": "This button has expired; please send the command again.",
    "toggled_on": "Subscribed to {path}",
    "toggled_off": "Unsubscribed from {path}",
    "settings_header": "<b>Settings</b>",
    "settings_body": (
        "Mode: <b>{mode}</b>\n"
        "Digest times: {times}\n"
        "Quiet hours: {quiet}\n"
        "Summary length: {length} sentences\n"
        "Language: {language}\n"
        "Time zone: {tz}\n\n"
        "By text: /settings mode instant|digest, /settings time 08:00,20:00, "
        "/settings quiet 23:00-07:00 (or off), /settings length 1..5, /settings lang zh|en, "
        "/settings tz Europe/Berlin"
    ),
    "mode_instant": "instant",
    "mode_digest": "scheduled digest",
    "quiet_off": "off",
    "lang_zh": "中文",
    "lang_en": "English",
    "lang_zh-Hant": "繁體中文", "lang_zh-TW": "繁體中文（台灣）", "lang_zh-HK": "繁體中文（香港）",
    "settings_saved": "✅ Saved: {what}",
    "settings_bad_key": "Unknown setting “{key}”. Use mode, time, quiet, length, lang or tz.",
    "settings_bad_mode": "Mode must be instant or digest.",
    "settings_bad_time": "Times must be HH:MM, comma-separated, at most 6, e.g. 08:00,20:00.",
    "settings_bad_quiet": "Quiet hours must look like 23:00-07:00, or off.",
    "settings_bad_length": "Summary length is a whole number from 1 to 5.",
    "settings_bad_lang": "Language must be zh or en.",
    "settings_bad_script": "Chinese script: auto (from your Telegram language), hans (Simplified), hant (Traditional), tw (Taiwan) or hk (Hong Kong).",
    "settings_bad_tz": "Unknown time zone “{tz}”. Use an IANA name such as Asia/Shanghai or Europe/Berlin.",
    "settings_missing_value": "Please give a value after {key}.",
    "button_mode": "Switch mode",
    "button_lang": "Switch language",
    "button_shorter": "Summary −1",
    "button_longer": "Summary +1",
    "button_quiet_off": "Quiet hours off",
    "latest_none": "No articles found.",
    "latest_header": "<b>Latest</b>{where}:",
    "latest_bad_count": "The count must be a whole number from 1 to {max}.",
    "read_usage": "Usage: /read article-id, e.g. /read 42",
    "read_not_found": "No article with id {id}.",
    "read_original": "<i>Chinese shown in your script; as published:</i> {command}",
    "read_no_text": "(This article has no text.)",
    "read_part": "({part}/{parts})",
    "search_usage": "Usage: /search words. Supports \"phrase\", -exclude, cat:category, since:7d, sort:new.",
    "search_none": "Nothing found for “{query}”.",
    "search_header": "🔎 “{query}”: {total} results",
    "search_error": "Invalid search: {reason}",
    "search_expired": "This search has expired; please send /search again.",
    "query_empty": "Please type something to search for.",
    "query_too_long": "That query is too long (at most {limit} characters).",
    "query_too_many_terms": "Too many search terms (at most {limit}).",
    "query_no_terms": "There is nothing searchable in that query.",
    "query_bad_since": "since: should look like since:7d, since:12h or since:2w.",
    "query_bad_sort": "sort: is new (by date) or rank (by relevance).",
    "query_bad_category": "cat: needs a category name, e.g. cat:金融.",
    "query_bad_filter": "since: and sort: cannot be negated.",
    "query_since_in_watch": "Alerts only look at new articles; since: is not needed.",
    "watch_usage": "Usage: /watch words (same syntax as /search). New matching articles are pushed to you.",
    "watch_added": "🔔 Alert #{n} added: {query}",
    "watch_full": "At most {max} alerts per chat. Remove some with /unwatch first.",
    "watch_duplicate": "That alert already exists.",
    "watches_none": "No keyword alerts yet. Add one with /watch words.",
    "watches_header": "<b>Keyword alerts</b>:",
    "unwatch_usage": "Usage: /unwatch n (see /watches).",
    "unwatched": "Alert removed: {query}",
    "unwatch_missing": "There is no alert number {n}.",
    "digest_none": "Nothing is pending right now.",
    "digest_sent": "Sent what was pending.",
    "digest_title": "📰 <b>News digest</b> · {count} items",
    "more_in_category": "…and {count} more, see /latest {name}",
    "read_more": "full text",
    "watch_reason": "🔔 alert “{query}”",
    "feeds_none": "No feeds yet. Add one with /addfeed.",
    "feeds_header": "<b>Feeds</b>:",
    "feed_added": "✅ Feed #{id} added: {name}\n{detail}",
    "feed_add_usage": "Usage: /addfeed folder-or-http(s)-url [category/path]",
    "feed_error": "❌ {reason}",
    "feed_removed": "Feed #{id} removed{purged}.",
    "feed_paused": "Feed #{id} paused.",
    "feed_resumed": "Feed #{id} resumed.",
    "feed_not_found": "No feed with id {id}.",
    "feed_id_usage": "Usage: /{command} feed-id (see /feeds).",
    "fetch_result": "Fetched: {lines}",
    "feed_failing_notice": "⚠️ Feed #{id} {name} failed {failures} times in a row: {error}",
    "feed_recovered_notice": "✅ Feed #{id} {name} has recovered.",
    "feed_err_not_found": "No such folder: {detail}",
    "feed_err_not_a_folder": "That is a file, not a folder: {detail}",
    "feed_err_unreadable": "The folder cannot be read: {detail}",
    "feed_err_bad_scheme": "Only http:// and https:// URLs are accepted (no file: and the like).",
    "feed_err_bad_url": "Invalid URL: {detail}",
    "feed_err_network": "Connection failed: {detail}",
    "feed_err_timeout": "Timed out: {detail}",
    "feed_err_too_large": "Too large: {detail}",
    "feed_err_too_many_redirects": "Too many redirects.",
    "feed_err_http_status": "The server answered with an error: {detail}",
    "feed_err_not_a_feed": "That is not an RSS or Atom feed: {detail}",
    "feed_err_no_such_feed": "No such feed: {detail}",
    "feed_err_internal": "Internal error; see the log.",
    "feed_err_blocked_address": "Refused: {detail}. Feeds may only reach public internet addresses "
                                "(the operator can allow a network with NEWSBOT_ALLOW_PRIVATE_NETWORKS).",
    "feed_err_credentials": "Refused: a feed URL may not contain a user name or password.",
    "feed_err_folder_not_allowed": "Refused: folders can be added from a chat only below NEWSBOT_FEED_ROOTS "
                                   "(or with the newsbot feeds add command): {detail}",
    "feed_found": "found {items} items, newest: {newest}",
    "feed_exists": "That feed already exists (#{id}).",
    "feed_line": "#{id} [{status}] {name} — {kind}\n   {location}\n   {articles} articles · {failures} failures in a row{error}",
    "fetch_line": "#{id} {name}: {new} new, {duplicate} duplicate, {same} same story, {rejected} rejected{error}",
    "fetch_capped": " · capped: {skipped} older items not looked at, {deferred} new items left for later",
    "feed_capped": "\n   ⏸ capped in the last day: {skipped} older items not looked at, {deferred} new items left "
                   "for later (limits: {per_fetch} items per fetch, {per_day} new a day)",
    "stats_lines": (
        "articles {articles} ({stories} stories)\nchats {active} active / {inactive} inactive\n"
        "subscriptions {subscriptions} · alerts {watches}\noutbox {pending} pending · {failed} failed\n"
        "feeds {feeds} ({failing} failing, {paused} paused)\nlast poll {poll}\nlast dispatch {dispatch}\ndatabase {size}"
    ),
    "never": "never",
    "opml_invalid": "Invalid OPML file: {reason}",
    "stats_body": "<b>Stats</b>\n{lines}",
    "stats_ops_lines": (
    "due now {due} · oldest waiting {oldest} s\nsent {sent} · failed {sent_failed} · retried {retried} (since start)\n"
    "429s {limited} · held {held} s\npurged stories remembered {tombstones}"
    ),
    "import_usage": "Send the OPML file as a document with /import as its caption (or reply to it with /import).",
    "import_result": "Import done: {added} added, {skipped} skipped, {invalid} invalid.",
    # channels, deep links, inline search
    "channel_read": "More",
    "inline_none": "Nothing found",
    "inline_none_text": "No article matches “{query}”.",
    "inline_bad_query": "Invalid search",
    "channel_activated": "📢 I can post in the channel <b>{title}</b> now. Manage it from here, e.g. /subscribe {handle} category; /channels lists your channels.",
    "channel_deactivated": "⏸ I can no longer post in the channel <b>{title}</b> ({why}); its pending posts were dropped. Make me an administrator allowed to post messages to resume.",
    "channel_why_left": "I was removed",
    "channel_why_no_post": "I may not post messages",
    "channels_none": "You manage no channel where I can post. Add me to your channel as an administrator allowed to post messages.",
    "channels_header": "<b>Your channels</b>:",
    "channel_line": "• <b>{title}</b> {handle} — {subs} subscriptions, {mode}",
    "channel_heading": "📢 <b>{title}</b>",
    "channel_unknown": "I don't know the channel {name}. Add me to it as an administrator allowed to post messages first.",
    "channel_not_admin": "⛔ Only administrators of <b>{title}</b> who may post messages can manage it.",
    "channel_inactive": "I can't post in <b>{title}</b> right now. Make me an administrator allowed to post messages, then try again.",
    "channel_private_only": "Manage a channel from a private chat with me.",
    "channel_subscribe_usage": "Usage: /subscribe {handle} category",
    "quiet_posts_silent": "posted silently",
    "quiet_posts_hold": "held until they end",
    "settings_channel_extra": "\nIn quiet hours posts are {how} (/settings {handle} quiet_posts silent|hold).",
    "settings_bad_quiet_posts": "quiet_posts is silent (posted without a notification sound) or hold (kept until quiet hours end).",
    "share_usage": "Usage: /share category — prints a link that subscribes whoever opens it.",
    "share_link": "🔗 Whoever opens this link can subscribe to <b>{path}</b>:\n{link}",
    "button_share": "🔗 Share {name}",
    "deeplink_confirm": "Subscribe to <b>{path}</b>? New articles will be pushed to you.",
    "button_confirm_subscribe": "✅ Subscribe",
    "deeplink_stale": "That link names a category that no longer exists. See /categories.",
}
