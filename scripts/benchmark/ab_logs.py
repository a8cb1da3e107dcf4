"""The batched log writer (web/logs.py: one writer thread that wakes every WRITE_INTERVAL_S) against
the two plain ways: a writer thread woken for each line (logging's QueueHandler and QueueListener,
what web/logs.py did before) and writing on the logging thread (logging's StreamHandler), interleaved.

Each call logs one request line, as the function does per request, into a pipe (FC's stdout is one),
then pauses a moment as a thread between requests does (the pause is neither CPU nor latency here).
CPU is the whole process's, every writer thread included; latency is the logging call's own, what
the request's thread spends; each round ends when every line is out.

    python scripts/benchmark/ab_logs.py            # about 20 seconds
    python scripts/benchmark/ab_logs.py --quick    # seconds, figures meaningless
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.benchmark.ab import interleaved, options, report  # noqa: E402
from web.logs import BatchedStdoutHandler, JsonLogFormatter  # noqa: E402

PAUSE_S = 0.0005
FIELDS = {"method": "POST", "path": "/v1/chat/completions", "status": 200, "model": "qwen-plus", "input_tokens": 12,
          "output_tokens": 30, "duration_ms": 412.5, "upstream_ms": 401.2, "caller": "app", "stream": False}


def logger_with(name: str, handler: logging.Handler) -> logging.Logger:
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger(f"ab.{name}")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler)
    return logger


def lines(logger: logging.Logger, finish):  # noqa: ANN001, ANN201
    def run(count: int) -> float:
        spent = 0.0
        for number in range(count):
            started = time.perf_counter()
            logger.info("request", extra={"request_id": f"{number:032x}", "fields": FIELDS})
            spent += time.perf_counter() - started
            time.sleep(PAUSE_S)
        finish()
        return spent
    return run


def main() -> None:
    args = options(__doc__.splitlines()[0], rounds=20, calls=500)
    sink = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    shown, sys.stdout = sys.stdout, sink.stdin  # what BatchedStdoutHandler writes to, as in FC
    try:
        batched = BatchedStdoutHandler()
        lines_queue: queue.Queue = queue.Queue()
        plain = logging.StreamHandler(sink.stdin)
        plain.setFormatter(logging.Formatter("%(message)s"))
        listener = logging.handlers.QueueListener(lines_queue, plain)
        listener.start()
        synchronous = logging.StreamHandler(sink.stdin)
        samples = interleaved({
            "batched (web/logs.py)": lines(logger_with("batched", batched), batched.flush),
            "a wake per line (QueueListener)": lines(logger_with("queue", logging.handlers.QueueHandler(lines_queue)),
                                                     lines_queue.join),
            "synchronous (StreamHandler)": lines(logger_with("sync", synchronous), synchronous.flush),
        }, args.rounds, args.calls)
        listener.stop()
    finally:
        sys.stdout = shown
        sink.stdin.close()
        sink.wait(timeout=10)
    report("batched log writer", samples, args.rounds, args.calls)


if __name__ == "__main__":
    main()
