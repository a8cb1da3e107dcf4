"""What every part of the benchmark shares: where things are, the settings of a run, its results."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
KEY = "sk-benchmark-fake-key-0000"
# The bearer token every gateway is run with (s.yaml's functions are deployed with INVOKE_TOKEN set;
# LiteLLM's production config sets a master key), sent with every call to a gateway.
GATEWAY_TOKEN = "sk-benchmark-gateway-token"
UPSTREAM_S = 1.0
PYTHON_BIN = str(Path(sys.executable).parent)
# The first-event streams arrive at a model's pace, one event every 10 ms. Sent all at once (what the
# emulator does by default), the rest of a stream is relayed while the client is still reading the
# first event, and on two cores the two compete: the figure would measure that contention, which a
# real stream, whose next token is tens of milliseconds away, does not have.
PACED_STREAM = '[[emulate reply="Hello there!" chunk_delay=0.01]]'
# A long answer: the emulator sends one event per three words. Every word differs, so no two events
# are alike: LiteLLM ends a stream with a 500 after 100 identical chunks in a row ("The model is
# repeating the same chunk"), which a reply of one word repeated set off, cutting its stream short.
LONG_STREAM_EVENTS = 2000
LONG_STREAM = "[[emulate reply=\"" + " ".join(f"w{n:04d}" for n in range(3 * LONG_STREAM_EVENTS)) + "\"]]"
# The many-streams row (many_streams.py): one event every 100 ms, a model's pace for a long answer.
MANY_STREAMS_EVENT_S = 0.1


@dataclass
class Settings:
    rounds: int = 300
    levels: tuple[int, ...] = (1, 8, 32, 64, 128)
    cold_starts: int = 3
    cpu_calls: int = 2000  # calls whose server CPU is read from /proc, per target
    rps_calls: int = 3200  # calls spread over 32 connections, per target
    long_streams: int = 5  # 2,000-event streams per door
    feature_rounds: int = 100  # rounds of the rows for features (thinking, multimodal, ...)
    many_streams: int = 200  # streams at once on one instance (FC3's most per instance)
    many_stream_s: float = 20.0  # how long each of them lasts
    quick: bool = False
    peers: tuple[str, ...] = ()  # scripts/benchmark/peers.py, in the order given

    @property
    def many_stream_events(self) -> int:
        """The events of each many-streams stream: one every MANY_STREAMS_EVENT_S, n events, n - 1 pauses."""
        return max(1, round(self.many_stream_s / MANY_STREAMS_EVENT_S)) + 1

    @classmethod
    def quick_run(cls, peers: tuple[str, ...] = ()) -> "Settings":
        return cls(rounds=10, levels=(1, 4), cold_starts=1, cpu_calls=100, rps_calls=128, long_streams=1,
                   feature_rounds=5, many_streams=10, many_stream_s=1.0, quick=True, peers=peers)


@dataclass
class ManyStreams:
    """One target's many-streams row: the streams that finished whole, each one's first event, the
    time until the last finished, and (for a server) its resident memory and CPU over the row."""

    finished: int
    first_event_s: list[float]
    all_done_s: float
    rss_peak_mb: float | None = None
    cpu_s: float | None = None


@dataclass
class Results:
    latency: dict[str, list[float]] = field(default_factory=dict)
    first_event: dict[str, list[float]] = field(default_factory=dict)
    batch_s: dict[tuple[str, int], float] = field(default_factory=dict)
    call_s: dict[tuple[str, int], float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    cold_start_s: dict[str, list[float]] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # server CPU per small call
    rps: dict[str, float] = field(default_factory=dict)  # requests/s at 32 connections
    rps_cores: dict[str, float] = field(default_factory=dict)  # the cores the server used meanwhile (CPU s / wall s)
    wide_workers: int = 1  # the workers of "function-wide": one per core of this machine
    chunk_cpu_us: dict[str, float] = field(default_factory=dict)  # CPU per relayed event of a long stream
    many_streams: dict[str, ManyStreams] = field(default_factory=dict)  # "direct", "function", each peer
    many_streams_max_in_flight: int = 0  # the function's MAX_IN_FLIGHT in that row
    features: dict[str, list[float] | str] = field(default_factory=dict)  # added latency, or why not measured
    package_zipped_mb: float = 0.0
    package_cold_s: float = 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
