"""The function uses the cores its instance has: gunicorn's workers are sized to the CPUs it may run
on (WEB_CONCURRENCY wins), the count and why are logged at start, and every worker serves. Without
REDIS_URL it stays at one worker: the callers' store, the model limits and the stored responses
live in the process, and a second worker would split them."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from scripts.fc_process import free_port, function_props, process_tree, start_server, stop
from tests.conftest import function_env
from tests.redis_fixture import start_redis

pytestmark = pytest.mark.server

two_cpus = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="this machine lets the tests use one CPU only")


def start(env: dict[str, str], cpus: str | None = None) -> tuple[subprocess.Popen, str]:
    """s.yaml's command, as FC runs it, on `cpus` only when given (taskset: the CPUs the instance has)."""
    port = free_port()
    command = function_props()["customRuntimeConfig"]["command"]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    return start_server(command, {**env, "PORT": str(port), "HOST": "127.0.0.1"}, port)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def started_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("qwen-fc: "))


def test_web_concurrency_two_starts_two_workers_and_both_serve(emulator):
    process, url = start(function_env(emulator, WEB_CONCURRENCY="2"))
    try:
        workers = process_tree(process.pid)[1:]
        assert len(workers) == 2
        before = {pid: cpu_seconds(pid) for pid in workers}
        served = set()
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))
        with ThreadPoolExecutor(max_workers=32) as pool:
            for _ in range(5):  # the kernel hands connections to whichever worker accepts first
                answers = list(pool.map(lambda n: session.post(f"{url}/invoke", data=f"hi {n}"), range(200)))
                assert {answer.status_code for answer in answers} == {200}
                served = {pid for pid in workers if cpu_seconds(pid) - before[pid] >= 0.05}
                if len(served) == 2:
                    break
        assert served == set(workers), "one worker served every call"
    finally:
        output = stop(process)
    assert started_line(output) == "qwen-fc: 2 workers x 256 threads (WEB_CONCURRENCY)"


@two_cpus
def test_with_redis_the_workers_follow_the_cpus_the_instance_has(emulator, tmp_path):
    redis = start_redis(tmp_path)
    try:
        for cpus, expected in (("0,1", "qwen-fc: 2 workers x 256 threads (2 CPUs visible)"),
                               ("0", "qwen-fc: 1 worker x 256 threads (1 CPU visible)")):
            process, _ = start(function_env(emulator, REDIS_URL=redis.url), cpus)
            workers = len(process_tree(process.pid)) - 1
            output = stop(process)
            assert (workers, started_line(output)) == (int(expected.split()[1]), expected)
    finally:
        redis.kill()


@two_cpus
def test_without_redis_one_worker_keeps_the_in_process_state_whole(emulator):
    process, _ = start(function_env(emulator), "0,1")
    workers = len(process_tree(process.pid)) - 1
    output = stop(process)
    assert workers == 1
    assert started_line(output) == ("qwen-fc: 1 worker x 256 threads (2 CPUs visible; one worker without REDIS_URL "
                                    "(callers, model limits and stored responses are in-process))")
