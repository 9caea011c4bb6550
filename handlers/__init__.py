"""Telegram command handlers, one module per topic. Thin: parse arguments, call core/storage, reply."""
