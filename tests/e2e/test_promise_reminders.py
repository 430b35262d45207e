"""Promise 3, every reminder keeps its notice (DESIGN.md section 1; issue
11 cases 2, 4 and 6): the confirmation period and reminder offsets in force
when a request is delivered are fixed for it; each reminder is delivered
at or before the enforced deadline - its offset (a late one moves the
deadline); suspension waits while a due reminder is undelivered; nothing
of a cycle is delivered after the account left pending; each delivery is
recorded as an event `delivered`."""

import datetime
import signal
import time

import harness
from feedlib import FeedTestCase, sample_ids


def seconds(text):
    """'00:00:04' -> 4.0 (an interval as PostgreSQL prints it); None -> -1."""
    if text is None:
        return -1
    h, m, s = text.split(':')
    return int(h) * 3600 + int(m) * 60 + float(s)


class Notice(FeedTestCase):

    def check_notice(self, sid, confirm_within, offsets):
        """sid was suspended after a delivered request and one delivered
        reminder per offset, each with its notice; nothing of the cycle was
        delivered after the suspension; every delivery has its event."""
        delivered_req, deadline, suspended_at = self.q(
            'SELECT delivered_at, deadline, suspended_at FROM dormant.account'
            ' WHERE subscriber_id = %s', (sid,))[0]
        self.assertEqual(self.state_of(sid), 'suspended')
        self.assertIsNotNone(deadline)
        self.assertGreaterEqual(deadline, delivered_req + datetime.timedelta(
            seconds=confirm_within))
        self.assertGreaterEqual(suspended_at, deadline)
        rem = [e for e in self.events('reminded') if e[0] == str(sid)]
        self.assertEqual(sorted(seconds(e[4]['offset']) for e in rem), sorted(offsets),
                         'one reminder per offset in force at delivery')
        rows = self.q("SELECT id, type, delivered_at, created_at FROM dormant.outbox"
                      " WHERE subscriber_id = %s AND type LIKE 'confirmation.%%' ORDER BY id",
                      (sid,))
        reminders = [r for r in rows if r[1] == 'confirmation.reminder']
        self.assertEqual(len(reminders), len(offsets))
        for (oid, type_, delivered, created), r in zip(reminders, sorted(offsets, reverse=True)):
            self.assertIsNotNone(delivered, 'reminder %s undelivered at suspension' % oid)
            self.assertLessEqual(delivered + datetime.timedelta(seconds=r), deadline,
                                 'the %ss reminder did not keep its notice' % r)
        for oid, type_, delivered, created in rows:
            self.assertTrue(delivered is None or delivered < suspended_at,
                            '%s %s delivered after the suspension' % (type_, oid))
            self.assertTrue(delivered is not None or self.one(
                'SELECT dead_at IS NOT NULL FROM dormant.outbox WHERE id = %s', (oid,)),
                '%s %s still deliverable after the suspension' % (type_, oid))
        ev = self.q("SELECT detail FROM dormant.event WHERE subscriber_id = %s"
                    " AND kind = 'delivered' ORDER BY id", (sid,))
        types = sorted(d['type'] for (d,) in ev if d['type'].startswith('confirmation.'))
        self.assertEqual(types, sorted(['confirmation.requested']
                                       + ['confirmation.reminder'] * len(offsets)))
        for (d,) in ev:
            self.assertIn('channel', d)
            self.assertIn('at', d)

    def test_pause_over_both_reminders(self):
        """Case 2: a cluster-wide pause over both reminder times."""
        self.setup_typed(overrides={'policy.confirm_within': '6 seconds',
                                    'policy.reminders': ['4 seconds', '2 seconds']})
        ids = sample_ids('bigint', 6)
        subs, w = ids[:5], ids[5]
        self.add(subs, "now() - interval '4 years'", "now() - interval '3 years'")
        self.start_feed(w)
        self.start_daemon()
        self.wait_for(lambda: len(self.pending()) == 5, what='five requests')
        self.start_mailer()
        self.wait_for(lambda: self.one('SELECT count(*) FROM dormant.account'
                                       ' WHERE delivered_at IS NOT NULL') == 5,
                      what='five deliveries')
        rc, out, err = self.ctl('pause', '--reason', 'incident')
        self.assertEqual(rc, 0, err)
        time.sleep(8)  # both reminder times and the deadline pass
        self.assertEqual(self.events('suspended'), [])
        rc, out, err = self.ctl('resume')
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: set(self.states().get(str(s)) for s in subs) == {'suspended'},
                      timeout=60, what='five suspensions')
        self.stop_daemon()
        for s in subs:
            self.check_notice(s, 6, [4, 2])

    def test_failing_endpoint_holds_suspension(self):
        """Case 6: reminders that fail and are retried past the deadline
        hold the suspension back, and nothing of the cycle reaches the
        subscriber after it."""
        sink = self.webhook_sink()
        self.setup_typed(id_type='uuid', overrides={
            'policy.confirm_within': '6 seconds', 'policy.reminders': ['4 seconds', '2 seconds'],
            'webhook.url': sink.url,
            'webhook.retry': ['1 second', '2 seconds', '4 seconds', '8 seconds']})
        a, w = sample_ids('uuid', 2)
        self.add([a], "now() - interval '4 years'", "now() - interval '3 years'")
        self.start_feed(w)
        self.start_daemon()
        self.wait_for(lambda: self.one('SELECT delivered_at FROM dormant.account'
                                       ' WHERE subscriber_id = %s', (a,)), what='delivery')
        sink.default = 503  # the endpoint fails from now on
        time.sleep(7)
        sink.default = 200
        self.wait_for(lambda: self.state_of(a) == 'suspended', timeout=60, what='suspension')
        time.sleep(3)  # anything still queued would go out now
        self.stop_daemon()
        self.check_notice(a, 6, [4, 2])
        suspended_at = self.one('SELECT suspended_at FROM dormant.account'
                                ' WHERE subscriber_id = %s', (a,))
        late = self.q("SELECT id FROM dormant.outbox WHERE subscriber_id = %s"
                      " AND type LIKE 'confirmation.%%' AND delivered_at >= %s",
                      (a, suspended_at))
        self.assertEqual(late, [])

    def test_reload_keeps_the_schedule_of_delivered_requests(self):
        """Case 4, second sentence: a reload changes later requests only."""
        self.setup_typed(id_type='text', overrides={
            'policy.confirm_within': '8 seconds', 'policy.reminders': ['6 seconds', '3 seconds']})
        a, c, w = sample_ids('text', 3)
        self.add([a], "now() - interval '4 years'", "now() - interval '3 years'")
        self.start_feed(w)
        self.start_mailer()
        self.start_daemon()
        self.wait_for(lambda: self.one('SELECT delivered_at FROM dormant.account'
                                       ' WHERE subscriber_id = %s', (a,)), what='delivery')
        mark = self.log_mark()
        self.write_config({'policy.confirm_within': '10 seconds',
                           'policy.reminders': ['1 second']}, dsn=self.dsn)
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'msg="configuration reloaded"', since=mark)
        # c's inactivity reaches policy.inactive_after two seconds from now
        # (ahead of the watermark): requested and delivered after the reload.
        self.add([c], "now() - interval '4 years'", "now() - interval '2 years' + interval '2 s'")
        self.wait_for(lambda: self.state_of(a) == 'suspended', timeout=60, what='a suspended')
        self.check_notice(a, 8, [6, 3])
        ev = [e for e in self.events('suspended') if e[0] == str(a)][0]
        self.assertEqual(ev[4]['confirm_within'], '00:00:08')
        # c, delivered after the reload, has the new schedule.
        self.wait_for(lambda: self.state_of(c) == 'suspended', timeout=60, what='c suspended')
        self.stop_daemon()
        self.check_notice(c, 10, [1])


if __name__ == '__main__':
    harness.main()
