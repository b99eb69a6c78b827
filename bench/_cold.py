"""Wall time of fresh processes, as a user starts them from a shell."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def cold_ms(home: Path, command: list[str], samples: int) -> list[float]:
    """Wall milliseconds of ``samples`` fresh processes running ``command`` on the store in
    ``home``, after one untimed run: it caches the bytecode of modules edited since their last
    compile, as an installed package has it (PYTHONDONTWRITEBYTECODE, which some sandboxes
    set, would make every start compile them again)."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONDONTWRITEBYTECODE", "MLTRACE_BACKEND")}
    environment["MLTRACE_HOME"] = str(home)
    subprocess.run(command, env=environment, check=True, capture_output=True)
    latencies = []
    for _ in range(samples):
        start = time.perf_counter()
        subprocess.run(command, env=environment, check=True, capture_output=True)
        latencies.append((time.perf_counter() - start) * 1e3)
    return latencies
