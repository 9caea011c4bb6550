"""The one value for what a user or a bad input can cause: a catalogue key (`reason`) and its parameters.

Raised where a deep call has to stop, returned where a caller checks (`result | FeedError`); either way the
handler or the CLI turns it into a message with `t(lang, prefix + reason, **params)`. Subclasses only say
which room the problem comes from; they add no fields.
"""
from __future__ import annotations

from typing import Any


class UserError(Exception):
    """`reason`: a catalogue key (or key suffix); `params`: what fills the message. `detail` is a free-text
    explanation for logs and reports, kept among the params."""

    def __init__(self, reason: str, detail: str = "", **params: Any) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.params: dict[str, Any] = {"detail": detail, **params} if detail else dict(params)

    @property
    def detail(self) -> str:
        return str(self.params.get("detail", ""))

    @property
    def limit(self) -> int:
        """The bound that was broken, for reasons such as too_long or full (0 when none)."""
        return int(self.params.get("limit", 0))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and isinstance(other, UserError) and \
            (self.reason, self.params) == (other.reason, other.params)

    def __hash__(self) -> int:
        return hash((type(self), self.reason, tuple(sorted(self.params))))

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({self.reason!r}{args})"


class RejectedPost(UserError):
    """A post that cannot be stored; str() is the one line shown in ingest reports."""

    def __str__(self) -> str:
        return self.detail or self.reason


class FeedError(UserError):
    """Something wrong with a feed that a person can fix (catalogue: feed_err_<reason>).

    Returned as a value by the public functions (raised only internally). Reasons:
      not_found       folder missing (or a broken symlink)
      not_a_folder    the path is a file, not a folder
      unreadable      the folder cannot be listed (permissions, I/O error)
      bad_scheme      a URL that is not http:// or https:// (file:, ftp:, javascript:, …)
      bad_url         an http(s) URL without a host, or otherwise unusable
      network         DNS failure, connection refused or reset
      timeout         no complete answer within the time limit
      too_large       the document is larger than the size cap
      too_many_redirects  more than MAX_REDIRECTS redirects
      http_status     the server answered with an error status (detail: "HTTP 500")
      not_a_feed      the answer is not RSS or Atom
      no_such_feed    no feed with that id
      internal        a bug or a database problem; details are in the log
    """


class QueryError(UserError):
    """A search or watch query the user has to change (catalogue: query_<reason>)."""


class OpmlError(UserError):
    """An OPML document refused as a whole."""


class WatchError(UserError):
    """A watch the user cannot add or remove."""


class SettingError(UserError):
    """A /settings change refused; `reason` is the full catalogue key."""


class CliError(UserError):
    """A command-line mistake: printed as one line, exit status 2."""

    def __str__(self) -> str:
        return self.detail or self.reason
