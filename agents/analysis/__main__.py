"""``python -m agents.analysis RUN_DIR``: the same as ``memtasks analyze RUN_DIR``."""

import argparse
import sys

from agents.analysis.report import add_analyze_arguments, run_analyze

parser = argparse.ArgumentParser(prog="python -m agents.analysis",
                                 description="Analyse a training run or a model file: figures "
                                             "and analysis.json in RUN_DIR/analysis/.")
add_analyze_arguments(parser)
sys.exit(run_analyze(parser.parse_args()))
