"""Run the simulator benchmarks in one go, print a table, refresh ``benchmarks/RESULTS.md``.

    uv run python -m benchmarks.run            # everything (about ten minutes)
    uv run python benchmarks/run.py --only core --profile
    uv run python -m benchmarks.run --no-write # print only

Not part of the test suite: nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    bench_core,
    bench_legs,
    bench_memory,
    bench_opportunities,
    bench_reaction,
    bench_rest,
    bench_scan,
    bench_ws,
)
from benchmarks.machine import MachineWatch, load_average, machine_info  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN = "<!-- figures:begin (written by `python -m benchmarks.run`; edits here are lost) -->"
END = "<!-- figures:end -->"

# name -> (target text, predicate on the results)
TARGET_REST = "server CPU/order <= ccxt client CPU/order"
TARGET_CORE = 20_000
TARGET_WS = 2_000
TARGET_MODEL_MS = 50.0
TARGET_LEGS_MS = 5.0
TARGET_REACTION_MS = 500.0
TARGET_MEMORY_GROWTH = 0.10
ALL = ("rest", "core", "ws", "model", "scan", "legs", "reaction", "memory")


def _f(x: float, digits: int = 2) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    return f"{x:,.{digits}f}"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def rows(res: dict[str, Any]) -> list[tuple[str, str, str, str, bool | None]]:
    """(benchmark, measure, value, target, ok) for the table and the markdown."""
    out: list[tuple[str, str, str, str, bool | None]] = []
    r = res.get("rest")
    if r:
        ok = r["server_handler_cpu_ms"] <= r["client_cpu_ms"]
        out += [
            ("1 REST order (ccxt, loopback)", f"round trip p50 / p99 ({r['orders']} orders)",
             f"{_f(r['p50_ms'])} / {_f(r['p99_ms'])} ms", "", None),
            ("", "orders/s, one at a time (HTTP requests per order)",
             f"{_f(r['orders_per_s'], 0)} ({_f(r['requests'] / r['orders'])})", "", None),
            ("", "ccxt client CPU per order", f"{_f(r['client_cpu_ms'], 3)} ms", "", None),
            ("", "sim handler CPU per order (server_time_s)",
             f"{_f(r['server_handler_cpu_ms'], 3)} ms", "", None),
            ("", "sim handler / client CPU", f"{_f(r['handler_to_client'])}", "<= 1.00", ok),
            ("", "sim whole-process CPU per order (incl. aiohttp)",
             f"{_f(r['server_process_cpu_ms'], 3)} ms "
             f"({_f(r['process_to_client'])}x client)", "", None),
        ]
    c = res.get("core")
    if c:
        ok = c["orders_per_s_best"] >= TARGET_CORE
        out += [
            ("2 Matching core (no HTTP)",
             f"orders/s, best of {c['rounds']} rounds x {c['orders']:,} orders",
             _f(c["orders_per_s_best"], 0), f">= {TARGET_CORE:,}", ok),
            ("", "orders/s, median round (wall / per CPU-second)",
             f"{_f(c['orders_per_s'], 0)} / {_f(c['orders_per_cpu_s'], 0)}", "", None),
            ("", "microseconds per order (best round)",
             _f(1e6 / c["orders_per_s_best"], 1), "", None),
            ("", "every order filled in full", "yes" if c["all_filled"] else "NO", "", None),
        ]
    for key, label in (("ws_price", "price moves: every level shifts"),
                       ("ws_trades", "taker fills: top levels change")):
        w = res.get(key)
        if not w:
            continue
        first = key == "ws_price" or "ws_price" not in res
        ok = w["updates_per_s"] >= TARGET_WS
        cap = 1e3 / max(w["client_cpu_ms_per_update"], w["server_cpu_ms_per_update"])
        out += [
            ("3 WebSocket books -> 1 ccxt.pro watcher" if first else "",
             f"{label}: updates/s delivered ({w['seconds']:g} s)",
             _f(w["updates_per_s"], 0), f">= {TARGET_WS:,}", ok),
            ("", "  level changes per update message", _f(w["levels_per_update"], 1), "", None),
            ("", "  watch_order_book returns/s", _f(w["returns_per_s"], 0), "", None),
            ("", "  CPU per update: client / sim",
             f"{_f(w['client_cpu_ms_per_update'], 3)} / "
             f"{_f(w['server_cpu_ms_per_update'], 3)} ms", "", None),
            ("", "  CPU-bound capacity (1 core per side)", f"{_f(cap, 0)}/s", "", None),
            ("", "  seqId breaks / slow-consumer drops / stalls",
             f"{w['nonce_errors']} / {w['slow_drops']} / {int(w['stalled'])}", "", None),
        ]
    m = res.get("model")
    if m:
        t = m["typical"]
        ok = t["min_ms"] <= TARGET_MODEL_MS
        out += [
            ("4 Opportunity model (pure)",
             f"{m['pairs']} swaps, both legs {m['levels']}-level books: best / median",
             f"{_f(t['min_ms'], 1)} / {_f(t['median_ms'], 1)} ms", f"<= {TARGET_MODEL_MS:g} ms",
             ok),
            ("", "  CPU median", f"{_f(t['cpu_median_ms'], 1)} ms", "", None),
        ]
        deep = m.get("deep")
        if deep:
            out.append(("", "  stress: every walk crosses the whole book (best)",
                        f"{_f(deep['min_ms'], 1)} ms", "", None))
    sc = res.get("scan")
    if sc:
        out += [
            ("5 Scan end to end (real OKX limits)",
             f"{sc['coins']} swaps, {sc['books']} books, +{sc['latency_ms']} ms per request",
             f"{_f(sc['laicai_s'])} s", "", None),
            ("", "  naive sequential fetch", f"{_f(sc['naive_s'])} s", "", None),
            ("", "  speed-up (naive / laicai)", f"{_f(sc['speedup'], 1)}x", "", None),
            ("", "  50011 answers: laicai / naive",
             f"{sc['laicai_50011']} / {sc['naive_50011']}", "0 / 0",
             sc["laicai_50011"] == 0),
        ]
    lg = res.get("legs")
    if lg:
        ok = lg["laicai_p99_ms"] <= TARGET_LEGS_MS
        out += [
            ("6 Leg skew of a carry open (loopback)",
             f"laicai (legs gathered): p50 / p99 over {lg['opens']:,} opens",
             f"{_f(lg['laicai_p50_ms'], 3)} / {_f(lg['laicai_p99_ms'], 3)} ms",
             f"p99 <= {TARGET_LEGS_MS:g} ms", ok),
            ("", "  sequential submission (spot, then perp): p50 / p99",
             f"{_f(lg['seq_p50_ms'], 3)} / {_f(lg['seq_p99_ms'], 3)} ms", "", None),
            ("", "  ratio sequential / laicai: p50 / p99",
             f"{_f(lg['ratio_p50'])}x / {_f(lg['ratio_p99'])}x", "", None),
            ("", "  end-to-end open latency (CarryExecutor.open): p50 / p99",
             f"{_f(lg['open_p50_ms'], 1)} / {_f(lg['open_p99_ms'], 1)} ms", "", None),
        ]
    rc = res.get("reaction")
    if rc:
        ok = rc["p99_ms"] <= TARGET_REACTION_MS
        out += [
            ("7 Reaction to a mark-price push (bot)",
             f"push crossing the reset threshold -> first protective order: p50 / p99 "
             f"({rc['measured']} trials)",
             f"{_f(rc['p50_ms'], 1)} / {_f(rc['p99_ms'], 1)} ms",
             f"p99 <= {TARGET_REACTION_MS:g} ms", ok),
            ("", "  max / mean", f"{_f(rc['max_ms'], 1)} / {_f(rc['mean_ms'], 1)} ms", "", None),
            ("", "  baseline: 45 s polling, mean / p99 (uniform phase)",
             f"{_f(rc['baseline_mean_s'], 1)} / {_f(rc['baseline_p99_s'], 2)} s", "", None),
            ("", "  speed-up over the baseline (means)", f"{_f(rc['speedup_mean'], 0)}x",
             "", None),
            ("", "  actions / caught by the periodic check first",
             f"{', '.join(f'{k} {v}' for k, v in rc['actions'].items())} / {rc['by_poll']}",
             "", None),
        ]
    mem = res.get("memory")
    if mem:
        mib = 1024 * 1024
        d1, dn = mem["day1"], mem["last"]
        ok = mem["rss_growth"] <= TARGET_MEMORY_GROWTH
        out += [
            ("8 Bot memory, day 1 vs day N (same run)",
             f"RSS after day 1 / day {mem['days']} ({mem['scenario']})",
             f"{_f(d1['rss'] / mib, 1)} / {_f(dn['rss'] / mib, 1)} MiB "
             f"({mem['rss_growth']:+.1%})", f"<= +{TARGET_MEMORY_GROWTH:.0%}", ok),
            ("", "  Python heap allocated since start (tracemalloc)",
             f"{_f(d1['traced'] / mib)} / {_f(dn['traced'] / mib)} MiB "
             f"({mem['traced_growth']:+.1%})", "", None),
            ("", f"  Python heap, day {mem['mid_day']} -> {mem['days']} (warm-up or leak?)",
             f"{_f(mem['mid']['traced'] / mib)} / {_f(dn['traced'] / mib)} MiB "
             f"({mem['late_growth']:+.1%})", "", None),
            ("", "  objects tracked by the GC",
             f"{d1['gc_objects']:,} / {dn['gc_objects']:,} ({mem['objects_growth']:+.1%})",
             "", None),
            ("", "  carries opened / closed / reset; wall time",
             f"{mem['counts']['opened']} / {mem['counts']['closed']} / "
             f"{mem['counts']['resets']}; {_f(mem['wall_s'], 0)} s", "", None),
        ]
    return out


def print_table(res: dict[str, Any], info: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    table = Table(title="laicai simulator benchmarks", show_lines=False)
    for col in ("benchmark", "measure", "value", "target", "result"):
        table.add_column(col, no_wrap=col != "measure")
    for bench, measure, value, target, ok in rows(res):
        style = {True: "bold green", False: "bold red"}.get(ok) if ok is not None else None
        table.add_row(bench, measure, value, target,
                      f"[{style}]{_verdict(ok)}[/]" if style else "")
    console.print(table)
    console.print(", ".join(f"{k}: {v}" for k, v in info.items()), highlight=False)


def markdown(res: dict[str, Any], info: dict[str, Any]) -> str:
    lines = [
        BEGIN,
        "",
        f"Measured {info['date']} on {info['cpu']}, {info['cores']}, {info['os']}; "
        f"{info['python']}, ccxt {info['ccxt']}, aiohttp {info['aiohttp']}. "
        f"Load average before the run: {info['load_before']}, after: "
        f"{info.get('load_after', 'n/a')}; during the run other processes used "
        f"{info.get('others_busy', 'n/a')} of all CPUs and the hypervisor stole "
        f"{info.get('steal', 'n/a')}.",
        "",
        "| benchmark | measure | value | target | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for bench, measure, value, target, ok in rows(res):
        verdict = "" if ok is None else f"**{_verdict(ok)}**"
        lines.append(f"| {bench} | {measure} | {value} | {target} | {verdict} |")
    lines += ["", END]
    return "\n".join(lines)


def write_results(block: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if BEGIN in text and END in text:
        head = text[: text.index(BEGIN)]
        tail = text[text.index(END) + len(END):]
        text = head + block + tail
    else:
        text = "# Simulator benchmark results\n\n## Figures\n\n" + block + "\n" + text
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=ALL, action="append",
                    help="run only these (repeatable); default: all")
    ap.add_argument("--orders", type=int, default=500, help="REST orders (default 500)")
    ap.add_argument("--core-orders", type=int, default=50_000)
    ap.add_argument("--core-rounds", type=int, default=5)
    ap.add_argument("--ws-seconds", type=float, default=5.0)
    ap.add_argument("--opens", type=int, default=1000, help="carry opens for legs (default 1000)")
    ap.add_argument("--trials", type=int, default=100,
                    help="reaction trials (default 100)")
    ap.add_argument("--memory-days", type=int, default=30,
                    help="simulated days of the memory benchmark (default 30)")
    ap.add_argument("--profile", action="store_true",
                    help="also print cProfile hotspots of the core and the WebSocket server "
                         "(slows the WebSocket benchmark; RESULTS.md is not written)")
    ap.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = ap.parse_args(argv)
    only = set(args.only or ALL)
    info = machine_info()
    watch = MachineWatch()
    res: dict[str, Any] = {}
    from rich.console import Console

    console = Console(stderr=True)
    if "core" in only:
        console.print("[dim]matching core ...[/]")
        res["core"] = bench_core.run(args.core_orders, args.core_rounds)
        if args.profile:
            console.print(bench_core.profile(args.core_orders), markup=False, highlight=False)
    if "rest" in only:
        console.print("[dim]ccxt REST orders ...[/]")
        res["rest"] = bench_rest.run(args.orders)
    if "ws" in only:
        for mode in ("price", "trades"):
            console.print(f"[dim]WebSocket books ({mode}) ...[/]")
            w = bench_ws.run(mode, args.ws_seconds, profile=args.profile)
            prof = w["drive"].pop("profile", "")
            if prof:
                console.print(f"simulator process, {mode}:\n{prof}", markup=False,
                              highlight=False)
            res[f"ws_{mode}"] = w
    if "model" in only:
        console.print("[dim]opportunity model ...[/]")
        res["model"] = bench_opportunities.run()
    if "scan" in only:
        console.print("[dim]scan end to end ...[/]")
        res["scan"] = bench_scan.run()
    if "legs" in only:
        console.print("[dim]leg skew of carry opens ...[/]")
        res["legs"] = bench_legs.run(args.opens)
    if "reaction" in only:
        console.print("[dim]reaction to a mark-price push ...[/]")
        res["reaction"] = bench_reaction.run(args.trials)
    if "memory" in only:
        console.print(f"[dim]bot memory over {args.memory_days} simulated days ...[/]")
        res["memory"] = bench_memory.run(args.memory_days)
    info["load_after"] = load_average()
    info.update(watch.report())
    print_table(res, info)
    partial = only != set(ALL)
    if args.no_write:
        pass
    elif partial or args.profile:  # profiling slows the WebSocket server: not comparable
        console.print("[dim]partial or profiled run: RESULTS.md left as it was[/]")
    else:
        write_results(markdown(res, info))
        console.print(f"[dim]figures written to {RESULTS.relative_to(ROOT)}[/]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
