"""The table: one row per measure, the function's figure, each peer's that ran (a column each), what it
is compared with and the target. A row without a target (a feature's added latency, the peer's figures) is
reported and not counted."""

from __future__ import annotations

import re
import statistics
import time

from scripts.benchmark.peers import PEERS
from scripts.benchmark.common import LONG_STREAM_EVENTS, ROOT, UPSTREAM_S, Results, Settings, machine, percentile

# The FC package before it held only what runs (commit 59705a8: requirements.txt with every SDK extra),
# measured by scripts/benchmark/package.py interleaved with the new one, 9 cold starts each (new: 0.40 s).
BEFORE_PACKAGE_ZIPPED_MB, BEFORE_PACKAGE_COLD_S = 32.7, 0.43
README_START, README_END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
MS = 1000
Row = tuple[str, str, "list[str]", str, str, "bool | None"]


def added(results: Results, target: str, direct: str = "direct") -> list[float]:
    return [t - d for t, d in zip(results.latency[target], results.latency[direct])]


def first_added(results: Results, target: str, direct: str = "direct") -> float:
    return (percentile(results.first_event[target], 50) - percentile(results.first_event[direct], 50)) * MS


def rows(settings: Settings, results: Results) -> list[Row]:
    peers = settings.peers
    each = lambda make: [make(peer) for peer in peers]  # noqa: E731 - each peer's cell
    none = [""] * len(peers)
    compat = lambda peer: f"direct-compat/{peer}"  # noqa: E731 - a peer's own direct calls (measure_latency)
    invoke_p50 = percentile(added(results, "function"), 50) * MS
    v1_p50 = percentile(added(results, "function-v1"), 50) * MS
    responses_p50 = percentile(added(results, "function-responses"), 50) * MS
    responses_first = first_added(results, "function-responses")
    anthropic_p50 = percentile(added(results, "function-anthropic"), 50) * MS
    anthropic_first = first_added(results, "function-anthropic")
    official_p50 = percentile(added(results, "official"), 50) * MS
    floor_p50 = percentile(results.latency["floor"], 50) * MS
    floor_first = percentile(results.first_event["floor"], 50) * MS
    invoke_first = first_added(results, "function")
    top = max(settings.levels)
    batch = results.batch_s
    calls_ratio = batch[("function", top)] / batch[("direct", top)]
    streams_ratio = batch[("function-stream", top)] / batch[("direct-stream", top)]
    cpu = results.cpu_ms
    chunk = results.chunk_cpu_us
    chunk_ratio = max(chunk["function"], chunk["function-v1"]) / chunk["direct"]
    cold = statistics.median(results.cold_start_s["function"])
    peer_ratio = lambda a, b: f" ({a / b:.2f}× direct)"  # noqa: E731
    rps, cores = results.rps, results.rps_cores
    wide_name, wide = "function-wide", results.wide_workers  # the function with a worker per core, on /v1
    per_core = lambda name: f"{rps[name] / cores[name]:.0f}" if cores.get(name) else "—"  # noqa: E731
    # The target for the function using the instance's cores: 1.5× Portkey's, 5× LiteLLM's.
    wide_met = all(rps[wide_name] >= {"portkey": 1.5, "litellm": 5.0}[peer] * rps[peer] for peer in peers) if peers else None
    table: list[Row] = [
        ("added latency p50, /invoke", f"{invoke_p50:.2f} ms",
         each(lambda peer: f"{percentile(added(results, peer, compat(peer)), 50) * MS:.2f} ms"),
         f"floor hop {floor_p50:.2f} ms, official sample adds {official_p50:.2f} ms",
         f"≤ 1.3× floor ({1.3 * floor_p50:.2f}) and ≤ 0.8× official ({0.8 * official_p50:.2f})",
         invoke_p50 <= 1.3 * floor_p50 and invoke_p50 <= 0.8 * official_p50),
        ("added latency p50, /v1", f"{v1_p50:.2f} ms", none, f"/invoke adds {invoke_p50:.2f} ms",
         f"≤ 1.15× /invoke ({1.15 * invoke_p50:.2f})", v1_p50 <= 1.15 * invoke_p50),
        ("added latency p50, /v1/responses", f"{responses_p50:.2f} ms", none, f"/invoke adds {invoke_p50:.2f} ms",
         f"≤ 1.15× /invoke ({1.15 * invoke_p50:.2f})", responses_p50 <= 1.15 * invoke_p50),
        ("added latency p50, /v1/messages", f"{anthropic_p50:.2f} ms", none, f"/invoke adds {invoke_p50:.2f} ms",
         f"≤ 1.15× /invoke ({1.15 * invoke_p50:.2f})", anthropic_p50 <= 1.15 * invoke_p50),
        ("first streamed event, added, /v1/messages", f"{anthropic_first:.2f} ms", none, f"/invoke {invoke_first:.2f} ms",
         f"≤ 1.15× /invoke ({1.15 * invoke_first:.2f})", anthropic_first <= 1.15 * invoke_first),
        ("added latency p99, /invoke", f"{percentile(added(results, 'function'), 99) * MS:.2f} ms",
         each(lambda peer: f"{percentile(added(results, peer, compat(peer)), 99) * MS:.2f} ms"),
         f"/v1 {percentile(added(results, 'function-v1'), 99) * MS:.2f} ms, official sample adds "
         f"{percentile(added(results, 'official'), 99) * MS:.2f} ms", "≤ 6 ms",
         percentile(added(results, "function"), 99) * MS <= 6),
        ("first streamed event, added", f"{invoke_first:.2f} ms", each(lambda peer: f"{first_added(results, peer, compat(peer)):.2f} ms"),
         f"/v1 {first_added(results, 'function-v1'):.2f} ms; floor hop {floor_first:.2f} ms (official: no streaming)",
         f"≤ 1.3× floor ({1.3 * floor_first:.2f})", invoke_first <= 1.3 * floor_first),
        ("first streamed event, added, /v1/responses", f"{responses_first:.2f} ms", none, f"/invoke {invoke_first:.2f} ms",
         f"≤ 1.15× /invoke ({1.15 * invoke_first:.2f})", responses_first <= 1.15 * invoke_first),
        (f"{top} concurrent {UPSTREAM_S:g} s calls", f"{batch[('function', top)]:.2f} s",
         each(lambda peer: f"{batch[(peer, top)]:.2f} s" + peer_ratio(batch[(peer, top)], batch[("direct-compat", top)])),
         f"direct SDK {batch[('direct', top)]:.2f} s, official {batch[('official', top)]:.2f} s", "≤ 1.25× direct",
         calls_ratio <= 1.25),
        (f"{top} concurrent {UPSTREAM_S:g} s streams", f"{batch[('function-stream', top)]:.2f} s",
         each(lambda peer: f"{batch[(f'{peer}-stream', top)]:.2f} s" + peer_ratio(batch[(f"{peer}-stream", top)], batch[("direct-compat-stream", top)])),
         f"direct SDK {batch[('direct-stream', top)]:.2f} s; /v1 {batch[('function-v1-stream', top)]:.2f} s; the floor "
         f"relaying the SDK's streams and nothing else {batch[('relay-stream', top)]:.2f} s "
         f"({batch[('relay-stream', top)] / batch[('direct-stream', top)]:.2f}× direct)", "≤ 1.05× direct",
         streams_ratio <= 1.05),
        ("requests/s, 32 connections, /v1", f"{results.rps['function-v1']:.0f}", each(lambda peer: f"{results.rps[peer]:.0f}"),
         f"/invoke {results.rps['function']:.0f}; 1 worker (s.yaml's cpu: 1)", "", None),
        (f"requests/s, 32 connections, /v1, {wide} workers", f"{rps[wide_name]:.0f}", each(lambda peer: f"{rps[peer]:.0f}"),
         f"WEB_CONCURRENCY={wide}, one worker per core of this machine (1 worker: {rps['function-v1']:.0f})",
         "≥ 1.5× Portkey's, ≥ 5× LiteLLM's" if peers else "", wide_met),
        ("requests/s per CPU core, 32 connections, /v1", f"{per_core('function-v1')}", each(per_core),
         f"cores used: 1 worker {cores['function-v1']:.2f}, {wide} workers {cores[wide_name]:.2f} ({per_core(wide_name)} per core)"
         + "".join(f", {PEERS[peer].label} {cores[peer]:.2f}" for peer in peers), "", None),
        ("server CPU per small call", f"{cpu['function']:.2f} ms", each(lambda peer: f"{cpu[peer]:.2f} ms"),
         f"floor {cpu['floor']:.2f} ms ({cpu['function'] / cpu['floor']:.2f}×); the floor relaying the SDK and nothing else "
         f"{cpu['relay']:.2f} ms ({cpu['relay'] / cpu['floor']:.2f}× floor, the function {cpu['function'] / cpu['relay']:.2f}× it); "
         f"/v1 {cpu['function-v1']:.2f} ms; the SDK's own CPU for the call made directly {cpu['direct']:.2f} ms; "
         f"official sample {cpu['official']:.2f} ms",
         f"≤ 1.3× floor ({1.3 * cpu['floor']:.2f})", cpu["function"] <= 1.3 * cpu["floor"]),
        (f"CPU per relayed event, {LONG_STREAM_EVENTS:,}-event stream", f"{chunk['function']:.0f} µs",
         each(lambda peer: f"{chunk[peer]:.0f} µs ({chunk[peer] / chunk['direct-compat']:.2f}× the OpenAI client's {chunk['direct-compat']:.0f})"),
         f"/v1 {chunk['function-v1']:.0f} µs; the SDK consuming it directly {chunk['direct']:.0f} µs ({chunk_ratio:.2f}×); "
         f"the floor relaying the SDK's stream and nothing else {chunk['relay']:.0f} µs ({chunk['relay'] / chunk['direct']:.2f}× the SDK)",
         "≤ 1.5× the SDK", chunk_ratio <= 1.5),
        ("RSS after the load", f"{results.rss_mb['function']:.0f} MB", each(lambda peer: f"{results.rss_mb[peer]:.0f} MB"),
         f"floor {results.rss_mb['floor']:.0f} MB, the floor relaying the SDK {results.rss_mb['relay']:.0f} MB, "
         f"official {results.rss_mb['official']:.0f} MB", "≤ 150 MB",
         results.rss_mb["function"] <= 150),
        ("cold start to first 200", f"{cold:.2f} s", each(lambda peer: f"{statistics.median(results.cold_start_s[peer]):.2f} s"),
         f"floor {statistics.median(results.cold_start_s['floor']):.2f} s, official {statistics.median(results.cold_start_s['official']):.2f} s",
         "≤ 1.5 s", cold <= 1.5),
        ("FC package, zipped", f"{results.package_zipped_mb:.1f} MB", none, f"before: {BEFORE_PACKAGE_ZIPPED_MB:.1f} MB",
         "≤ 10 MB", results.package_zipped_mb <= 10),
        ("package cold start, bare Python", f"{results.package_cold_s:.2f} s", none, f"before: {BEFORE_PACKAGE_COLD_S:.2f} s",
         "≤ 1.5 s", results.package_cold_s <= 1.5),
    ]
    table += many_streams_rows(settings, results)
    for name, measured in results.features.items():
        value = measured if isinstance(measured, str) else f"{percentile(measured, 50) * MS:.2f} ms"
        table.append((f"added latency p50, {name}", value, none, "the same call made directly", "", None))
    return table


