#!/usr/bin/python3
"""The man pages render cleanly and describe what the code has: every key of
the sample configuration in dormant.conf(5), every dormantctl command in
dormantctl(1). Needs no database."""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DOC = os.path.join(harness.SOURCE_DIR, 'doc')
PAGES = ['dormantd.8', 'dormantctl.1', 'dormant.conf.5']


def render(page):
    """The page as man shows it, plus whatever groff warned about."""
    r = subprocess.run(['groff', '-man', '-ww', '-Tutf8', '-rLL=78n', os.path.join(DOC, page)],
                       capture_output=True, text=True, timeout=60)
    text = re.sub(r'.\x08', '', r.stdout)
    return text, r.stderr


@unittest.skipUnless(shutil.which('groff'), 'groff is not installed')
class ManPages(unittest.TestCase):

    def test_render_without_warnings(self):
        for page in PAGES:
            text, warnings = render(page)
            self.assertEqual(warnings, '', page)
            self.assertIn('NAME', text, page)
            self.assertIn('SEE ALSO', text, page)

    def test_every_config_key_documented(self):
        text, _ = render('dormant.conf.5')
        text = text.replace('\u2010', '-').replace('\u00ad', '')
        text = re.sub(r'-\n\s*', '', text)  # hyphenated line breaks
        with open(os.path.join(harness.SOURCE_DIR, 'etc', 'dormant.conf')) as f:
            sample = f.read()
        keys, stack = [], []
        for line in sample.splitlines():
            line = line.split('#', 1)[0]
            m = re.match(r'\s*(\w+)\s*=\s*\{', line)
            if m:
                stack.append(m.group(1))
                continue
            m = re.match(r'\s*(\w+)\s*=', line)
            if m:
                keys.append('.'.join(stack + [m.group(1)]))
            for _ in range(line.count('}')):
                stack.pop()
        self.assertGreater(len(keys), 30)
        for key in keys:
            self.assertIn(key, text, 'dormant.conf(5) does not document %s' % key)

    def test_every_command_documented(self):
        text, _ = render('dormantctl.1')
        text = re.sub(r'\u2010\n\s*|-\n\s*', '-', text.replace('\u2010', '-'))
        r = subprocess.run([harness.DORMANTCTL, '--help'], capture_output=True, text=True)
        commands = re.findall(r'^  ([a-z-]+)\s', r.stdout.split('commands:', 1)[1], re.M)
        self.assertGreater(len(commands), 10)
        for cmd in commands:
            self.assertRegex(text, r'\n\s+%s\b' % re.escape(cmd),
                             'dormantctl(1) does not document %s' % cmd)


if __name__ == '__main__':
    harness.main()
