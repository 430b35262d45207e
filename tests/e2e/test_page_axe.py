"""Every page of the confirmation flow, in every shipped language, passes
axe-core's WCAG 2.1 AA rules in a real headless chromium, and works without
JavaScript on a 320 px wide screen: the question, kept, paused, not-found,
bad-request and too-many-tries pages come from the running daemon (the
buttons pressed with the mouse, page scripts disabled); "unavailable", which
needs the database down, is the shipped file set in the shipped layout the
way lib/page.c does it.

axe-core is npm's package, installed by scripts/test into build/npm (never
committed); the test skips without chromium or axe-core."""

import base64
import json
import os
import time

import harness
import pagelib
from browserlib import CHROMIUM, BrowserMixin

LANGUAGES = ['en', 'fr', 'de', 'es']
WIDTH = 320
AXE_IN = os.path.join('npm', 'node_modules', 'axe-core', 'axe.min.js')
AXE = next((p for p in (os.path.join(os.path.dirname(os.environ.get('DORMANTD', '')), AXE_IN),
                        os.path.join(harness.SOURCE_DIR, 'build', AXE_IN)) if os.path.exists(p)),
           os.path.join('build', AXE_IN))
TEMPLATES = os.path.join(harness.SOURCE_DIR, 'etc', 'templates')
# The page that only a database outage shows.
RENDERED = ['unavailable']
RUN_AXE = ("axe.run(document, {runOnly: {type: 'tag', values: "
           "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})"
           ".then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact,"
           " help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))")


