"""Per-request fault directives (``[[emulate key=value ...]]``) and the text helpers every answer uses.

A directive rides inside the last message (or the prompt), so that concurrent tests never step on
each other and so that it works through any client. The list of directives is in the docstring of
scripts/dashscope_emulator.py; each is read where it acts (``directives.get("name")``).
"""

from __future__ import annotations

import re
import shlex
import socket
import time
from typing import Any, Iterable, Iterator

from .limits import MESSAGES_BY_CODE

DIRECTIVE = re.compile(r"\[\[emulate\s+(.*?)\]\]", re.DOTALL)
# One piece per CJK character, word or punctuation mark, trailing spaces attached, so that the
# pieces of a reply concatenate back to exactly the reply.
PIECE = re.compile(r"[\u3400-\u9fff]\s*|[A-Za-z0-9_']+\s*|[^\sA-Za-z0-9_'\u3400-\u9fff]\s*|\s+")

DEFAULT_ERROR_MESSAGES = {
    400: "The request is invalid.",
    401: "Invalid API-key provided.",
    429: "Requests rate limit exceeded, please try again later.",
}
INTERNAL_ERROR_MESSAGE = "An internal error has occurred, please try again later."


def pieces(text: str) -> list[str]:
    return PIECE.findall(text)


def count_tokens(text: str) -> int:
    return len([piece for piece in pieces(text) if piece.strip()])


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a content list (DashScope's
    ``{"text": ...}`` parts and OpenAI's ``{"type": "text", "text": ...}`` parts alike)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


# A directive's tokens when it has no backslash nor single quote and its double quotes pair up: what
# shlex.split gives then (words split on whitespace outside quotes, the quotes dropped), without its
# character-by-character reading, 8 ms for a 600-word reply= (200 streams at once: 1.6 s of the
# emulator's CPU before any first event). Anything else goes to shlex.
PLAIN_TOKEN = re.compile(r'(?:[^ \t\r\n"]+|"[^"]*")+')  # shlex's whitespace only (not \s: a CJK space)


def _tokens(body: str) -> list[str]:
    if "\\" in body or "'" in body or body.count('"') % 2:
        return shlex.split(body)
    return [token.replace('"', "") for token in PLAIN_TOKEN.findall(body)]


def parse(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in DIRECTIVE.finditer(text):
        for token in _tokens(match.group(1)):
            key, _, value = token.partition("=")
            found[key] = value
    return found


def strip(text: str) -> str:
    """The text with its directives taken out: what the emulated model "heard"."""
    return DIRECTIVE.sub("", text).strip()


def error_message(status: int, directives: dict[str, str]) -> str:
    """The message= asked for, else DashScope's message for the code= asked for, else for the status."""
    default = MESSAGES_BY_CODE.get(directives.get("code", ""), DEFAULT_ERROR_MESSAGES.get(status, INTERNAL_ERROR_MESSAGE))
    return directives.get("message", default)


class StreamFaults:
    """The directives that end a stream early, after its event N: ``fail_after=N`` (an error event
    follows), ``end_after=N`` (the stream just stops, with no finish_reason) and ``cut_after=N`` (the
    TCP connection is dropped mid-body, as a broken network path would); or inside its event N:
    ``torn=N`` (the event goes out only in part, its first half, then the body ends cleanly) and
    ``cut_inside=N`` (its first half, then the connection is dropped; these two: the native stream).
    Both streams (native and compatible mode) read them here; each writes its own error event."""

    def __init__(self, directives: dict[str, str]) -> None:
        names = ("fail_after", "cut_after", "end_after", "torn", "cut_inside")
        self._after = {name: int(directives[name]) for name in names if name in directives}

    def tears(self, index: int) -> bool:
        """Whether event `index` goes out only in part (`torn`, `cut_inside`): the stream ends inside it."""
        return index in (self._after.get("torn"), self._after.get("cut_inside"))

    def end_torn(self, index: int, connection: socket.socket | None) -> None:
        """After the torn event's first half: drop the connection for `cut_inside` (`torn` just ends)."""
        if index == self._after.get("cut_inside") and connection is not None:
            connection.shutdown(socket.SHUT_RDWR)

    def after(self, index: int, connection: socket.socket | None) -> str | None:
        """What ends the stream after event `index`: "fail", "end", "cut" (the connection is already
        dropped), or None to go on."""
        if index == self._after.get("fail_after"):
            return "fail"
        if index == self._after.get("end_after"):
            return "end"
        if index == self._after.get("cut_after") and connection is not None:
            connection.shutdown(socket.SHUT_RDWR)
            return "cut"
        return None


# The longest the emulator keeps up `comment_every` for a reader that never leaves.
LONGEST_COMMENTS_S = 600.0


def paced(directives: dict[str, str], body: Iterable[bytes]) -> Iterable[bytes]:
    """An answer's bytes as the directives pace them: ``comment_every=S`` (nothing but SSE comment
    lines, one every S seconds, never an event: what a proxy's keep-alive sends; the SDK skips such
    lines) and ``trickle=S`` (the body, a JSON answer or a stream's events, one byte every S seconds),
    each after the body's first ``pace_after=N`` pieces (a stream's events; default 0) went out as they
    are. Both go on until the reader leaves (the write fails)."""
    if "comment_every" not in directives and "trickle" not in directives:
        return body
    return _paced(directives, iter(body), int(directives.get("pace_after", 0)))


def _paced(directives: dict[str, str], body: Iterator[bytes], whole: int) -> Iterator[bytes]:
    for _, piece in zip(range(whole), body):
        yield piece
    if "comment_every" in directives:
        every_s, ends = float(directives["comment_every"]), time.monotonic() + LONGEST_COMMENTS_S
        while time.monotonic() < ends:
            yield b": keep-alive\n\n"
            time.sleep(every_s)
        return
    every_s = float(directives["trickle"])
    for piece in body:
        for byte in piece:
            yield bytes([byte])
            time.sleep(every_s)
