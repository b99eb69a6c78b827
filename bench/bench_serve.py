"""Cold `mltrace` CLI commands on a store of SDK-logged runs, without a server and through a
running `mltrace serve` (which runs store commands for local processes), beside the floors
measured in the same run: `python -c "import chdb"` (what a CLI opening the store cannot go
under) and `python -c "import http.client"` (a bare interpreter that could talk to a server).

    python bench/bench_serve.py [--runs 1000000] [--samples 10] [--home DIR]

``--home DIR`` keeps the store in DIR and reuses it on the next run of the same size.
"""

from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cold import cold_ms
from _scratch import scratch_dir
from _sdk_store import chain_output, reuse_or_build
from _table import markdown_table, percentile

from mltrace_otel import state
from mltrace_otel.server import discovery

LOCAL_TARGET_MS = 500.0
SERVED_TARGET_MS = 200.0
_SCRIPT = Path(sys.executable).with_name("mltrace")
MLTRACE = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "mltrace_otel.cli"]
"""The installed ``mltrace`` script, as a user runs it (``python -m`` where there is none)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(home: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([*MLTRACE, "serve", "--home", str(home), "--port",
                                str(free_port()), "--otlp-port", "0"], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while discovery.running_server(home) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("mltrace serve did not start")
        time.sleep(0.2)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    home = args.home or scratch_dir("serve")
    built = reuse_or_build(home, args.runs)
    state.store().close()
    chains = args.runs // 10
    commands = {
        "trace": ["trace", chain_output(random.randrange(chains)), "--json"],
        "recent": ["recent", "--json"],
    }
    floors = {
        "import chdb": cold_ms(home, [sys.executable, "-c", "import chdb"], args.samples),
        "import http.client": cold_ms(home, [sys.executable, "-c", "import http.client"],
                                      args.samples),
    }
    local = {name: cold_ms(home, [*MLTRACE, *command], args.samples)
             for name, command in commands.items()}
    server = start_server(home)
    try:
        served = {name: cold_ms(home, [*MLTRACE, *command], args.samples)
                  for name, command in commands.items()}
    finally:
        server.terminate()
        server.wait(timeout=120)
    rows, verdicts = [], []
    for name in commands:
        here, there = percentile(local[name], 0.5), percentile(served[name], 0.5)
        rows.append((f"mltrace {name}", f"{here:.0f}",
                     f"{percentile(floors['import chdb'], 0.5):.0f}", f"{there:.0f}",
                     f"{percentile(floors['import http.client'], 0.5):.0f}"))
        verdicts.append(f"{name} without a server <= {LOCAL_TARGET_MS:.0f} ms: {here:.0f} ms -> "
                        f"{'met' if here <= LOCAL_TARGET_MS else 'missed'}; through mltrace serve "
                        f"<= {SERVED_TARGET_MS:.0f} ms: {there:.0f} ms -> "
                        f"{'met' if there <= SERVED_TARGET_MS else 'missed'}")
    print(f"cold CLI ({' '.join(Path(part).name for part in MLTRACE)}) at {args.runs:,} "
          f"SDK-logged runs ({built}); p50 of {args.samples} processes each\n")
    print(markdown_table(["command", "no server ms", "floor: import chdb ms",
                          "through mltrace serve ms", "floor: import http.client ms"], rows))
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
