"""The Debian package: built with dpkg-buildpackage from a copy of the tree,
checked by lintian, installed with dpkg -i on this machine, upgraded over an
edited configuration, purged.

It changes the machine (dpkg -i as root), so it runs only as root and says
SKIPPED otherwise; CI runs as root on a throwaway machine. An existing
/etc/dormant is moved aside for the test and put back afterwards. The tree
is compiled once; the upgrade is the same build repacked with a higher
version and a changed sample, which is what dpkg sees of a real upgrade."""

import glob
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

PKG = 'dormant'
CONF = '/etc/dormant/dormant.conf'
REQUIRED = ('dpkg-buildpackage', 'dh', 'dpkg-deb', 'dpkg')


def run(cmd, cwd=None, env=None, timeout=600, check=True):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise AssertionError('%s failed (%d):\n%s%s' % (' '.join(cmd), r.returncode,
                                                        r.stdout[-4000:], r.stderr[-4000:]))
    return r


def installed(pkg=PKG):
    r = run(['dpkg-query', '-W', '-f=${db:Status-Status}', pkg], check=False)
    return r.returncode == 0 and r.stdout.strip() not in ('', 'not-installed', 'config-files')


def unit_path():
    for p in ('/lib/systemd/system/dormantd.service', '/usr/lib/systemd/system/dormantd.service'):
        if os.path.exists(p):
            return p
    return None


def running_installed_daemon():
    """Pids of processes running /usr/sbin/dormantd (not the build's binary,
    which other tests run at the same time)."""
    pids = []
    for d in glob.glob('/proc/[0-9]*'):
        try:
            if os.readlink(d + '/exe') == '/usr/sbin/dormantd':
                pids.append(int(d[6:]))
        except OSError:
            pass
    return pids


def skip_reason():
    if os.geteuid() != 0:
        return 'the package test installs with dpkg -i and needs root'
    missing = [t for t in REQUIRED if shutil.which(t) is None]
    if missing:
        return 'missing %s (debhelper, dpkg-dev: scripts/test installs them)' % ', '.join(missing)
    if 'detect_leaks' in os.environ.get('ASAN_OPTIONS', ''):
        return ('the package is built from the tree, not from this sanitizer build:'
                ' scripts/test checks it in the plain pass')
    if installed():
        return ('a dormant package is installed on this machine; the test will not'
                ' touch it (dpkg --purge dormant to let it run)')
    return None


