"""What the figures were measured on."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from importlib import metadata
from typing import Any


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine_info() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    load = load_average()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical ({usable} usable)",
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "ccxt": _version("ccxt"),
        "aiohttp": _version("aiohttp"),
        "load_before": load,
    }


def _proc_stat() -> list[int] | None:
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    return [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal


def _own_cpu_s() -> float:
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the simulator processes, once joined
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class MachineWatch:
    """How busy the machine was with other work while the benchmarks ran: the share of all
    CPUs used by processes other than ours, and the share stolen by the hypervisor."""

    def __init__(self) -> None:
        self._stat = _proc_stat()
        self._own = _own_cpu_s()

    def report(self) -> dict[str, str]:
        end = _proc_stat()
        if self._stat is None or end is None:
            return {}
        d = [b - a for a, b in zip(self._stat, end, strict=True)]
        total = sum(d)
        if total <= 0:
            return {}
        hz = os.sysconf("SC_CLK_TCK")
        busy = total - d[3] - d[4]
        own = (_own_cpu_s() - self._own) * hz
        others = max(busy - own - d[7], 0)
        return {
            "others_busy": f"{100 * others / total:.0f}%",
            "steal": f"{100 * d[7] / total:.0f}%",
        }
