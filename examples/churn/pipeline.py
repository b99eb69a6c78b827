"""Run stages of the churn pipeline: ``python pipeline.py STAGE [STAGE ...] --data-dir DIR``.

Each invocation is one OS process; run the stages in one go (``all``) or spread them over
several processes, in order. Runs are logged to the store under ``MLTRACE_HOME``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import stages

STAGES = {
    "ingest": stages.ingest,
    "clean": stages.clean,
    "featurize": stages.featurize,
    "train": stages.train,
    "predict": stages.predict,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stages", nargs="+", choices=[*STAGES, "all"], metavar="STAGE",
                        help=f"stages to run, in order: {', '.join(STAGES)}, or all")
    parser.add_argument("--data-dir", type=Path, required=True, help="where the files go")
    parser.add_argument("--customers", type=int, default=500, help="customers to ingest")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic data")
    args = parser.parse_args(argv)
    names = list(STAGES) if "all" in args.stages else args.stages
    for name in names:
        if name == "ingest":
            stages.ingest(args.data_dir, args.customers, args.seed)
        else:
            STAGES[name](args.data_dir)


if __name__ == "__main__":
    main()
