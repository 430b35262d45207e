"""ctest entry of the model test (label `model`): three fixed seeds and one
fresh seed, about fifteen seconds each, against the built binaries.

The fixed seeds replay the same histories on every run; the fresh one is
printed, so a failure it finds can be replayed with scripts/model --seed S.
Exit 77 (ctest: skipped) when no test PostgreSQL is configured.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model  # noqa: E402

FIXED_SEEDS = ['101', '202', '303']

if __name__ == '__main__':
    args = ['--history-seconds', '15', '--shrink-seconds', '0', '--quiet', '--fresh', '1']
    for s in FIXED_SEEDS:
        args += ['--seed', s]
    sys.exit(model.main(args))
