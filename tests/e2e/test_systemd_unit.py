#!/usr/bin/python3
"""The shipped systemd unit is valid and stays hardened.

`systemd-analyze verify` checks the unit's syntax and that its commands
exist. /usr/sbin/dormantd is not installed on a build machine, so we verify a
copy (same file name, so the unit name matches) whose ExecStart= points at the
built binary ($DORMANTD), falling back to /bin/true when it has not been built.
--man=no: the Documentation= man pages are installed with the package, not
here. Everything else in the copy is byte-for-byte the shipped unit.

`systemd-analyze security --offline=true` scores the exposure of the unit as
shipped; 1.5 is the ceiling we promise (0 = fully locked down, 10 = none).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

UNIT = os.path.join(harness.SOURCE_DIR, 'systemd', 'dormantd.service')
MAX_EXPOSURE = 1.5


@unittest.skipUnless(shutil.which('systemd-analyze'), 'systemd-analyze is not installed')
class SystemdUnit(unittest.TestCase):

    def run_analyze(self, *args):
        return subprocess.run(['systemd-analyze'] + list(args), capture_output=True,
                              text=True, timeout=120)

    def test_verify_clean(self):
        with open(UNIT) as f:
            text = f.read()
        binary = harness.DORMANTD if os.access(harness.DORMANTD, os.X_OK) else '/bin/true'
        copy, n = re.subn(r'^ExecStart=/usr/sbin/dormantd\b', 'ExecStart=' + binary, text,
                          flags=re.M)
        self.assertEqual(n, 1, 'the unit must start /usr/sbin/dormantd exactly once')
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'dormantd.service')
            with open(path, 'w') as f:
                f.write(copy)
            r = self.run_analyze('verify', '--man=no', path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual((r.stdout + r.stderr).strip(), '',
                         'systemd-analyze verify complained')

    def test_security_exposure(self):
        r = self.run_analyze('security', '--offline=true', '--no-pager', UNIT)
        out = r.stdout + r.stderr
        m = re.search(r'Overall exposure level for dormantd\.service:\s*([0-9.]+)', out)
        self.assertIsNotNone(m, 'no exposure score in:\n' + out)
        score = float(m.group(1))
        print('exposure %.1f (ceiling %.1f)' % (score, MAX_EXPOSURE), file=sys.stderr)
        self.assertLessEqual(score, MAX_EXPOSURE, out)

    def test_service_contract(self):
        """The settings the daemon's behaviour depends on (DESIGN.md §4)."""
        with open(UNIT) as f:
            settings = re.findall(r'^(\w+)=(.*)$', f.read(), flags=re.M)
        got = {}
        for k, v in settings:
            got.setdefault(k, []).append(v.strip())
        self.assertEqual(got.get('Type'), ['notify'])
        self.assertEqual(got.get('NotifyAccess'), ['main'])
        self.assertEqual(got.get('ExecReload'), ['/bin/kill -HUP $MAINPID'])
        self.assertEqual(got.get('ExecStart'), ['/usr/sbin/dormantd -c /etc/dormant/dormant.conf'])
        self.assertIn('WatchdogSec', got)
        families = set(' '.join(got.get('RestrictAddressFamilies', [])).split())
        self.assertTrue({'AF_UNIX', 'AF_INET', 'AF_INET6'} <= families,
                        'PostgreSQL, webhooks and SMTP need unix and IP sockets')
        self.assertNotIn('PrivateNetwork', [k for k, v in settings if v == 'yes'])


if __name__ == '__main__':
    harness.main()