class PageAxe(BrowserMixin, pagelib.PageTestCase):

    def setUp(self):
        super().setUp()
        if CHROMIUM is None:
            self.skipTest('chromium is not installed (apt-get install chromium)')
        if not os.path.exists(AXE):
            self.skipTest('axe-core is not installed in %s (scripts/test installs it)' % AXE)
        with open(AXE) as f:
            self.axe_source = f.read()

    def open_browser(self, lang):
        b = self.start_chromium()
        b.call('Page.enable')
        b.call('Page.setBypassCSP', enabled=True)  # lets the audit in; the page keeps its CSP
        b.call('Emulation.setDeviceMetricsOverride', width=WIDTH, height=640,
               deviceScaleFactor=1, mobile=True)
        b.call('Emulation.setScriptExecutionDisabled', value=True)
        b.call('Network.enable')
        b.call('Network.setExtraHTTPHeaders', headers={'Accept-Language': lang})
        return b

    def go(self, b, url):
        b.call('Page.navigate', url=url)
        b.wait_event('Page.loadEventFired', self.deadline())

    def deadline(self):
        return time.monotonic() + self.TIMEOUT

    def press(self, b, selector):
        """A real mouse click on the element, as a visitor without scripts makes it."""
        rect = json.loads(b.evaluate(
            "(e => (e.scrollIntoView({block: 'center'}), JSON.stringify(e.getBoundingClientRect())))"
            "(document.querySelector(%r))" % selector))
        self.assertLessEqual(rect['x'] + rect['width'], WIDTH, selector + ' off the screen')
        x, y = rect['x'] + rect['width'] / 2, rect['y'] + rect['height'] / 2
        for kind in ('mousePressed', 'mouseReleased'):
            b.call('Input.dispatchMouseEvent', type=kind, x=x, y=y, button='left', clickCount=1)
        b.wait_event('Page.loadEventFired', self.deadline())

    def violations(self, b):
        """The ids of axe-core's WCAG 2.1 AA violations on the page shown."""
        # The audit is a script: allowed for it alone, then off again.
        b.call('Emulation.setScriptExecutionDisabled', value=False)
        try:
            r = b.call('Runtime.evaluate', expression=self.axe_source + ';1', returnByValue=True)
            self.assertNotIn('exceptionDetails', r)
            r = b.call('Runtime.evaluate', expression=RUN_AXE, awaitPromise=True,
                       returnByValue=True)
            self.assertNotIn('exceptionDetails', r, r)
        finally:
            b.call('Emulation.setScriptExecutionDisabled', value=True)
        return json.loads(r['result']['value'])

    def audit(self, b, lang, what):
        """axe-core's WCAG 2.1 AA rules, the page's language, and no
        horizontal scrolling at 320 px."""
        where = '%s page in %s' % (what, lang)
        self.assertEqual(b.evaluate('document.documentElement.lang'), lang, where)
        width = b.evaluate('document.documentElement.scrollWidth')
        self.assertLessEqual(width, WIDTH, where + ': wider than the screen')
        violations = self.violations(b)
        self.assertEqual(violations, [], where)
        self.audited.append((lang, what))

    def rendered(self, lang, name):
        """A page file set in the layout as lib/page.c does it (style inline)."""
        def read(*parts):
            with open(os.path.join(TEMPLATES, *parts)) as f:
                return f.read()
        title, content = read(lang, name + '.html').split('\n\n', 1)
        html = (read('page-layout.html').replace('{{lang}}', lang)
                .replace('{{title}}', title[len('Title: '):])
                .replace('{{{content}}}', content.rstrip('\n'))
                .replace('{{style}}', read('page.css')))
        return 'data:text/html;charset=utf-8;base64,' + base64.b64encode(html.encode()).decode()

    def check_language(self, lang):
        self.audited = []
        self.start(subscribers=[1, 2, 3], locale=lang)
        keep, pause = self.pending_request(1), self.pending_request(2)
        b = self.open_browser(lang)

        self.go(b, self.http_url + '/c/' + keep)
        self.audit(b, lang, 'question')
        self.press(b, 'button.keep')
        self.audit(b, lang, 'kept')
        self.go(b, self.http_url + '/c/' + pause)
        self.press(b, 'button.pause')
        self.audit(b, lang, 'paused')
        states = dict(self.psql(self.dsn, 'SELECT subscriber_id, state FROM dormant.account'))
        self.assertEqual(states, {1: 'active', 2: 'suspended'}, 'the buttons work without scripts')
        self.go(b, self.http_url + '/c/' + keep)
        self.audit(b, lang, 'not found')
        # A form the page cannot understand (the visitor's browser sent a
        # bad action): a styled 400 in their language.
        other = self.pending_request(3)
        self.go(b, self.http_url + '/c/' + other)
        b.evaluate("document.querySelector('button.keep').form.action.value = 'bogus'")
        self.press(b, 'button.keep')
        self.audit(b, lang, 'bad request')
        self.assertIn('400', str(self.http('/c/' + other, method='POST',
                                           data={'action': 'bogus'})[0]))
        # Too many bad links from this address: 429, in their language.
        for _ in range(30):
            if self.http('/c/' + pagelib.new_token())[0] == 429:
                break
        self.go(b, self.http_url + '/c/' + pagelib.new_token())
        self.assertEqual(b.evaluate('document.title'), self.titles(lang, 'toomany'))
        self.audit(b, lang, 'too many tries')
        for name in RENDERED:
            self.go(b, self.rendered(lang, name))
            self.audit(b, lang, name)
        self.assertEqual(len(self.audited), 6 + len(RENDERED))

    def titles(self, lang, name):
        with open(os.path.join(TEMPLATES, lang, name + '.html')) as f:
            return f.readline()[len('Title: '):].strip()

    def test_the_audit_sees_a_bad_page(self):
        """The audit is real: a page with grey-on-white text, a nameless
        button and no language fails it."""
        self.start()
        b = self.open_browser('en')
        bad = ('<!DOCTYPE html><html><head><title>x</title></head><body>'
               '<p style="color:#bbb;background:#fff">faint</p><button></button></body></html>')
        self.go(b, 'data:text/html;base64,' + base64.b64encode(bad.encode()).decode())
        ids = {v['id'] for v in self.violations(b)}
        self.assertTrue({'color-contrast', 'button-name', 'html-has-lang'} <= ids, ids)

    def test_english(self):
        self.check_language('en')

    def test_french(self):
        self.check_language('fr')

    def test_german(self):
        self.check_language('de')

    def test_spanish(self):
        self.check_language('es')


if __name__ == '__main__':
    harness.main()
