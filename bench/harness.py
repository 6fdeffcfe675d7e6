"""What every benchmark needs: processes on loopback, their memory, and honest summaries.

Each figure the benchmarks report is the median of several runs with the min
and max beside it, so one noisy run on a shared 2-core machine shows as a
wide range instead of a wrong number.
"""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
AUTH = "Basic dG9rZW46YWxpY2UtdG9rZW4="  # token:alice-token


def spread(samples: Sequence[float], digits: int = 2) -> dict[str, float]:
    """Median, min and max of several runs."""
    return {
        "median": round(statistics.median(samples), digits),
        "min": round(min(samples), digits),
        "max": round(max(samples), digits),
    }


def child_env(root: Path = ROOT, **extra: str) -> dict[str, str]:
    """The environment of a child process: the source tree ``root`` first on the path."""
    return {**os.environ, "PYTHONPATH": f"{root}:{BENCH}", **extra}


@contextmanager
def process(
    command: Sequence[str], cpu: int | None = None, root: Path = ROOT, **extra_env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, silent, stopped with SIGTERM (then SIGKILL) on the way out.

    With ``cpu``, the child and every thread it starts run on that core only.
    ``root`` is the source tree it runs from (another commit's, for an A/B).
    """
    child = subprocess.Popen(
        list(command),
        env=child_env(root, **extra_env),
        preexec_fn=None if cpu is None else lambda: os.sched_setaffinity(0, {cpu}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def require_wrk() -> None:
    """Stop with a clear message when wrk, the HTTP load generator, is missing."""
    if shutil.which("wrk") is None:
        sys.exit(
            "bench: wrk, the HTTP load generator, is not installed;"
            " on Debian or Ubuntu: apt-get install -y wrk (as root)"
        )


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def wait_until_up(port: int, path: str = "/v1/__lbheartbeat__", timeout: float = 30) -> None:
    """Wait for an HTTP answer on 127.0.0.1:port; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}")


def request(port: int, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
    """One request with the benchmark user's credentials."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, payload


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def rss_mb(pid: int) -> float:
    """Resident memory now, in MiB."""
    return round(_status_kb(pid, "VmRSS") / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process (all its threads) and its live children
    (the app processes of ``notifier serve --processes N``) have used so far."""
    return sum(_own_cpu_seconds(one) for one in [pid, *children(pid)])


def _own_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:  # ended meanwhile
        return 0.0
    # utime and stime are fields 14 and 15 of proc(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                parent = stat.read().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        if int(parent) == pid:
            found.append(int(entry.name))
    return found


def peak_rss_mb(pid: int) -> float:
    """The most resident memory the process ever had (VmHWM), in MiB."""
    return round(_status_kb(pid, "VmHWM") / 1024, 1)


def machine() -> dict[str, str | int]:
    """Cores, CPU model, Python version and date, for the report."""
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "cores": os.cpu_count() or 0,
        "cpu": model,
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip(),
    }
