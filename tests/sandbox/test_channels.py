"""Channels in the sandbox: the bot as administrator, channel posts, my_chat_member, members."""
from __future__ import annotations

import pytest
import telegram
from telegram import Bot, ChatMemberAdministrator, Update

from sandbox import FloodLimits, Rate, Sandbox
from tests.sandbox.calls import call, control, updates_of


def test_a_channel_with_the_bot_queues_my_chat_member_from_its_owner(sb):
    ann = sb.add_user("Ann")
    news = sb.channel("News", username="news_ch", owner=ann)
    assert news.type == "channel" and news.id < -1_000_000_000_000
    [change] = updates_of(sb, "my_chat_member")
    assert change["chat"] == {"id": news.id, "type": "channel", "title": "News", "username": "news_ch"}
    assert change["from"]["id"] == ann.id
    assert change["old_chat_member"] == {"status": "left", "user": sb.bot.to_api()}
    new = change["new_chat_member"]
    assert new["status"] == "administrator" and new["user"]["id"] == sb.bot.id
    assert new["can_post_messages"] is True and new["can_edit_messages"] is True
    assert "can_pin_messages" not in new  # a group right, not a channel one


async def test_the_bot_posts_by_id_and_by_username_signed_by_the_channel(sb, http):
    news = sb.channel("News", username="news_ch")
    status, body = await call(http, sb, "sendMessage", chat_id=news.id, text="<b>Hi</b>",
                              parse_mode="HTML")
    assert status == 200
    msg = body["result"]
    assert msg["sender_chat"]["id"] == news.id and "from" not in msg
    assert msg["chat"]["type"] == "channel" and msg["entities"][0]["type"] == "bold"
    status, body = await call(http, sb, "sendMessage", chat_id="@News_Ch", text="again")
    assert status == 200 and body["result"]["chat"]["id"] == news.id
    assert [m["text"] for m in sb.messages(news)] == ["Hi", "again"]
    # its own posts stay editable and deletable
    status, _ = await call(http, sb, "editMessageText", chat_id=news.id,
                           message_id=msg["message_id"], text="Hello")
    assert status == 200
    status, _ = await call(http, sb, "deleteMessage", chat_id=news.id, message_id=msg["message_id"])
    assert status == 200


async def test_photos_go_to_channels_too(sb, http):
    news = sb.channel("News")
    status, body = await call(http, sb, "sendPhoto", chat_id=news.id,
                              photo="https://example.com/a.jpg", caption="lead")
    assert status == 200 and body["result"]["sender_chat"]["id"] == news.id
    assert sb.messages(news)[0]["caption"] == "lead"


@pytest.mark.parametrize("setup, code, description", [
    (lambda sb, ch: sb.promote_bot(ch, can_post_messages=False), 400,
     "Bad Request: need administrator rights in the channel chat"),
    (lambda sb, ch: sb.demote_bot(ch), 400, "Bad Request: need administrator rights in the channel chat"),
    (lambda sb, ch: sb.remove_bot(ch), 403, "Forbidden: bot is not a member of the channel chat"),
    (lambda sb, ch: sb.remove_bot(ch, ban=True), 403, "Forbidden: bot was kicked from the channel chat"),
])
async def test_telegrams_refusals_when_the_bot_may_not_post(sb, http, setup, code, description):
    news = sb.channel("News", username="news_ch")
    setup(sb, news)
    for chat_id in (news.id, "@news_ch"):
        for method, extra in (("sendMessage", {"text": "x"}),
                              ("sendPhoto", {"photo": "https://example.com/a.jpg"})):
            status, body = await call(http, sb, method, chat_id=chat_id, **extra)
            assert (status, body["description"]) == (code, description)
    assert sb.messages(news) == []