class Package(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        reason = skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.mkdtemp(prefix='dormant-deb.')
        cls.tree = os.path.join(cls.tmp, 'dormant')
        shutil.copytree(harness.SOURCE_DIR, cls.tree, symlinks=True,
                        ignore=shutil.ignore_patterns('.git', 'build', 'build-*', '*.deb',
                                                      '__pycache__', 'debian/.debhelper'))
        env = dict(os.environ, DEB_BUILD_OPTIONS='nocheck parallel=2')
        r = run(['dpkg-buildpackage', '-us', '-uc', '-b'], cwd=cls.tree, env=env, timeout=900)
        cls.build_log = r.stdout + r.stderr
        debs = [d for d in glob.glob(os.path.join(cls.tmp, 'dormant_*.deb'))]
        if len(debs) != 1:
            raise AssertionError('expected one dormant_*.deb, got %r' % debs)
        cls.deb = debs[0]
        cls.changes = glob.glob(os.path.join(cls.tmp, '*.changes'))[0]
        # Keep what the machine had in /etc/dormant out of the way.
        cls.saved_etc = None
        if os.path.lexists('/etc/dormant'):
            cls.saved_etc = os.path.join(cls.tmp, 'etc-dormant')
            shutil.move('/etc/dormant', cls.saved_etc)

    @classmethod
    def tearDownClass(cls):
        if installed() or run(['dpkg-query', '-W', PKG], check=False).returncode == 0:
            run(['dpkg', '--purge', PKG], check=False)
        if cls.saved_etc:
            shutil.rmtree('/etc/dormant', ignore_errors=True)
            shutil.move(cls.saved_etc, '/etc/dormant')
        if not os.environ.get('DM_KEEP_TMP'):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def deb_fields(self, deb):
        return run(['dpkg-deb', '-f', deb, 'Package', 'Version']).stdout

    def test_1_lintian_reports_no_error(self):
        if shutil.which('lintian') is None:
            self.skipTest('lintian is not installed')
        r = run(['lintian', '--allow-root', '--fail-on', 'error', '--tag-display-limit', '0',
                 self.changes], check=False, timeout=300)
        print(r.stdout + r.stderr, flush=True)
        self.assertEqual(r.returncode, 0, 'lintian found errors:\n' + r.stdout + r.stderr)
        self.assertNotRegex(r.stdout, r'(?m)^E: ')
        # Warnings left are explained in debian/README.lintian; none today.
        self.assertNotRegex(r.stdout, r'(?m)^W: ')

    def test_2_the_build_did_not_touch_the_source_tree(self):
        self.assertFalse(glob.glob(os.path.join(harness.SOURCE_DIR, 'debian', 'dormant')))
        self.assertFalse(glob.glob(os.path.join(harness.SOURCE_DIR, 'debian', '.debhelper')))
        self.assertFalse(glob.glob(os.path.join(harness.SOURCE_DIR, 'obj-*')))

    def test_3_install_reinstall_upgrade_purge(self):
        self.addCleanup(lambda: run(['dpkg', '--purge', PKG], check=False))
        run(['dpkg', '-i', self.deb])
        self.assertTrue(installed())

        # The files, where DESIGN §10 and the unit expect them.
        version = run(['/usr/sbin/dormantd', '--version']).stdout
        self.assertIn(run(['dpkg-deb', '-f', self.deb, 'Version']).stdout.strip(), version)
        self.assertEqual(run(['/usr/bin/dormantctl', '--help']).returncode, 0)
        unit = unit_path()
        self.assertIsNotNone(unit, 'dormantd.service installed')
        with open(unit) as f:
            self.assertIn('ExecStart=/usr/sbin/dormantd -c /etc/dormant/dormant.conf', f.read())
        for p in ('/usr/share/man/man8/dormantd.8.gz', '/usr/share/man/man1/dormantctl.1.gz',
                  '/usr/share/man/man5/dormant.conf.5.gz',
                  '/usr/share/dormant/templates/en/confirmation.requested.txt',
                  '/usr/share/dormant/templates/fr/page.html',
                  '/usr/share/dormant/templates/page.css',
                  '/usr/share/dormant/monitoring/dormant.rules.yml',
                  '/usr/share/dormant/monitoring/grafana-dashboard.json',
                  '/usr/share/doc/dormant/copyright', '/usr/share/doc/dormant/changelog.gz'):
            self.assertTrue(os.path.exists(p), p)
        # The installed binaries find the installed templates and sample.
        self.assertEqual(run(['/usr/sbin/dormantd', '--check-config']).stdout.strip(),
                         CONF + ': ok')

        # The configuration is a conffile.
        conffiles = run(['dpkg-query', '-W', '-f=${Conffiles}', PKG]).stdout
        self.assertIn(CONF, conffiles)
        with open(os.path.join(harness.SOURCE_DIR, 'etc', 'dormant.conf')) as f:
            sample = f.read()
        with open(CONF) as f:
            self.assertEqual(f.read(), sample)

        # Installed, neither enabled nor started.
        self.assertEqual(glob.glob('/etc/systemd/system/*.wants/dormantd.service'), [])
        self.assertEqual(running_installed_daemon(), [])

        # The operator edits the configuration; reinstalling keeps the edit.
        edited = sample + '\n# edited by the operator\ndry_run = true;\n'
        with open(CONF, 'w') as f:
            f.write(edited)
        run(['dpkg', '-i', self.deb])
        with open(CONF) as f:
            self.assertEqual(f.read(), edited, 'reinstall kept the edit')

        # An upgrade whose sample changed: dpkg keeps the operator's file
        # (as apt does when told to keep the local version) and leaves the
        # new sample beside it.
        newer = self.repack_newer()
        r = run(['dpkg', '--force-confdef', '--force-confold', '-i', newer])
        self.assertEqual(run(['dpkg-query', '-W', '-f=${Version}', PKG]).stdout, '0.2.0+upgradetest')
        with open(CONF) as f:
            self.assertEqual(f.read(), edited, 'upgrade kept the edit')
        with open(CONF + '.dpkg-dist') as f:
            self.assertIn('# a changed sample', f.read())

        # An upgrade over an untouched configuration takes the new sample
        # silently (dpkg's conffile rule).
        run(['dpkg', '--purge', PKG])
        run(['dpkg', '-i', self.deb])
        run(['dpkg', '--force-confdef', '--force-confold', '-i', newer])
        with open(CONF) as f:
            self.assertIn('# a changed sample', f.read())

        # Purge takes everything away, the configuration included.
        run(['dpkg', '--purge', PKG])
        self.assertFalse(installed())
        for p in ('/usr/sbin/dormantd', '/usr/bin/dormantctl', CONF, '/usr/share/dormant'):
            self.assertFalse(os.path.exists(p), p)
        self.assertIsNone(unit_path())

    def repack_newer(self):
        """The same build as version 0.2.0+upgradetest with a changed sample."""
        root = os.path.join(self.tmp, 'repack')
        shutil.rmtree(root, ignore_errors=True)
        run(['dpkg-deb', '-R', self.deb, root])
        conf = os.path.join(root, CONF.lstrip('/'))
        with open(conf, 'a') as f:
            f.write('\n# a changed sample\n')
        control = os.path.join(root, 'DEBIAN', 'control')
        with open(control) as f:
            text = f.read()
        with open(control, 'w') as f:
            f.write(re.sub(r'(?m)^Version: .*$', 'Version: 0.2.0+upgradetest', text))
        md5sums = os.path.join(root, 'DEBIAN', 'md5sums')
        if os.path.exists(md5sums):
            with open(conf, 'rb') as f:
                digest = hashlib.md5(f.read()).hexdigest()
            with open(md5sums) as f:
                lines = [ln if not ln.endswith(' ' + CONF.lstrip('/') + '\n')
                         else '%s  %s\n' % (digest, CONF.lstrip('/')) for ln in f]
            with open(md5sums, 'w') as f:
                f.writelines(lines)
        out = os.path.join(self.tmp, 'dormant_0.2.0+upgradetest_repack.deb')
        run(['dpkg-deb', '--root-owner-group', '-b', root, out])
        return out


if __name__ == '__main__':
    harness.main()
