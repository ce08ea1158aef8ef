"""`make bench`: runs every available benchmark module, prints metric / value / target / ok, and writes
var/bench/results.json (a flat object: metric name -> number) and var/bench/settings.json (how it was run).

Modules: bench.http_bench (ours, needs wrk), and any of OTHER_MODULES present, each exposing
`run() -> dict[str, float]` (and optionally TARGETS: {metric: (">=" | "<=", number)}).

    python -m bench [--quick] [--duration S] [--concurrency N] [--workers N] [--rounds N] [--only NAME ...]
                    [--scale X] [--day-seconds S] [--no-peers] [--rooms-shared]

`--only day` is the community-day workload (bench/day_bench.py). With --only, results.json keeps the keys of
modules that did not run this time (settings.json's "kept_keys" lists them), so one file follows every metric.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from bench import day_bench, http_bench

OTHER_MODULES = ["bench.safety_bench", "bench.ws_bench", "bench.mail_bench"]

TARGETS: dict[str, tuple[str, float]] = {
    "http.thread.ratio_b1": (">=", 0.5),
    "http.thread.p99_ms": ("<=", 100.0),
    "db.category.ratio_1m_10k": ("<=", 1.5),
    "db.search.ratio_1m_10k": ("<=", 2.0),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (3 s, one round): a smoke test, not numbers")
    parser.add_argument("--duration", type=float, help="seconds per measurement (default 10)")
    parser.add_argument("--concurrency", type=int, help="wrk connections (default 32)")
    parser.add_argument("--workers", type=int, help="server worker processes (default 1: per-process numbers)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds, medians taken (default 2)")
    parser.add_argument("--only", nargs="*", metavar="NAME",
                        help="modules to run: http, db, safety, ws, mail, day (default: all)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="day: size of the generated community (1 = 1,000,000 posts; 0.02 to develop)")
    parser.add_argument("--day-seconds", type=float, help="day: seconds of the day mix per round (default 60)")
    parser.add_argument("--day-groups", nargs="+", metavar="GROUP", default=(),
                        help="day: only these groups of the mix (e.g. journal reply), to profile their cost")
    parser.add_argument("--no-peers", action="store_true", help="day: skip the peers (Spirit)")
    parser.add_argument("--rooms-shared", action="store_true",
                        help="day: the room sockets on the page process (default: a process of their own, as deployed)")
    parser.add_argument("--keep", action="store_true", help="keep the bench_* databases afterwards")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def http_options(args: argparse.Namespace) -> http_bench.Options:
    options = http_bench.Options()
    if args.quick:
        options.duration, options.warmup, options.rounds = 3.0, 1.0, 1
    for name in ("duration", "concurrency", "workers", "rounds"):
        value = getattr(args, name)
        if value is not None:
            setattr(options, name, value)
    options.keep = args.keep
    return options


def day_options(args: argparse.Namespace) -> day_bench.DayOptions:
    options = day_bench.DayOptions(scale=args.scale, peers=not args.no_peers, groups=tuple(args.day_groups),
                                   rooms_shared=args.rooms_shared, keep=args.keep)
    day_bench.mix_of(options.groups)
    if args.quick:
        options.duration, options.warmup, options.peer_duration, options.rounds = 10.0, 3.0, 3.0, 1
    if args.day_seconds is not None:
        options.duration = args.day_seconds
    for name in ("concurrency", "rounds"):
        if getattr(args, name) is not None:
            setattr(options, name, getattr(args, name))
    return options


def write_results(out, results: dict[str, float], only: bool, settings: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """results.json; with --only, the previous file's other keys are kept (and listed in settings)."""
    merged = dict(results)
    if only and (out / "results.json").exists():
        try:
            previous = json.loads((out / "results.json").read_text())
        except ValueError:
            previous = {}
        kept = sorted(set(previous) - set(results))
        merged = {**{k: previous[k] for k in kept}, **results}
        settings["kept_keys"] = kept
    (out / "results.json").write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")


def verdict(metric: str, value: float, targets: dict[str, tuple[str, float]]) -> tuple[str, str]:
    if metric not in targets:
        return "", ""
    op, bound = targets[metric]
    ok = value >= bound if op == ">=" else value <= bound
    return f"{op} {bound:g}", "ok" if ok else "MISS"


def print_table(results: dict[str, float], targets: dict[str, tuple[str, float]], notes: list[str]) -> list[str]:
    rows = [(m, f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}", *verdict(m, v, targets))
            for m, v in sorted(results.items())]
    missing = [m for m in targets if m not in results]
    rows += [(m, "-", *verdict(m, math.nan, targets)[:1], "skipped") for m in sorted(missing)]
    headers = ("metric", "value", "target", "ok")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print()
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    if notes:
        print("\nnotes:")
        for note in notes:
            print(f"  - {note}")
    return [r[0] for r in rows if r[3] == "MISS"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = set(args.only or ["http", "db", "safety", "ws", "mail", "day"])
    results: dict[str, float] = {}
    targets = dict(TARGETS)
    notes: list[str] = []
    settings: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                                "python": platform.python_version(), "machine": platform.machine(),
                                "argv": sys.argv[1:]}
    options = http_options(args)
    started = time.monotonic()

    def collect(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        print(f"== {name}", flush=True)
        try:
            produced = fn()
        except Exception as exc:  # one broken module must not hide the others' numbers
            traceback.print_exc()
            notes.append(f"{name}: failed: {type(exc).__name__}: {exc}"[:300])
            return
        results.update({k: float(v) for k, v in produced.items() if isinstance(v, int | float)})

    if "http" in only:
        collect("http", lambda: http_bench.run(options))
    if "db" in only:
        collect("db", lambda: http_bench.run_db_scaling(options))
    if "day" in only:
        targets.update(day_bench.TARGETS)
        collect("day", lambda: day_bench.run(day_options(args)))
        settings["day"] = day_bench.SETTINGS
        notes.extend(day_bench.NOTES)
    notes.extend(http_bench.NOTES)
    settings.update(http_bench.SETTINGS)
    for module_name in OTHER_MODULES:
        short = module_name.rsplit(".", 1)[-1].removesuffix("_bench")
        if short not in only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            notes.append(f"{short}: skipped: {module_name} does not exist yet")
            continue
        targets.update(getattr(module, "TARGETS", {}) or {})
        collect(short, module.run)
        if getattr(module, "SETTINGS", None):
            settings[short] = module.SETTINGS

    settings["seconds"] = round(time.monotonic() - started, 1)
    settings["notes"] = notes
    out = http_bench.BENCH_DIR
    out.mkdir(parents=True, exist_ok=True)
    write_results(out, results, bool(args.only), settings)
    (out / "settings.json").write_text(json.dumps(settings, indent=2, default=str) + "\n")
    missed = print_table(results, targets, notes)
    print(f"\nwrote {out / 'results.json'} and {out / 'settings.json'}")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
