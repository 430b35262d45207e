#!/usr/bin/python3
"""scripts/demo runs to the end: exit 0, the story told, nothing left behind.

Uses the binaries under test (DORMANTD, DORMANTCTL) and the test
PostgreSQL (--use-running-postgres), so it neither builds nor installs."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEMO = os.path.join(harness.SOURCE_DIR, 'scripts', 'demo')


class Demo(unittest.TestCase):

    @unittest.skipUnless(harness.have_pg(), 'PGHOST is not set (run through scripts/test)')
    def test_demo_runs_to_the_end(self):
        # A private TMPDIR: other test runs may be running demos of their own.
        tmp = tempfile.mkdtemp(prefix='dormant-demo-test.')
        self.addCleanup(shutil.rmtree, tmp, True)
        env = dict(os.environ, DORMANTD=harness.DORMANTD, DORMANTCTL=harness.DORMANTCTL,
                   TMPDIR=tmp)
        r = subprocess.run([DEMO, '--use-running-postgres'], capture_output=True, text=True,
                           env=env, timeout=300, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        out = r.stdout
        for step in ('subscribers asked', 'Two subscribers answer', 'starts watching again',
                     'dormantctl status', 'why was I suspended'):
            self.assertIn(step, out)
        self.assertRegex(out, r'is now active; billing_status = active')
        self.assertRegex(out, r'is now suspended; billing_status = suspended')
        self.assertRegex(out, r'why\s+no answer by the deadline')
        # Nothing left behind: no working directory, no database, no process.
        self.assertEqual(os.listdir(tmp), [])
        db = re.search(r'database (dormant_demo_\w+)', out).group(1)
        self.assertIsNone(harness.scalar(harness.admin_dsn(),
                                         'SELECT datname FROM pg_database WHERE datname = %s',
                                         (db,)))
        ps = subprocess.run(['pgrep', '-f', tmp], capture_output=True, text=True)
        self.assertEqual(ps.stdout.strip(), '')

if __name__ == '__main__':
    harness.main()
