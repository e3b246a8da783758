"""``iqa-keras train CONFIG``: train (or resume) the run a config file describes.

``--workers N`` runs N local worker processes under ``train.strategy =
"multi_worker"`` (a generated ``TF_CONFIG`` on 127.0.0.1), to try multi-worker
training on one machine; see docs/distributed.md.
"""
from __future__ import annotations

import argparse
import sys


def _worker_command(args: argparse.Namespace, strategy: str) -> list[str]:
    """The command each worker runs: this one without ``--workers``, under the multi_worker strategy."""
    command = [sys.executable, "-m", "iqa_keras.cli", "train", args.config]
    if args.out:
        command += ["--out", args.out]
    for assignment in args.set:
        command += ["--set", assignment]
    if strategy != "multi_worker":
        command += ["--set", "train.strategy=multi_worker"]
    return command


def cmd_train(args: argparse.Namespace) -> int:
    from ..config import load_config

    config = load_config(args.config, args.set)  # a config error stops here, before any worker starts
    if args.workers is not None:
        from ..training.launch import run_local_workers

        print(f"Starting {args.workers} local workers (multi_worker strategy, TF_CONFIG on 127.0.0.1)")
        return run_local_workers(_worker_command(args, config.train.strategy), args.workers)
    from ..training import train

    train(config, args.out)
    return 0


def add_parser(sub) -> None:
    parser = sub.add_parser("train", help="train a model from a config file (resumes if interrupted)")
    parser.add_argument("config", help="config text file (TOML), e.g. configs/demo_fr_simple.toml")
    parser.add_argument("--out", help="run folder (default: the config's output.dir, else runs/<config name>)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=3 (repeatable)",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N",
        help="run N local worker processes with train.strategy = \"multi_worker\" (TF_CONFIG on 127.0.0.1); "
        "worker 0 writes the run folder",
    )
    parser.set_defaults(func=cmd_train)
