"""The page with the real engine: a link from a request the pass made, answered, never asked again."""

import json
import re
import shutil
import subprocess
import urllib.parse

import harness
import pagelib


class PageWithEngine(pagelib.PageTestCase):

    def request_link(self, sid):
        """The confirm_url of subscriber sid's request, once the pass wrote it."""
        def link():
            return self.scalar(self.dsn, "SELECT payload->'data'->>'confirm_url'"
                               " FROM dormant.outbox WHERE subscriber_id = %s"
                               " AND type = 'confirmation.requested'", (sid,))
        url = self.wait_for(link, what='the request of subscriber %s' % sid)
        self.assertTrue(url.startswith(self.http_url + '/c/'), url)
        return urllib.parse.urlparse(url).path

    def test_link_from_a_real_request(self):
        def inactive():
            self.add_subscribers(self.dsn, [1, 2], created_ago='4 years', active_ago='3 years')
        self.start(before_daemon=inactive)
        path1, path2 = self.request_link(1), self.request_link(2)
        token = path1[len('/c/'):]
        self.tokens += [token, path2[len('/c/'):]]
        self.assertTrue(re.fullmatch(r'[A-Za-z0-9_-]{43}', token), token)
        # Not delivered yet: the page still answers, with the earliest possible deadline.
        self.assertEqual(self.http(path1)[0], 200)
        # The application's mailer acknowledges: the grace period starts.
        self.psql(self.dsn, "UPDATE dormant.outbox SET delivered_at = now()"
                  " WHERE type = 'confirmation.requested'")
        shown = harness.deadline_shown(self.scalar(
            self.dsn, "SELECT to_char(deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            " FROM dormant.account WHERE subscriber_id = 1"))
        deadline = '%d %s %d' % (shown.day, shown.strftime('%B'), shown.year)
        status, _, body = self.http(path1)
        self.assertEqual(status, 200)
        self.assertIn(deadline, body.decode())
        self.assertEqual(self.post(path1, 'keep')[0], 200)
        self.assertEqual(self.post(path2, 'pause')[0], 200)
        self.assertEqual(self.scalar(self.dsn, 'SELECT billing_status FROM subscribers'
                                     ' WHERE id = 2'), 'suspended')
        # Later passes leave the answers alone: no new request for the one
        # who kept, no reactivation for the one who paused.
        self.wait_next_pass(self.dsn)
        self.wait_next_pass(self.dsn)
        rows = self.psql(self.dsn, 'SELECT subscriber_id, state FROM dormant.account ORDER BY 1')
        self.assertEqual(rows, [(1, 'active'), (2, 'suspended')])
        self.assertEqual(self.psql(self.dsn, "SELECT subscriber_id, kind FROM dormant.event"
                                   " WHERE kind NOT IN ('requested', 'delivered') ORDER BY id"),
                         [(1, 'confirmed'), (2, 'declined')])
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.event"
                                     " WHERE kind = 'requested'"), 2)
        self.assertEqual(self.http(path1)[0], 404)
        # What the passes did shows on /healthz and /metrics.
        health = json.loads(self.http('/healthz')[2])
        self.assertIsNotNone(health['last_pass']['at'])
        self.assertIsNotNone(health['last_pass']['outcome'])
        text = self.http('/metrics')[2].decode()
        self.assertIn('dormant_transitions_total{kind="requested"} 2\n', text)
        self.assertIn('dormant_transitions_total{kind="confirmed"} 1\n', text)
        self.assertIn('dormant_leader 1\n', text)
        passes = int(re.search(r'^dormant_passes_total (\d+)$', text, re.M).group(1))
        self.assertGreaterEqual(passes, 2)
        promtool = shutil.which('promtool')
        if promtool:
            r = subprocess.run([promtool, 'check', 'metrics'], input=text.encode(),
                               capture_output=True)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, b''))


if __name__ == '__main__':
    harness.main()
