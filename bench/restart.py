"""Restart time: `python bench/restart.py DATABASE_URL [--workers 2]`.

Starts `dsom serve --workers N` on an existing database (such as the one
`bench/ingest.py --keep` leaves, with millions of operations) and prints how long it
took until every worker answered `/healthz`: each worker reads its organizers' ledger
heads and every stored operation id into memory first (docs/ingest.md). Then stops the
server. The workers' own "ingest state loaded" log lines (operations, seconds) follow.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import _free_port, _wait_ready, dsom_serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the database, e.g. sqlite:////tmp/dsom-bench-x/bench.db")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    port = _free_port()
    env = {**os.environ, "DSOM_DATABASE_URL": args.url, "DSOM_LOG_LEVEL": "info"}
    with tempfile.TemporaryFile("w+") as log:
        started = time.monotonic()
        with dsom_serve(port, args.workers, env, log):
            _wait_ready(port, args.workers, patience_s=600)
            print(f"{args.workers} workers answering after {time.monotonic() - started:.1f} s")
        log.seek(0)
        for line in log:
            if "ingest state loaded" in line:
                print(line.rstrip())


if __name__ == "__main__":
    main()
