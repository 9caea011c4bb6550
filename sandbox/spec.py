"""Which Bot API methods exist and which parameters they take, from the official 10.1 spec.

The machine-readable spec (`shared/telegram/bot-api-10.1.json`, beside the repository) is used
when present; without it a built-in copy of the methods the sandbox implements keeps the rules.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SPEC_ENV = "NEWSBOT_BOTAPI_SPEC"
SPEC_NAME = "bot-api-10.1.json"

# Copied from bot-api-10.1.json for the implemented methods; "!" marks a required parameter.
_BUILTIN = """
getMe
logOut
close
getUpdates offset:Integer limit:Integer timeout:Integer allowed_updates:Array of String
deleteWebhook drop_pending_updates:Boolean
getWebhookInfo
sendMessage business_connection_id:String !chat_id:Integer|String message_thread_id:Integer direct_messages_topic_id:Integer !text:String parse_mode:String entities:Array of MessageEntity link_preview_options:LinkPreviewOptions disable_notification:Boolean protect_content:Boolean allow_paid_broadcast:Boolean message_effect_id:String suggested_post_parameters:SuggestedPostParameters reply_parameters:ReplyParameters reply_markup:InlineKeyboardMarkup|ReplyKeyboardMarkup|ReplyKeyboardRemove|ForceReply
sendPhoto business_connection_id:String !chat_id:Integer|String message_thread_id:Integer direct_messages_topic_id:Integer !photo:InputFile|String caption:String parse_mode:String caption_entities:Array of MessageEntity show_caption_above_media:Boolean has_spoiler:Boolean disable_notification:Boolean protect_content:Boolean allow_paid_broadcast:Boolean message_effect_id:String suggested_post_parameters:SuggestedPostParameters reply_parameters:ReplyParameters reply_markup:InlineKeyboardMarkup|ReplyKeyboardMarkup|ReplyKeyboardRemove|ForceReply
sendDocument business_connection_id:String !chat_id:Integer|String message_thread_id:Integer direct_messages_topic_id:Integer !document:InputFile|String thumbnail:InputFile|String caption:String parse_mode:String caption_entities:Array of MessageEntity disable_content_type_detection:Boolean disable_notification:Boolean protect_content:Boolean allow_paid_broadcast:Boolean message_effect_id:String suggested_post_parameters:SuggestedPostParameters reply_parameters:ReplyParameters reply_markup:InlineKeyboardMarkup|ReplyKeyboardMarkup|ReplyKeyboardRemove|ForceReply
editMessageText business_connection_id:String chat_id:Integer|String message_id:Integer inline_message_id:String text:String parse_mode:String entities:Array of MessageEntity link_preview_options:LinkPreviewOptions rich_message:InputRichMessage reply_markup:InlineKeyboardMarkup
editMessageReplyMarkup business_connection_id:String chat_id:Integer|String message_id:Integer inline_message_id:String reply_markup:InlineKeyboardMarkup
deleteMessage !chat_id:Integer|String !message_id:Integer
answerCallbackQuery !callback_query_id:String text:String show_alert:Boolean url:String cache_time:Integer
answerInlineQuery !inline_query_id:String !results:Array of InlineQueryResult cache_time:Integer is_personal:Boolean next_offset:String button:InlineQueryResultsButton
setWebhook !url:String certificate:InputFile ip_address:String max_connections:Integer allowed_updates:Array of String drop_pending_updates:Boolean secret_token:String
sendChatAction business_connection_id:String !chat_id:Integer|String message_thread_id:Integer !action:String
getChat !chat_id:Integer|String
getFile !file_id:String
getChatMember !chat_id:Integer|String !user_id:Integer
getChatAdministrators !chat_id:Integer|String return_bots:Boolean
setMyCommands !commands:Array of BotCommand scope:BotCommandScope language_code:String
getMyCommands scope:BotCommandScope language_code:String
deleteMyCommands scope:BotCommandScope language_code:String
setMyDescription description:String language_code:String
getMyDescription language_code:String
setMyShortDescription short_description:String language_code:String
getMyShortDescription language_code:String
"""


@dataclass(frozen=True)
class Param:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    params: dict[str, Param]


@dataclass(frozen=True)
class ApiSpec:
    """Read-only once loaded (load_spec caches and shares it)."""

    version: str
    methods: dict[str, MethodSpec]  # keyed by lower-case name: Telegram ignores case

    def method(self, name: str) -> MethodSpec | None:
        return self.methods.get(name.lower())


def default_spec_path(environ: dict[str, str]) -> Path | None:
    """$NEWSBOT_BOTAPI_SPEC, else shared/telegram/ beside the repository root, if it exists."""
    if environ.get(SPEC_ENV):
        return Path(environ[SPEC_ENV])
    candidate = Path(__file__).resolve().parents[2] / "shared" / "telegram" / SPEC_NAME
    return candidate if candidate.is_file() else None


@lru_cache(maxsize=4)
def load_spec(path: Path | None) -> ApiSpec:
    """The official spec at `path`, merged over the built-in rules; built-in only if None."""
    spec = builtin_spec()
    if path is None:
        return spec
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    methods = dict(spec.methods)
    for name, body in data.get("methods", {}).items():
        params = {f["name"]: Param(f["name"], tuple(f["types"]), bool(f["required"]))
                  for f in body.get("fields", [])}
        methods[name.lower()] = MethodSpec(name, params)
    return ApiSpec(str(data.get("version", spec.version)), methods)


def builtin_spec() -> ApiSpec:
    methods = {}
    for line in _BUILTIN.strip().splitlines():
        name, _, rest = line.partition(" ")
        params = {}
        for token in _split_params(rest):
            required = token.startswith("!")
            pname, _, types = token.lstrip("!").partition(":")
            params[pname] = Param(pname, tuple(types.split("|")), required)
        methods[name.lower()] = MethodSpec(name, params)
    return ApiSpec("Bot API 10.1 (built-in subset)", methods)


def _split_params(rest: str) -> list[str]:
    # "Array of String" holds spaces: a new token starts at a word containing ":"
    tokens: list[str] = []
    for word in rest.split():
        if ":" in word or not tokens:
            tokens.append(word)
        else:
            tokens[-1] += " " + word
    return tokens
