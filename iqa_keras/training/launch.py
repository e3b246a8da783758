"""Several training workers on this machine: one process each, with a generated ``TF_CONFIG`` on 127.0.0.1.

For trying ``train.strategy = "multi_worker"`` (and its exactness against a
single process) without a cluster. Each worker gets the same command and a
``TF_CONFIG`` naming every worker's free local port and its own index;
worker 0 is the chief. The workers' output is passed through, each line of
the others prefixed with ``[worker i]``. When one worker fails, the others
are stopped (they would wait for it forever) and its exit status is returned.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct TCP ports free on ``host`` now (held together while chosen, so all differ)."""
    sockets = []
    try:
        for _ in range(count):
            handle = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            handle.bind((host, 0))
            sockets.append(handle)
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def tf_configs(count: int, host: str = HOST, ports: list[int] | None = None) -> list[str]:
    """One ``TF_CONFIG`` (JSON text) per worker of a ``count``-worker cluster on ``host``."""
    ports = ports or free_ports(count, host)
    cluster = {"worker": [f"{host}:{port}" for port in ports]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}) for index in range(count)]


def worker_environment(tf_config: str, base: dict | None = None) -> dict:
    """The environment of one worker: ``TF_CONFIG`` set, and this package first on ``PYTHONPATH``."""
    env = dict(os.environ if base is None else base)
    env["TF_CONFIG"] = tf_config
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _relay(stream, prefix: str, out) -> None:
    for line in iter(stream.readline, ""):
        out.write(prefix + line)
        out.flush()
    stream.close()


def start_workers(command: list[str], count: int, env: dict | None = None, prefix_output: bool = True) -> list:
    """Starts ``count`` workers running ``command``; returns their ``Popen`` objects (worker 0 first)."""
    processes = []
    for index, tf_config in enumerate(tf_configs(count)):
        piped = prefix_output and index > 0
        process = subprocess.Popen(
            command, env=worker_environment(tf_config, env), text=True,
            stdout=subprocess.PIPE if piped else None, stderr=subprocess.STDOUT if piped else None,
        )
        if piped:
            relay = threading.Thread(target=_relay, args=(process.stdout, f"[worker {index}] ", sys.stdout),
                                     daemon=True)
            relay.start()
            process.relay = relay  # joined once the process exits, so its last lines are not lost
        processes.append(process)
    return processes


def stop(processes, grace: float = 10.0) -> None:
    """Terminates the processes still running; kills those that are still there after ``grace`` seconds."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.time() + grace
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.time(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_workers(processes, timeout: float | None = None) -> int:
    """Waits until every worker exits; the first failure (or the timeout) stops the rest.

    Returns 0 when all succeeded, else the first failing worker's exit status (124 on timeout).
    """
    deadline = None if timeout is None else time.time() + timeout
    try:
        while True:
            codes = [process.poll() for process in processes]
            failed = [code for code in codes if code not in (None, 0)]
            if failed:
                stop(processes)
                return failed[0]
            if all(code == 0 for code in codes):
                for process in processes:
                    relay = getattr(process, "relay", None)
                    if relay is not None:
                        relay.join(timeout=10)
                return 0
            if deadline is not None and time.time() > deadline:
                stop(processes)
                return 124
            time.sleep(0.2)
    except KeyboardInterrupt:
        stop(processes)
        raise


def run_local_workers(command: list[str], count: int, timeout: float | None = None) -> int:
    """Runs ``command`` as ``count`` local workers until all exit; returns 0 or the first failure's status."""
    if count < 1:
        raise ValueError(f"--workers: expected a number of worker processes >= 1, got {count}")
    return wait_for_workers(start_workers(command, count), timeout)