async def test_a_channel_the_bot_never_joined_is_unknown_by_id_but_public_by_username(sb, http):
    secret = sb.channel("Secret", bot=None)
    public = sb.channel("Public", username="public_ch", bot=None)
    status, body = await call(http, sb, "sendMessage", chat_id=secret.id, text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    status, body = await call(http, sb, "sendMessage", chat_id="@public_ch", text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot is not a member of the channel chat")
    status, body = await call(http, sb, "getChat", chat_id="@public_ch")
    assert status == 200 and body["result"]["type"] == "channel" and body["result"]["id"] == public.id
    assert "permissions" not in body["result"]
    status, body = await call(http, sb, "getChat", chat_id="@nobody_here")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_bot_without_post_right_still_reads_but_a_channel_admin_can_be_told_apart(sb, http):
    sb.channel("News", can_post_messages=False)
    [change] = updates_of(sb, "my_chat_member")
    assert change["new_chat_member"]["can_post_messages"] is False


def test_my_chat_member_follows_every_change_with_old_and_new(sb):
    ann, bob = sb.add_user("Ann"), sb.add_user("Bob")
    news = sb.channel("News", owner=ann, admins=[bob])
    sb.promote_bot(news, by=bob, can_post_messages=False)
    sb.demote_bot(news)
    sb.promote_bot(news)
    sb.remove_bot(news, by=bob)
    changes = updates_of(sb, "my_chat_member")
    steps = [(c["old_chat_member"]["status"], c["new_chat_member"]["status"],
              c["new_chat_member"].get("can_post_messages"), c["from"]["id"]) for c in changes]
    assert steps == [
        ("left", "administrator", True, ann.id),
        ("administrator", "administrator", False, bob.id),
        ("administrator", "member", None, ann.id),
        ("member", "administrator", True, ann.id),
        ("administrator", "left", None, bob.id),
    ]
    assert changes[1]["old_chat_member"]["can_post_messages"] is True


def test_only_an_admin_changes_the_bots_status(sb):
    ann, eve = sb.add_user("Ann"), sb.add_user("Eve")
    news = sb.channel("News", owner=ann, members=[eve])
    with pytest.raises(ValueError, match="not an admin"):
        sb.remove_bot(news, by=eve)
    sb.remove_bot(news)
    with pytest.raises(ValueError, match="only as an administrator"):
        sb.add_bot(news, admin=False)


def test_groups_send_my_chat_member_too(sb):
    ann = sb.add_user("Ann")
    group = sb.supergroup("Team", owner=ann)
    sb.promote_bot(group)
    sb.remove_bot(group, ban=True)
    steps = [(c["old_chat_member"]["status"], c["new_chat_member"]["status"])
             for c in updates_of(sb, "my_chat_member")]
    assert steps == [("member", "administrator"), ("administrator", "kicked")]
    assert updates_of(sb, "my_chat_member")[1]["new_chat_member"]["until_date"] == 0


@pytest.mark.parametrize("kind, status, description", [
    ("group", "left", "Forbidden: bot is not a member of the group chat"),
    ("group", "kicked", "Forbidden: bot was kicked from the group chat"),
    ("supergroup", "kicked", "Forbidden: bot was kicked from the supergroup chat"),
])
async def test_a_group_that_removed_the_bot_refuses_its_messages(sb, http, kind, status, description):
    ann = sb.add_user("Ann")
    chat = getattr(sb, kind)("Team", owner=ann)
    sb.set_bot_status(chat, status)
    got, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
    assert (got, body["description"]) == (403, description)


def test_channel_posts_reach_the_bot_only_while_it_is_in_the_channel(sb):
    ann = sb.add_user("Ann")
    news = sb.channel("News", owner=ann)
    post = sb.channel_post(news, "/digest now", author=ann, signature="Ann")
    assert post["sender_chat"]["id"] == news.id and "from" not in post
    assert post["author_signature"] == "Ann"
    assert updates_of(sb, "channel_post") == [post]
    sb.remove_bot(news)
    sb.channel_post(news, "unseen")
    assert len(updates_of(sb, "channel_post")) == 1
    with pytest.raises(ValueError, match="channel_post"):
        sb.send_text(news, ann, "hello")


def test_a_subscriber_cannot_post(sb):
    eve = sb.add_user("Eve")
    news = sb.channel("News", members=[eve])
    with pytest.raises(ValueError, match="may not post"):
        sb.channel_post(news, "spam", author=eve)


async def test_get_chat_member_in_a_channel(sb, http):
    ann, bob, cy, dan = (sb.add_user(n) for n in ("Ann", "Bob", "Cy", "Dan"))
    news = sb.channel("News", owner=ann, admins=[bob], members=[cy])
    sb.set_admin(news, dan, rights={"can_post_messages": False})
    statuses = {}
    for user in (ann, bob, cy, dan, sb.add_user("Stranger")):
        status, body = await call(http, sb, "getChatMember", chat_id=news.id, user_id=user.id)
        assert status == 200
        statuses[user.first_name] = body["result"]
    assert statuses["Ann"] == {"status": "creator", "user": ann.to_api(), "is_anonymous": False}
    assert statuses["Bob"]["status"] == "administrator" and statuses["Bob"]["can_post_messages"] is True
    assert statuses["Dan"]["status"] == "administrator" and statuses["Dan"]["can_post_messages"] is False
    assert statuses["Cy"] == {"status": "member", "user": cy.to_api()}
    assert statuses["Stranger"]["status"] == "left"
    status, body = await call(http, sb, "getChatMember", chat_id=news.id, user_id=987654321)
    assert (status, body["description"]) == (400, "Bad Request: user not found")


async def test_get_chat_administrators_lists_owner_admins_and_bot_on_request(sb, http):
    ann, bob, cy = sb.add_user("Ann"), sb.add_user("Bob"), sb.add_user("Cy")
    news = sb.channel("News", owner=ann, admins=[bob], members=[cy])
    status, body = await call(http, sb, "getChatAdministrators", chat_id=news.id)
    assert status == 200
    assert sorted(m["user"]["id"] for m in body["result"]) == sorted([ann.id, bob.id])
    status, body = await call(http, sb, "getChatAdministrators", chat_id=news.id, return_bots=True)
    assert sb.bot.id in [m["user"]["id"] for m in body["result"]]


@pytest.mark.parametrize("change, code, description", [
    ("demote", 400, "Bad Request: member list is inaccessible"),
    ("remove", 403, "Forbidden: bot is not a member of the channel chat"),
])
async def test_only_an_admin_bot_sees_a_channels_members(sb, http, change, code, description):
    ann = sb.add_user("Ann")
    news = sb.channel("News", owner=ann, username="news_ch")
    sb.demote_bot(news) if change == "demote" else sb.remove_bot(news)
    for method, params in (("getChatMember", {"user_id": ann.id}), ("getChatAdministrators", {})):
        status, body = await call(http, sb, method, chat_id="@news_ch", **params)
        assert (status, body["description"]) == (code, description)
    # the bot may always ask about itself
    status, body = await call(http, sb, "getChatMember", chat_id="@news_ch", user_id=sb.bot.id)
    assert status == 200 and body["result"]["status"] == ("member" if change == "demote" else "left")


async def test_channels_have_a_per_chat_flood_limit_like_groups():
    async with Sandbox.running(port=0, limits=FloodLimits(group=Rate(2, 60.0))) as sb:
        news = sb.channel("News")
        bot = Bot(sb.token, base_url=sb.api_url)
        async with bot:
            await bot.send_message(news.id, "1")
            await bot.send_message(news.id, "2")
            with pytest.raises(telegram.error.RetryAfter):
                await bot.send_message(news.id, "3")
    async with Sandbox.running(port=0, limits=FloodLimits(group=Rate(2, 60.0),
                                                          channel=Rate(5, 60.0))) as sb:
        news = sb.channel("News")
        async with Bot(sb.token, base_url=sb.api_url) as bot:
            for n in range(5):
                await bot.send_message(news.id, str(n))


async def test_python_telegram_bot_reads_channels_and_member_updates(sb):
    ann = sb.add_user("Ann")
    news = sb.channel("News", username="news_ch", owner=ann)
    sb.channel_post(news, "hello", author=ann)
    async with Bot(sb.token, base_url=sb.api_url) as bot:
        updates = await bot.get_updates()
        change, post = updates[0].my_chat_member, updates[1].channel_post
        assert change.new_chat_member.status == "administrator"
        assert isinstance(change.new_chat_member, ChatMemberAdministrator)
        assert change.new_chat_member.can_post_messages is True
        assert post.chat.type == "channel" and post.sender_chat.id == news.id and post.text == "hello"
        me = await bot.get_chat_member("@news_ch", bot.id)
        assert isinstance(me, ChatMemberAdministrator) and me.can_post_messages
        owner = await bot.get_chat_member(news.id, ann.id)
        assert owner.status == "creator"
        chat = await bot.get_chat("@news_ch")
        assert chat.type == "channel" and chat.id == news.id
        sent = await bot.send_message("@news_ch", "<i>posted</i>", parse_mode="HTML")
        assert sent.sender_chat.id == news.id and sent.from_user is None
        sb.promote_bot(news, can_post_messages=False)
        with pytest.raises(telegram.error.BadRequest, match="(?i)need administrator rights"):
            await bot.send_message(news.id, "x")
        sb.remove_bot(news)
        with pytest.raises(telegram.error.Forbidden, match="(?i)not a member of the channel"):
            await bot.send_message(news.id, "x")
        [*_, last] = await bot.get_updates(offset=updates[-1].update_id + 1)
        assert isinstance(last, Update) and last.my_chat_member.new_chat_member.status == "left"


async def test_channels_over_the_control_api(sb, http):
    status, body = await control(http, sb, "add_user", first_name="Ann")
    ann = body["result"]["id"]
    status, body = await control(http, sb, "channel", title="News", username="news_ch", owner=ann)
    assert status == 200
    news = body["result"]["id"]
    status, body = await control(http, sb, "promote_bot", chat=news, can_post_messages=False)
    assert status == 200 and body["result"]["new_chat_member"]["can_post_messages"] is False
    status, body = await control(http, sb, "demote_bot", chat=news, by=ann)
    assert body["result"]["new_chat_member"]["status"] == "member"
    status, body = await control(http, sb, "remove_bot", chat=news)
    assert body["result"]["new_chat_member"]["status"] == "left"
    status, body = await control(http, sb, "add_bot", chat=news)
    assert body["result"]["old_chat_member"]["status"] == "left"
    status, body = await control(http, sb, "channel_post", chat=news, text="hi")
    assert status == 200 and body["result"]["chat"]["id"] == news
    status, body = await control(http, sb, "chat_member", chat=news, user=ann)
    assert body["result"]["status"] == "creator"
    status, body = await control(http, sb, "set_bot_status", chat=news, status="owner")
    assert status == 400 and "can't become" in body["error"]
