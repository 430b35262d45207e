"""cmake --install: the configuration goes to /etc/dormant whatever the
prefix, and an edited configuration is never overwritten (DESIGN §10).

Installs the build tree that ctest runs (the directory of $DORMANTD) into a
temporary DESTDIR, twice, with an operator's edit in between."""

import os
import re
import subprocess
import tempfile
import unittest

import harness

BUILD_DIR = os.path.dirname(os.path.abspath(harness.DORMANTD))


def install(destdir, *args):
    env = dict(os.environ, DESTDIR=destdir)
    r = subprocess.run(['cmake', '--install', BUILD_DIR, *args], env=env,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError('cmake --install failed:\n' + r.stdout + r.stderr)
    return r.stdout


class Install(unittest.TestCase):

    def setUp(self):
        if not os.path.exists(os.path.join(BUILD_DIR, 'cmake_install.cmake')):
            self.skipTest('no build tree at %s' % BUILD_DIR)
        self.root = tempfile.mkdtemp(prefix='dormant-install.')
        self.addCleanup(subprocess.run, ['rm', '-rf', self.root])
        with open(os.path.join(harness.SOURCE_DIR, 'etc', 'dormant.conf')) as f:
            self.sample = f.read()

    def path(self, p):
        return os.path.join(self.root, p.lstrip('/'))

    def read(self, p):
        with open(self.path(p)) as f:
            return f.read()

    def test_layout_under_the_default_prefix(self):
        install(self.root)
        for p in ('/usr/sbin/dormantd', '/usr/bin/dormantctl',
                  '/etc/dormant/dormant.conf',
                  '/usr/share/dormant/dormant.conf.sample',
                  '/usr/share/dormant/templates/en/confirmation.requested.txt',
                  '/usr/share/dormant/templates/fr/page.html',
                  '/usr/share/man/man8/dormantd.8', '/usr/share/man/man1/dormantctl.1',
                  '/usr/share/man/man5/dormant.conf.5'):
            self.assertTrue(os.path.exists(self.path(p)), p)
        self.assertFalse(os.path.exists(self.path('/usr/etc')), 'nothing under /usr/etc')
        self.assertEqual(self.read('/etc/dormant/dormant.conf'), self.sample)
        self.assertEqual(os.stat(self.path('/etc/dormant/dormant.conf')).st_mode & 0o777, 0o644)
        # The binaries look where the file went.
        out = subprocess.run([self.path('/usr/sbin/dormantd'), '--help'],
                             capture_output=True, text=True).stdout
        self.assertIn('/etc/dormant/dormant.conf', out)

    def test_another_prefix_still_uses_etc_dormant(self):
        install(self.root, '--prefix', '/opt/dormant')
        self.assertTrue(os.path.exists(self.path('/opt/dormant/sbin/dormantd')))
        self.assertEqual(self.read('/etc/dormant/dormant.conf'), self.sample)
        self.assertFalse(os.path.exists(self.path('/opt/dormant/etc')))

    def test_an_edited_configuration_is_never_overwritten(self):
        install(self.root)
        # Installing again over the untouched sample changes nothing.
        out = install(self.root)
        self.assertIn('Up-to-date: %s' % self.path('/etc/dormant/dormant.conf'), out)
        self.assertFalse(os.path.exists(self.path('/etc/dormant/dormant.conf.new')))
        # The operator edits it; the next install keeps the edit, puts the
        # sample beside it and says so.
        edited = self.sample + '\n# edited by the operator\ndry_run = true;\n'
        with open(self.path('/etc/dormant/dormant.conf'), 'w') as f:
            f.write(edited)
        out = install(self.root)
        self.assertEqual(self.read('/etc/dormant/dormant.conf'), edited)
        self.assertEqual(self.read('/etc/dormant/dormant.conf.new'), self.sample)
        self.assertIn('NOT overwritten', out)
        self.assertIn('dormant.conf.new', out)
        # And again: still kept, still said.
        out = install(self.root)
        self.assertEqual(self.read('/etc/dormant/dormant.conf'), edited)
        self.assertIn('NOT overwritten', out)

    def test_the_package_version_is_the_projects(self):
        """debian/changelog and project() in CMakeLists.txt name one version."""
        with open(os.path.join(harness.SOURCE_DIR, 'CMakeLists.txt')) as f:
            project = re.search(r'project\(dormant VERSION ([0-9.]+)', f.read()).group(1)
        with open(os.path.join(harness.SOURCE_DIR, 'debian', 'changelog')) as f:
            package = re.match(r'dormant \(([^)]+)\)', f.read()).group(1)
        self.assertEqual(re.sub(r'[-+~].*$', '', package), project)


if __name__ == '__main__':
    harness.main()
