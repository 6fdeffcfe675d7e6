"""Render a bench/run.py result document as BENCHMARKS.md: figures, ratios, targets.

Every figure is "median (min-max)" over the runs; throughputs carry their
ratio to the ceiling measured in the same run.  Hand-written notes (profile,
optimizations) live in bench/notes.md and are appended unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

NOTES = Path(__file__).resolve().parent / "notes.md"


def fig(spread: dict[str, float], unit: str = "") -> str:
    return f"{spread['median']:g}{unit} ({spread['min']:g}-{spread['max']:g})"


def ratio(value: float, ceiling: float) -> str:
    return f"{value / ceiling:.2f}" if ceiling else "-"


def cpu(case: dict[str, Any]) -> str:
    return f"{case['cpu_us_per_request']:,}" if case.get("cpu_us_per_request") else "-"


def http_rows(
    cases: dict[str, Any], names: list[str], ceiling_of: Callable[[str], str]
) -> list[str]:
    """One row per case, with its ratios to the ceiling ``ceiling_of(name)`` names."""
    rows = [
        "| case | req/s | / ceiling | p50 ms | p99 ms | p99 / ceiling's"
        " | server CPU us / request | CPU / ceiling's | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        case, ceiling = cases[name], cases[ceiling_of(name)]
        rps = ratio(case["rps"]["median"], ceiling["rps"]["median"])
        p99 = ratio(case["p99_ms"]["median"], ceiling["p99_ms"]["median"])
        work = ratio(case.get("cpu_us_per_request") or 0, ceiling.get("cpu_us_per_request") or 0)
        rows.append(
            f"| {name} | {fig(case['rps'])} | {rps} | {fig(case['p50_ms'])}"
            f" | {fig(case['p99_ms'])} | {p99} | {cpu(case)} | {work} | {case['errors']} |"
        )
    return rows


def durable_ceiling(name: str) -> str:
    """The durable ceiling a create case is compared with: the one on its backend."""
    if name.startswith("ceiling_"):
        return name
    if name == "kinto_26_memory":  # nothing durable: the bare view is its ceiling
        return "ceiling_bare_pyramid"
    return "ceiling_durable_postgresql" if "postgresql" in name else "ceiling_durable_sqlite"


def create_section(create: dict[str, Any]) -> list[str]:
    ceilings = [name for name in create if name.startswith("ceiling_")]
    names = [name for name in create if not name.startswith("ceiling_")]
    email = create.get("redis_and_email_worker", {})
    bare = create["ceiling_bare_pyramid"]["rps"]["median"]
    return [
        "## (1) Record creation: POST /v1/buckets/b/collections/c/records, 16 connections",
        "",
        "Each case against the durable ceiling on its backend (the bare view plus one"
        " committed insert and one RPUSH); the bare view is a reference line, and the ceiling"
        " of Kinto on its memory backend. All cases but the email one ran side by side, in"
        " interleaved rounds.",
        "",
        *http_rows(create, ceilings + names, durable_ceiling),
        "",
        "Against the bare view's req/s: "
        + ", ".join(f"{name} {ratio(create[name]['rps']['median'], bare)}" for name in names)
        + ".",
        "",
        "Server peak RSS (MiB): "
        + ", ".join(f"{name} {create[name]['rss_mb']}" for name in create)
        + f"; email worker peak RSS {email.get('worker_rss_mb', '-')} MiB,"
        f" queue backlog when the load stopped: {email.get('queue_backlog_at_end', '-')}.",
        "",
    ]


def reads_section(reads: dict[str, Any]) -> list[str]:
    get_one = reads["get_one"]
    cost = [
        f"{name}: {ratio(get_one['rps']['median'], reads[name]['rps']['median'])}x the time of"
        " a GET of one record (req/s ratio),"
        f" p50 {ratio(reads[name]['p50_ms']['median'], get_one['p50_ms']['median'])}x"
        for name in ("list_100", "since_100")
    ]
    postgresql = [
        f"{name} {ratio(reads[name]['rps']['median'], reads[name + pg]['rps']['median'])}x"
        for name in ("get_one", "list_100", "since_100")
        for pg in ["_postgresql"]
        if name + pg in reads
    ]

    def ceiling_of(name: str) -> str:
        return (
            "ceiling_get_one"
            if name.startswith(("get_one", "ceiling_get"))
            else ("ceiling_list_100")
        )

    names = [name for name in reads if isinstance(reads[name], dict) and "rps" in reads[name]]
    return [
        f"## (2) Reads on a collection of {reads['records']:,} records, 16 connections",
        "",
        "Ceiling for GET one: the bare app's single object; for the lists: the bare app's"
        " 100-object list. SQLite and PostgreSQL cases side by side, in interleaved rounds.",
        "",
        *http_rows(reads, names, ceiling_of),
        "",
        "; ".join(cost) + f". Server peak RSS {reads['rss_mb']} MiB.",
        "",
        "PostgreSQL's time per request against SQLite's (req/s ratio): "
        + (", ".join(postgresql) or "-")
        + ".",
        "",
    ]


def growth_section(growth: dict[str, Any]) -> list[str]:
    rows = [
        "## (6a) Growth: one collection from 1,000 to 100,000 records (p50 ms, req/s)",
        "",
        "| records | GET one | list _limit=100 | _since _limit=100 | POST | server RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    for size in growth["sizes"]:
        cells = [
            f"{size[name]['p50_ms']['median']:g} ms, {size[name]['rps']['median']:g}/s"
            for name in ("get_one", "list_100", "since_100", "create")
        ]
        rows.append(f"| {size['records']:,} | " + " | ".join(cells) + f" | {size['rss_mb']} |")
    return [
        *rows,
        "",
        f"Peak server RSS over the whole growth run: {growth['peak_rss_mb']} MiB.",
        "",
    ]


def sustained_section(run: dict[str, Any]) -> list[str]:
    return [
        f"## (6b) Sustained writes: {run['seconds']:g} s of POSTs (Redis listener) after"
        f" {run['warmup_seconds']:g} s of warm-up",
        "",
        f"{run['rps']} req/s, p99 {run['p99_ms']} ms. Server RSS: first sample"
        f" {run['rss_mb_first']} MiB, last {run['rss_mb_last']} MiB, max {run['rss_mb_max']} MiB:"
        f" growth {run['growth_pct']}% (max {run['max_over_first_pct']}% over the first).",
        "",
        f"Samples (MiB, one per second): {', '.join(str(s) for s in run['samples'])}",
        "",
    ]


def drain_section(drain: dict[str, Any]) -> list[str]:
    rates = drain["events_per_second"]
    ceiling = rates["raw_pipelined"]["median"]
    rows = [
        f"## (3) Worker drain of a pre-filled queue of {drain['count']:,} no-op events"
        f" (Redis {drain['redis']}, {drain['runs']} runs)",
        "",
        "| case | events/s | / ceiling (raw pipelined LPOP) |",
        "|---|---|---|",
    ]
    rows += [
        f"| {name} | {fig(rate)} | {ratio(rate['median'], ceiling)} |"
        for name, rate in rates.items()
    ]
    return [*rows, ""]


def e2e_section(e2e: dict[str, Any]) -> list[str]:
    rows = [
        f"## (4) End-to-end latency, HTTP 201 -> worker handler start ({e2e['runs']} runs)",
        "",
        "| clients | records | handler start - 201 read, p50 / p99 ms"
        " | handler start - request sent, p50 / p99 ms |",
        "|---|---|---|---|",
    ]
    for row in e2e["results"]:
        after = "handler_start_after_201_ms"
        sent = "handler_start_after_request_sent_ms"
        rows.append(
            f"| {row['clients']} | {row['records']}"
            f" | {fig(row[after + '_p50'])} / {fig(row[after + '_p99'])}"
            f" | {fig(row[sent + '_p50'])} / {fig(row[sent + '_p99'])} |"
        )
    return [*rows, ""]


def dispatch_section(dispatch: dict[str, Any]) -> list[str]:
    rows = [
        "## (5) Dispatch overhead per event per listener (no-op listeners, microseconds)",
        "",
        "| filters | outbox (SQLite) | listeners | us / event / listener |",
        "|---|---|---|---|",
    ]
    for row in dispatch["results"]:
        rows.append(
            f"| {row['filtered']} | {row['outbox']} | {row['listeners']}"
            f" | {fig(row['us_per_event_per_listener'])} |"
        )
    return [*rows, ""]


def targets_section(results: dict[str, Any]) -> list[str]:
    """The targets of issues 13 and 17 (and #7's that still hold), each with the figure
    of this run that decides it."""
    rows = ["## Targets", "", "| target | this run | met |", "|---|---|---|"]

    def add(target: str, figure: str, met: bool) -> None:
        rows.append(f"| {target} | {figure} | {'yes' if met else 'NO'} |")

    def share(case: dict[str, Any], ceiling: dict[str, Any], key: str) -> float:
        value = case[key]["median"] if isinstance(case[key], dict) else case[key]
        base = ceiling[key]["median"] if isinstance(ceiling[key], dict) else ceiling[key]
        return float(value) / float(base) if base else float("inf")

    http = results.get("http") or {}
    if "create" in http:
        create, reads = http["create"], http["reads"]
        sqlite, ceiling = create["redis"], create["ceiling_durable_sqlite"]
        rps = share(sqlite, ceiling, "rps")
        add(
            "create on SQLite, Redis listener: >= 0.75 of its durable ceiling's req/s (aim 0.9)",
            f"{rps:.2f}",
            rps >= 0.75,
        )
        if "redis_postgresql" in create:
            pg, ceiling = create["redis_postgresql"], create["ceiling_durable_postgresql"]
            rps = share(pg, ceiling, "rps")
            add(
                "create on PostgreSQL, Redis listener: >= 0.80 of its durable ceiling's req/s",
                f"{rps:.2f}",
                rps >= 0.8,
            )
            tail = share(pg, ceiling, "p99_ms")
            add("... p99 <= 1.5x the ceiling's", f"{tail:.2f}x", tail <= 1.5)
            work = share(pg, ceiling, "cpu_us_per_request")
            add("... server CPU per request <= 1.3x the ceiling's", f"{work:.2f}x", work <= 1.3)
        for name in ("get_one", "list_100"):
            if name + "_postgresql" in reads:
                cost = share(reads[name], reads[name + "_postgresql"], "rps")
                add(f"{name} on PostgreSQL: within 1.5x SQLite's time", f"{cost:.2f}x", cost <= 1.5)
        for name in ("list_100", "since_100"):
            cost = share(reads["get_one"], reads[name], "rps")
            add(f"{name} on 10,000 records: <= 2x a GET of one", f"{cost:.2f}x", cost <= 2)
        sizes = http["growth"]["sizes"]
        worst = max(
            size[name]["p50_ms"]["median"] / sizes[0][name]["p50_ms"]["median"]
            for size in sizes
            for name in ("list_100", "since_100")
        )
        add("list/_since p50 flat from 1,000 to 100,000 records", f"worst {worst:.2f}x", worst < 2)
        growth = http["sustained"]["max_over_first_pct"]
        add("server RSS flat within 10% over sustained writes", f"+{growth}%", growth <= 10)
    if "processes" in http:
        run = http["processes"]
        lost = sum(run[name]["queue"]["missing"] for name in ("one_process", "two_processes"))
        add(
            "two processes on PostgreSQL: >= 1.3x one process's creates/s, every event queued",
            f"{run['two_over_one']}x, {lost} missing",
            run["two_over_one"] >= 1.3 and lost == 0,
        )
        spread = run.get("two_over_one_16_collections")
        if spread is not None:
            add("... the same, creates spread over 16 collections", f"{spread}x", spread >= 1.3)
    if "drain" in results:
        rates = results["drain"]["events_per_second"]
        best = max(r["median"] for name, r in rates.items() if name.startswith("runtime_batch"))
        add(
            "worker runtime, one process, batching: >= 50,000 events/s",
            f"{best:,.0f}/s",
            best >= 50_000,
        )
    if "e2e" in results:
        low = results["e2e"]["results"][0]["handler_start_after_201_ms_p99"]["median"]
        add("end-to-end p99 < 5 ms at low load (201 -> handler)", f"{low} ms", low < 5)
    return [*rows, ""]


def processes_section(run: dict[str, Any]) -> list[str]:
    """One process against two (``notifier serve --processes 2``) on PostgreSQL."""
    cases = ["one_process", "two_processes"]
    spread = [
        name
        for name, case in run.items()
        if name.endswith("_collections") and isinstance(case, dict)
    ]
    names = ["ceiling_durable_postgresql", *cases, *spread]
    queues = [
        f"{name}: {run[name]['queue']['records']:,} records, {run[name]['queue']['events']:,}"
        f" events, {run[name]['queue']['missing']} missing,"
        f" {run[name]['queue']['duplicated']} duplicated"
        for name in cases
    ]
    ratios = f"one collection {run['two_over_one']}x"
    if "two_over_one_16_collections" in run:
        ratios += f", 16 collections {run['two_over_one_16_collections']}x"
    return [
        "## (7) Several processes: POST .../records on PostgreSQL, 16 connections",
        "",
        "`notifier serve --processes 1` and `--processes 2` (threads = 4 each), side by side"
        " with the PostgreSQL durable ceiling (one process) in interleaved rounds; server CPU"
        " counts the children. Each server takes the seed's POST into one collection (creates"
        " take turns on the list's timestamp row, stamp to commit) and the same POST spread"
        f" over 16 collections (`*_collections`). Two processes over one, req/s: {ratios}.",
        "",
        *http_rows(run, names, lambda name: "ceiling_durable_postgresql"),
        "",
        "Every committed record's event (both loads) in its server's queue at the end: "
        + "; ".join(queues)
        + ".",
        "",
    ]


#: The HTTP part's own parts, each rendered when the run has it.
HTTP_SECTIONS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "create": create_section,
    "reads": reads_section,
    "growth": growth_section,
    "sustained": sustained_section,
    "processes": processes_section,
}

SECTIONS = {
    "http": lambda r: [
        line for part, render in HTTP_SECTIONS.items() if part in r for line in render(r[part])
    ],
    "drain": drain_section,
    "e2e": e2e_section,
    "dispatch": dispatch_section,
}


def header(document: dict[str, Any]) -> list[str]:
    box = document["machine"]
    return [
        "# Benchmarks",
        "",
        f"Generated by `{document['command']}` ({document['mode']} mode,"
        f" {document['elapsed_seconds']} s) on {box['date']}: {box['cores']} cores, {box['cpu']},"
        f" Python {box['python']}, {box['wrk']}. Everything on 127.0.0.1; a private"
        " redis-server; SQLite (WAL, synchronous=NORMAL) and PostgreSQL (a schema per case on"
        " the local server); waitress threads = 4.",
        "",
        "Figures: median (min-max) over the runs. Ratios compare medians with the ceiling"
        " measured in the same run. Settings of this run:"
        f" `{json.dumps(document['settings'])}`.",
        "",
    ]


def write_report(document: dict[str, Any], path: Path) -> None:
    lines = header(document) + targets_section(document["results"])
    for part, render in SECTIONS.items():
        if part in document["results"]:
            lines += render(document["results"][part])
    if NOTES.exists():
        lines += [NOTES.read_text()]
    path.write_text("\n".join(lines).rstrip() + "\n")
