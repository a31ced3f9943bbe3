"""Small measuring helpers shared by the `pmrag bench` sections: the machine, load average,
percentiles, a stopwatch, and the peak memory of a child process.

Nothing here knows what is being measured; the sections (`rag.bench_ingest`,
`rag.bench_query`, `rag.bench_ann`, `rag.bench_memory`) decide that, and `rag.bench`
writes the report.
"""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def machine() -> dict[str, Any]:
    """Cores, memory and CPU model: every figure in the report is tied to these."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "machine_cores": os.cpu_count() or 0,
        "machine_cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0,
        "machine_memory_gb": round(_meminfo_kb("MemTotal") / 1048576, 1),
        "machine_cpu": cpu,
        "machine_os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def load_average() -> float:
    """1-minute load average: above the core count, other jobs were competing for the CPU."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else 0.0


class Stopwatch:
    """`with Stopwatch() as sw: ...` then `sw.seconds`."""

    def __enter__(self) -> Stopwatch:
        self._t0 = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    return _status_kb(Path("/proc/self/status"), "VmRSS") / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a live process, in MB."""
    return _status_kb(Path(f"/proc/{pid}/status"), "VmHWM") / 1024


def run_measured(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[int, float, float, str]:
    """Run `cmd` to completion: (exit code, wall seconds, peak RSS MB, last stderr lines).
    Peak RSS is the kernel's rusage of exactly that child (wait4), so neither this process
    nor other children leak into it."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        seconds = time.perf_counter() - t0
        err.seek(0)
        tail = "\n".join(err.read().strip().splitlines()[-3:])
    return proc.returncode, seconds, usage.ru_maxrss / 1024, tail


def _meminfo_kb(key: str) -> int:
    return _status_kb(Path("/proc/meminfo"), key)


def _status_kb(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0
