"""Drive HTTP load with wrk (Debian: ``apt-get install -y wrk``) and read its figures.

A generated Lua script sets the method, the body and the Basic-auth header,
and its ``done`` hook prints one JSON line (requests, errors, latency
percentiles) that this module parses, so nothing depends on wrk's text output.
wrk runs one thread: on a 2-core machine a second thread would only take CPU
from the server it measures.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

from harness import AUTH

MARK = "WRKJSON "

LUA = """
wrk.method = "{method}"
wrk.path = "{path}"
wrk.headers["Authorization"] = "{auth}"
wrk.headers["Content-Type"] = "application/json"
{body}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{mark}{{"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx_3xx":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
"""


@dataclass(frozen=True)
class Load:
    """One kind of request to repeat."""

    method: str
    path: str
    body: str | None = None
    #: When given, each request goes to one of these paths, picked at random.
    paths: tuple[str, ...] = ()

    def script(self) -> str:
        body = f"wrk.body = {json.dumps(self.body)}" if self.body is not None else ""
        if self.paths:
            listed = ", ".join(json.dumps(path) for path in self.paths)
            body += f"\nlocal paths = {{{listed}}}\nrequest = function()"
            body += " return wrk.format(nil, paths[math.random(#paths)]) end"
        return LUA.format(method=self.method, path=self.path, auth=AUTH, body=body, mark=MARK)


def run_wrk(port: int, load: Load, seconds: float, connections: int = 16) -> dict[str, Any]:
    """Run wrk against 127.0.0.1:port; return req/s and latency percentiles in ms."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(load.script())
        script.flush()
        completed = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{load.path}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    line = next(line for line in completed.stdout.splitlines() if line.startswith(MARK))
    raw = json.loads(line[len(MARK) :])
    return {
        "requests": raw["requests"],
        "errors": raw["socket_errors"] + raw["non_2xx_3xx"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
    }
