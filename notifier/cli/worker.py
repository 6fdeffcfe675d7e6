"""``notifier worker [INI] --handler module:function``: run a handler over the queue until stopped.

The handler is imported with the INI's folder first on the import path, so
``handlers.py`` beside ``app.ini`` is ``--handler handlers:on_event``.
``--metrics-port`` serves the worker's Prometheus metrics
(docs/observability.md) from a thread of the process.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click
import redis

from notifier.cli.common import CommandError, app_settings, ini_argument, traceback_option
from notifier.cli.source import Source, resolve_source, source_options, unreachable
from notifier.logs.setup import apply_log_format, log_format_of
from notifier.retry import RetryPolicy
from notifier.settings import suggestion
from notifier.worker import WorkerStats, run
from notifier.worker.config import MAX_BATCH, WORKER_RETRY, WorkerConfig
from notifier.worker.metrics import WorkerMetrics, serve_metrics
from notifier.worker.runtime import Handler
from notifier.worker.status import default_status

log = logging.getLogger(__name__)


def load_handler(spec: str) -> Handler:
    """Import ``module:function``.

    Raises CommandError when the module or function does not exist; an
    ImportError raised inside the user's module propagates as itself.
    """
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise CommandError("--handler", "expected module:function", spec)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            where = "beside the INI, in the current folder or on PYTHONPATH"
            problem = f"no module named {error.name!r} ({where})"
            raise CommandError("--handler", problem, spec) from None
        raise
    handler = getattr(module, function_name, None)
    if not callable(handler):
        names = [name for name in vars(module) if callable(getattr(module, name))]
        hint = suggestion(function_name, names)
        problem = f"{module_name} has no function {function_name!r}{hint}"
        raise CommandError("--handler", problem, spec)
    return handler


def run_worker(
    handler_spec: str,
    config: WorkerConfig,
    source: Source,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
) -> WorkerStats:
    """Check the handler and that Redis answers, then handle messages until stopped.

    With ``metrics_port`` (0: any free port), the metrics are served meanwhile,
    and a line on stdout says where.
    """
    if "" not in sys.path:
        sys.path.insert(0, "")  # like python -m: handlers in the current folder import
    handler = load_handler(handler_spec)
    client = source.client()
    try:
        client.ping()
    except redis.RedisError as error:
        raise unreachable(source, error) from None
    finally:
        client.close()
    if metrics_port is None:
        return run(handler, config, default_status())
    metrics = WorkerMetrics(config.listname)
    try:
        port, stop = serve_metrics(metrics.registry, metrics_host, metrics_port)
    except OSError as error:
        raise CommandError("--metrics-port", str(error), str(metrics_port)) from None
    click.echo(f"worker metrics: http://{metrics_host}:{port}/metrics")
    try:
        return run(handler, config, default_status(), metrics)
    finally:
        stop()


@click.command("worker")
@ini_argument
@click.option("--handler", required=True, help="module:function taking one ResourceChanged.")
@source_options
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=1, show_default=True)
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH),
    default=1,
    show_default=True,
    help="Messages claimed per round trip.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1),
    default=WORKER_RETRY.max_attempts,
    show_default=True,
    help="Attempts before a message goes to <listname>:dead.",
)
@click.option("--heartbeat-ttl", type=float, default=30.0, show_default=True, help="Seconds.")
@click.option(
    "--block-timeout",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds a claim waits for a message.",
)
@click.option(
    "--backoff-base",
    type=float,
    default=WORKER_RETRY.backoff_base,
    show_default=True,
    help="First retry delay in seconds, doubled per attempt.",
)
@click.option(
    "--backoff-max",
    type=float,
    default=WORKER_RETRY.backoff_max,
    show_default=True,
    help="Seconds.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve Prometheus metrics on this port (0: any free one) at /metrics.",
)
@click.option(
    "--metrics-host", default="127.0.0.1", show_default=True, help="Address of --metrics-port."
)
@click.option("-q", "--quiet", is_flag=True, help="Warnings only.")
@traceback_option
def command(
    ini: str,
    handler: str,
    listener: str,
    url: str | None,
    listname: str | None,
    metrics_port: int | None,
    metrics_host: str,
    quiet: bool,
    max_attempts: int,
    backoff_base: float,
    backoff_max: float,
    **options: float | int | bool,
) -> int:
    """Call a handler for each event of a Redis queue.

    0 after a warm stop or a drained burst, 1 after a cold stop (second SIGTERM).
    """
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    source = resolve_source(ini, listener, url, listname)
    if url is None:  # the queue came from the INI: so does the log format
        apply_log_format(log_format_of(app_settings(ini)))
    try:
        retry = RetryPolicy(max_attempts, backoff_base, backoff_max)
        config = WorkerConfig(source.url, source.listname, retry=retry, **options)  # type: ignore[arg-type]
    except ValueError as error:
        raise CommandError("worker", str(error)) from None
    stats = run_worker(handler, config, source, metrics_host, metrics_port)
    return 1 if stats.cold else 0
