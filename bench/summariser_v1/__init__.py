"""The previous summariser (version 1), frozen as the speed and quality baseline of bench.summarise.

Copied unchanged from commit 8a1602b (bot/core/summarise.py and the bot/core/sentences.py it used),
so every run times today's summariser against it on the same machine at the same moment.
"""
from bench.summariser_v1.summarise import summarise

__all__ = ["summarise"]
