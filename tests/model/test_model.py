"""ctest entry of the model test (label `model`): three fixed seeds and one
fresh seed, 25 seconds each, two at a time (a history mostly waits), against
the built binaries: about a minute.

The fixed seeds replay the same histories on every run (101: mail through a
real SMTP server and a crowd; 202: a webhook and a date activity column; 303:
the outbox and its mailer); the fresh one is printed, so a failure it finds
can be replayed with scripts/model --seed S.
Exit 77 (ctest: skipped) when no test PostgreSQL is configured.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model  # noqa: E402

FIXED_SEEDS = ['101', '202', '303']

if __name__ == '__main__':
    args = ['--history-seconds', '25', '--shrink-seconds', '0', '--quiet', '--fresh', '1',
            '--jobs', '2']
    for s in FIXED_SEEDS:
        args += ['--seed', s]
    sys.exit(model.main(args))
