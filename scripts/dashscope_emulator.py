"""A local stand-in for DashScope, for tests and for running offline (the code is in scripts/emulator/).

It answers what the official SDK and OpenAI clients call, the way the API reference shows:

- ``POST /api/v1/services/aigc/text-generation/generation`` (``Generation``): JSON, or SSE (``id:`` /
  ``event:result`` / ``:HTTP_STATUS/200`` / ``data:``) when the caller asks for a stream, in the
  ``text`` or ``message`` result format, incremental or cumulative, with usage, tool calls and
  DashScope's error bodies.
- ``POST /api/v1/services/aigc/multimodal-generation/generation`` (``MultiModalConversation``): the
  same, with content lists (``[{"text": ...}]``) and ``{"image"|"video"|"audio": url}`` parts
  (``http(s)://``, ``data:``, or ``oss://`` for a file uploaded here). With ``strict_endpoints``
  (``--strict-endpoints``), a model called on the wrong one of these two gets DashScope's 400
  "url error" (VL, omni, audio, QVQ and Qwen3.5+ live on the multimodal one).
- Thinking models (QwQ, QVQ, DeepSeek-R1, Qwen3.5+ by default, others with ``enable_thinking``)
  send ``reasoning_content`` before the answer, and ``output_tokens_details.reasoning_tokens`` in
  usage; stream-only ones answer a non-streaming call with DashScope's 400 (emulator/models.py).
- ``response_format`` ``json_object`` / ``json_schema``: a JSON answer (one that fits the schema).
- ``n`` (2-4): that many choices, each with its ``index`` (streamed: one packet per choice);
  ``logprobs`` / ``top_logprobs``: a ``logprobs.content`` entry per token, in OpenAI's shape.
- ``enable_search`` with ``search_options`` (``enable_source``, ``enable_citation``, ``citation_format``,
  ``prepend_search_result``): ``output.search_info`` with the sources, citation markers in the reply,
  ``usage.plugins.search`` (emulator/search.py); compatible mode returns neither, as DashScope's doesn't.
- ``POST /api/v1/services/embeddings/text-embedding/text-embedding`` (``TextEmbedding``):
  deterministic unit vectors, ``dimension`` honoured.
- ``POST /compatible-mode/v1/chat/completions``: DashScope's OpenAI-compatible mode (OpenAI's
  shapes, streamed or not, tool calls streamed in fragments, ``reasoning_content`` deltas).
- The context cache (emulator/cache.py, after Model Studio's "Context Cache" page): a prefix marked
  with ``cache_control`` (1,024 tokens or more) is cached for 5 minutes, renewed on a hit; an input of
  256 tokens or more gets an implicit hit on a prefix seen before; usage's ``prompt_tokens_details``
  says what was cached and created, on both APIs. ``Emulator.cache.advance(seconds)`` lets time pass;
  ``Emulator.clear()`` empties it.
- ``GET /api/v1/uploads?action=getPolicy`` and the OSS form POST that follows it (the SDK uploading
  a local file): answered, and recorded in ``Emulator.uploads`` (``GET /_emulator/uploads``).

Connections are kept alive (HTTP/1.1, ``Content-Length`` or chunked framing), as DashScope's are.
Point the official SDK at it with ``DASHSCOPE_HTTP_BASE_URL=http://127.0.0.1:<port>/api/v1``, an
OpenAI client with ``base_url=http://127.0.0.1:<port>/compatible-mode/v1``.

Faults are asked for per request, inside the last message (or the prompt; for embeddings, the
texts), so that concurrent tests never step on each other and so that they work through any client::

    [[emulate delay=1.5]]                   wait before answering
    [[emulate chunk_delay=0.2]]             wait between stream events
    [[emulate status=429 code=Throttling.RateQuota message="Requests rate limit exceeded"]]
    [[emulate status=503 flaky=2]]          the error for the first 2 identical requests, then answers
    [[emulate status=429 retry_after=1]]    the error carries a Retry-After header
    [[emulate limit=rpm]]                   one of DashScope's limit errors, in its wording: rpm, tpm,
                                            burst, free_tier, free_quota, arrearage (emulator/limits.py;
                                            flaky= and retry_after= apply)
    [[emulate fail_after=2]]                two events, then an ``event:error`` (status= and code= apply)
    [[emulate cut_after=2]]                 two events, then the connection is dropped
    [[emulate end_after=2]]                 two events, then the body ends cleanly without a finish_reason
    [[emulate torn=1]]                      event 1 goes out only in part (its first half), then the body ends
    [[emulate cut_inside=1]]                event 1 goes out only in part, then the connection is dropped
    [[emulate comment_every=0.5]]           a stream of nothing but SSE comment lines, one every 0.5 s
    [[emulate trickle=0.5]]                 the answer (JSON, or a stream's events) one byte every 0.5 s
    [[emulate pace_after=1 ...]]            comment_every / trickle begin after the stream's first event
    [[emulate reply="exact reply text"]]    answer with this text
    [[emulate sources=5]]                   a search (enable_search, enable_source) finds 5 sources (3 by default)
    [[emulate tool_fragments]]              a native incremental stream sends its tool call in pieces
                                            (id and name first, then the arguments), as DashScope
                                            does; compatible mode always does

Model names: the models DashScope serves today exist (emulator/models.py, listed in docs/models.md);
retired ones (``qwen-turbo``, ``qwen-vl-max``, …, 2026-10-10) and unknown ones get DashScope's 400
``Model not exist.`` (404 ``model_not_found`` in compatible mode). ``--extra-model GLOB`` adds names.

Every model call is kept in a history (``Emulator.history`` in-process, ``GET /_emulator/requests``
over HTTP; each entry names its ``path``) so tests assert on what actually reached "DashScope". A
stream's entry says how far it got (``events_sent``, ``completed``) and, once it is over (sent in full
or its reader gone), ``ended``: what tests wait on instead of sleeping.

Run it on its own: ``python scripts/dashscope_emulator.py --port 9100 [--delay 0.5]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `scripts.emulator` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.emulator import (  # noqa: E402
    COMPATIBLE_PATH,
    EMBEDDING_PATH,
    GENERATION_PATH,
    INVALID_KEY,
    MULTIMODAL_PATH,
    Emulator,
    count_tokens,
    pieces,
)

__all__ = [
    "COMPATIBLE_PATH", "EMBEDDING_PATH", "GENERATION_PATH", "INVALID_KEY", "MULTIMODAL_PATH", "Emulator",
    "count_tokens", "main", "pieces",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--chunk-delay", type=float, default=0.05, help="seconds between stream events")
    parser.add_argument("--strict-endpoints", action="store_true", help="'url error' for a model on the wrong endpoint")
    parser.add_argument("--extra-model", action="append", default=[], metavar="GLOB",
                        help="a model name (or glob) that exists besides the emulator's list; repeatable")
    options = parser.parse_args()
    emulator = Emulator(delay=options.delay, chunk_delay=options.chunk_delay, strict_endpoints=options.strict_endpoints,
                        extra_models=tuple(options.extra_model))
    emulator.start(options.host, options.port)
    print(f"DashScope emulator on http://{options.host}:{emulator.port}/api/v1", flush=True)
    try:
        emulator.wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