def many_streams_rows(settings: Settings, results: Results) -> list[Row]:
    """The many-streams row (many_streams.py): whole streams, first event p99, memory and CPU."""
    measured = results.many_streams
    if "function" not in measured:
        return []
    count, head = settings.many_streams, f"{settings.many_streams} concurrent {settings.many_stream_s:g} s streams"
    function, direct, portkey = measured["function"], measured["direct"], measured.get("portkey")
    relay = measured.get("relay")  # the SDK relay floor (floor_app.py), when it ran
    each = lambda show: [show(measured[peer]) for peer in settings.peers]  # noqa: E731
    p99 = lambda row: percentile(row.first_event_s, 99) if row.first_event_s else float("inf")  # noqa: E731
    whole = lambda row: f"{row.finished} of {count}, the last done at {row.all_done_s:.1f} s"  # noqa: E731
    events = count * settings.many_stream_events
    per_event = lambda row: f"{row.cpu_s / events * 1e6:.0f} µs"  # noqa: E731
    floor = lambda show: f"; the SDK relay floor {show(relay)}" if relay else ""  # noqa: E731
    return [
        (f"{head}: finished whole", whole(function), each(whole),
         f"direct SDK {whole(direct)}; the function at MAX_IN_FLIGHT={results.many_streams_max_in_flight}{floor(whole)}",
         "every stream", function.finished == count),
        (f"{head}: first event p99", f"{p99(function):.2f} s", each(lambda row: f"{p99(row):.2f} s"),
         f"direct SDK {p99(direct):.2f} s; p50 {percentile(function.first_event_s, 50):.2f} s (direct "
         f"{percentile(direct.first_event_s, 50):.2f}){floor(lambda row: f'{p99(row):.2f} s')}"
         if function.first_event_s and direct.first_event_s else "",
         f"≤ 1.2× direct ({1.2 * p99(direct):.2f})", p99(function) <= 1.2 * p99(direct)),
        (f"{head}: server RSS peak", f"{function.rss_peak_mb:.0f} MB", each(lambda row: f"{row.rss_peak_mb:.0f} MB"),
         f"each server started for this row, every process of it, sampled every 0.1 s{floor(lambda row: f'{row.rss_peak_mb:.0f} MB')}",
         "≤ 150 MB",
         (function.rss_peak_mb or 0) <= 150),
        (f"{head}: server CPU", f"{function.cpu_s:.2f} s", each(lambda row: f"{row.cpu_s:.2f} s"),
         f"CPU seconds over the row, from /proc; per relayed event: the function {per_event(function)}"
         + "".join(f", {PEERS[peer].label} {per_event(measured[peer])}" for peer in settings.peers)
         + floor(lambda row: f"{row.cpu_s:.2f} s ({per_event(row)})")
         + (f"; the SDK consuming them itself, in one process {direct.cpu_s:.2f} s ({per_event(direct)})" if direct.cpu_s else ""),
         "≤ Portkey's" if portkey else "", (function.cpu_s or 0) <= (portkey.cpu_s or 0) if portkey else None),
    ]


