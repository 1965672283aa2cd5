"""A fork server for the SIGKILL test: imports laicai's command line once, then forks one
process per ``laicai ...`` command it is sent.

Each child is a real, separate process running ``laicai.cli.app:main`` with its own
``sys.argv``, exactly as the ``laicai`` console script does (``laicai sim ...``,
``laicai run ...``), with its output in a file of its own. Forking only skips the interpreter
start and the imports (ccxt alone costs seconds of CPU on a busy machine), which is what lets
the test kill and restart the bot dozens of times within its budget. Children die with the
server (``PR_SET_PDEATHSIG``) and the server dies with the test process, so nothing outlives
a test that is itself killed.

Protocol: one JSON object per line on stdin, one answer per line on stdout.
``{"cmd": "spawn", "argv": [...], "log": path, "cwd": path}`` -> ``{"pid": n}``;
``{"cmd": "reap", "pid": n}`` -> ``{"pid": n, "exit": code, "cpu": seconds}`` (``null``
while it runs; a signal ``s`` is ``-s``). The server's first line is ``{"ready": true}``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from typing import Any

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _child(req: dict[str, Any]) -> None:
    code = 1
    try:
        die_with_parent()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        out = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir(req["cwd"])
        sys.argv = ["laicai", *(str(a) for a in req["argv"])]
        from laicai.cli.app import main  # the `laicai` console script

        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _reap(pid: int) -> tuple[int | None, float]:
    """(exit code or None while it runs, CPU seconds it used)."""
    try:
        done, status, usage = os.wait4(pid, os.WNOHANG)
    except ChildProcessError:
        return -255, 0.0  # not ours, or reaped before
    if done == 0:
        return None, 0.0
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def main() -> None:
    die_with_parent()
    import importlib

    # every command's imports, paid once (some are imported lazily, when first needed)
    for module in ("laicai.cli.app", "laicai.sim.server.app", "laicai.notify", "aiosqlite",
                   "sqlite3", "rich.progress", "rich.syntax"):
        importlib.import_module(module)

    children: set[int] = set()

    def answer(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()  # nothing may sit in the buffer when the next child is forked

    answer({"ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req["cmd"] == "spawn":
            pid = os.fork()
            if pid == 0:
                _child(req)
            children.add(pid)
            answer({"pid": pid})
        elif req["cmd"] == "reap":
            code, cpu = _reap(int(req["pid"]))
            if code is not None:
                children.discard(int(req["pid"]))
            answer({"pid": req["pid"], "exit": code, "cpu": round(cpu, 3)})
        else:
            answer({"error": f"unknown command {req['cmd']!r}"})
    for pid in children:  # stdin closed: the test is done (or gone)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass


if __name__ == "__main__":
    main()
