"""`python -m sandbox --port 8081 [--host 127.0.0.1] [--limits]`: run the Bot API sandbox."""
import argparse

from sandbox.server import serve_forever

parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
parser.add_argument("--port", type=int, default=8081)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--limits", action="store_true", help="enforce Telegram-like flood limits")
args = parser.parse_args()
serve_forever(args.port, host=args.host, limits=args.limits)