def render(settings: Settings, table: list[Row]) -> tuple[str, list[bool]]:
    """The markdown table, and each target's verdict."""
    peers = [PEERS[name] for name in settings.peers]
    head = "| measure | the function |" + "".join(f" {peer.label} |" for peer in peers) + " compared with | target | met |"
    lines = [head, "|---|---|" + "---|" * len(peers) + "---|---|---|"]
    for name, value, peer_values, against, target, met in table:
        shown = "—" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {name} | {value} |" + "".join(f" {cell} |" for cell in peer_values) + f" {against} | {target} | {shown} |")
    note = f"{machine()}, {settings.rounds} rounds"
    if peers:
        note += "; " + "; ".join(f"{peer.label} {peer.version} ({peer.how})" for peer in peers)
        note += "; each gateway against its own upstream"
    text = "\n".join(lines) + f"\n\n_{time.strftime('%Y-%m-%d')}, {note}{', QUICK RUN' if settings.quick else ''}._\n"
    return text, [met for *_, met in table if met is not None]


def report(settings: Settings, results: Results) -> tuple[str, list[bool]]:
    return render(settings, rows(settings, results))


def update_readme(table: str) -> None:
    """Put the table between the markers of docs/performance.md and its Chinese twin (the table itself
    stays in English)."""
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.DOTALL)
    for readme in (ROOT / "docs" / "performance.md", ROOT / "docs" / "performance_zh.md"):
        readme.write_text(pattern.sub(lambda _: f"{README_START}\n{table}\n{README_END}", readme.read_text()))
