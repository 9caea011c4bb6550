"""newsbot: a self-hosted Telegram news-notifier bot.

Core pipeline: post file / feed item -> Article -> Summary -> Digest plan -> Telegram message.
"""
__version__ = "0.1.0"
