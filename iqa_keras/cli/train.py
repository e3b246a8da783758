"""``iqa-keras train CONFIG``: train (or resume) the run a config file describes."""
from __future__ import annotations

import argparse


def cmd_train(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..training import train

    train(load_config(args.config, args.set), args.out)
    return 0


def add_parser(sub) -> None:
    parser = sub.add_parser("train", help="train a model from a config file (resumes if interrupted)")
    parser.add_argument("config", help="config text file (TOML), e.g. configs/demo_fr_simple.toml")
    parser.add_argument("--out", help="run folder (default: the config's output.dir, else runs/<config name>)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=3 (repeatable)",
    )
    parser.set_defaults(func=cmd_train)
