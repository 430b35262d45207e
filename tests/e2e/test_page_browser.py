"""A real browser (headless Debian chromium) opens a confirmation link and clicks Keep.

Driven through the DevTools protocol over a WebSocket written with the
standard library only. scripts/test installs Debian's chromium as an optional
package; the test is skipped when it could not be installed.
"""

import time

import harness
import pagelib
from browserlib import CHROMIUM, BrowserMixin


class PageBrowser(BrowserMixin, pagelib.PageTestCase):

    def test_open_link_and_click_keep(self):
        if CHROMIUM is None:
            self.skipTest('chromium is not installed (apt-get install chromium)')
        self.start(subscribers=[1])
        token = self.pending_request(1)
        browser = self.start_chromium()
        browser.call('Page.enable')
        deadline = time.monotonic() + self.TIMEOUT

        browser.call('Page.navigate', url=self.http_url + '/c/' + token)
        browser.wait_event('Page.loadEventFired', deadline)
        self.assertIn('Keep my subscription', browser.evaluate('document.body.innerText'))
        # Showing the page changed nothing.
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'), 'pending')

        browser.evaluate("document.querySelector('button.keep').click()")
        browser.wait_event('Page.loadEventFired', deadline)
        text = self.wait_for(lambda: (lambda t: t if 'continues' in t else None)(
            browser.evaluate('document.body.innerText') or ''), what='the answer page')
        self.assertIn('Thank you', text)
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'), 'active')
        self.assertEqual(self.psql(self.dsn, 'SELECT kind, actor FROM dormant.event'),
                         [('confirmed', 'subscriber')])
        # Reloading the result (the browser would re-POST) or reopening the link: dead.
        browser.call('Page.navigate', url=self.http_url + '/c/' + token)
        browser.wait_event('Page.loadEventFired', deadline)
        self.assertIn('not valid', browser.evaluate('document.body.innerText'))
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.event'), 1)


if __name__ == '__main__':
    harness.main()
