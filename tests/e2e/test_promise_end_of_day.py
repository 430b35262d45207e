"""Promise 3's last clause (DESIGN.md section 1; issue 11): the enforced
deadline is never earlier than the end of the day that the messages state
in `email.timezone`. For a confirmation period of a day or more a deadline
is moved to the next midnight of that zone, the request's payload states
that instant, and the page and messages show the day that ends there with
its last minute; a late reminder moves the deadline to the end of a day
too. A period shorter than a day (tests, the demo) is stated to the
second, and the deadline is the end of a second."""

import datetime
import urllib.parse
import zoneinfo

import harness
from feedlib import FeedTestCase, sample_ids

ZONE = 'America/St_Johns'  # UTC-3:30 in winter, -2:30 in summer


def parse(iso):
    return datetime.datetime.fromisoformat(iso.replace('Z', '+00:00'))


class EndOfDay(FeedTestCase):

    def test_deadline_end_rounds_in_the_subscriber_favour(self):
        """dormant.deadline_end, as the schema defines it: to the next
        midnight of the zone for a period of a day or more (a midnight stays
        where it is, across a clock change too), to the second below a day."""
        self.setup_typed(overrides={'email.timezone': ZONE})
        self.q('UPDATE dormant.control SET message_zone = %s', (ZONE,))
        cases = [
            # (t, period, want), all as St John's wall clock except want's UTC.
            ('2026-12-28 14:00', '30 days', '2026-12-29 00:00'),
            ('2026-12-28 00:00', '1 day', '2026-12-28 00:00'),
            ('2026-12-28 00:00:00.5', '24 hours', '2026-12-29 00:00'),
            # Clocks go forward at 02:00 on 8 March 2026: a 23-hour day.
            ('2026-03-08 03:30', '7 days', '2026-03-09 00:00'),
            ('2026-12-28 14:00:07.25', '10 seconds', '2026-12-28 14:00:08'),
            ('2026-12-28 14:00:07', '12 hours', '2026-12-28 14:00:07'),
        ]
        for t, period, want in cases:
            got = self.one("SELECT dormant.deadline_end((%s::timestamp AT TIME ZONE %s),"
                           " %s::interval) = (%s::timestamp AT TIME ZONE %s)",
                           (t, ZONE, period, want, ZONE))
            self.assertTrue(got, '%s + %s: %s' % (t, period, self.one(
                "SELECT dormant.deadline_end((%s::timestamp AT TIME ZONE %s), %s::interval)"
                " AT TIME ZONE %s", (t, ZONE, period, ZONE))))

    def test_request_states_and_enforces_the_end_of_a_day(self):
        """A request under a two-day period: its payload states a midnight
        of email.timezone at least two days after delivery, the account
        enforces exactly that, and the confirmation page shows the day that
        ends there with its last minute."""
        sink = self.webhook_sink()
        self.setup_typed(overrides={'policy.confirm_within': '2 days',
                                    'policy.reminders': ['1 day'],
                                    'email.timezone': ZONE, 'webhook.url': sink.url})
        a, w = sample_ids('bigint', 2)
        self.add([a], "now() - interval '4 years'", "now() - interval '3 years'")
        self.start_feed(w)
        self.start_daemon()
        self.wait_for(lambda: self.one('SELECT delivered_at FROM dormant.account'
                                       ' WHERE subscriber_id = %s', (a,)), what='delivery')
        delivered, deadline = self.q('SELECT delivered_at, deadline FROM dormant.account'
                                     ' WHERE subscriber_id = %s', (a,))[0]
        body = [r.json() for r in sink.requests
                if r.json()['type'] == 'confirmation.requested'][0]
        stated = parse(body['data']['deadline'])
        local = stated.astimezone(zoneinfo.ZoneInfo(ZONE))
        self.assertEqual((local.hour, local.minute, local.second), (0, 0, 0),
                         'the stated deadline %s is a midnight in %s' % (stated, ZONE))
        # The deadline enforced is the one stated (or, had delivery crossed a
        # midnight after the claim, the end of the next day).
        self.assertIn(deadline - stated, (datetime.timedelta(0), datetime.timedelta(days=1)))
        self.assertGreaterEqual(deadline, delivered + datetime.timedelta(days=2))
        self.assertLess(deadline, delivered + datetime.timedelta(days=3))
        # The page states the day that ends at the deadline, to its minute.
        path = urllib.parse.urlparse(body['data']['confirm_url']).path
        status, _, page = self.http(path)
        self.assertEqual(status, 200)
        page = page.decode()
        last = deadline.astimezone(zoneinfo.ZoneInfo(ZONE)) - datetime.timedelta(minutes=1)
        self.assertIn('%d %s %d' % (last.day, last.strftime('%B'), last.year), page)
        self.assertRegex(page, r'11:59\s*(pm|PM)')
        self.stop_daemon()

    def test_late_reminder_moves_the_deadline_to_the_end_of_a_day(self):
        """A reminder acknowledged late (here by the application's mailer,
        with the time it really sent it) moves the deadline to its delivery
        plus its offset, to the end of that day in email.timezone."""
        self.setup_typed(overrides={'policy.confirm_within': '2 days',
                                    'policy.reminders': ['1 day'], 'email.timezone': ZONE})
        a, = sample_ids('bigint', 1)
        self.add([a], "now() - interval '4 years'", "now() - interval '3 years'")
        self.q('UPDATE dormant.control SET message_zone = %s', (ZONE,))
        # A pending account whose request was delivered and whose one
        # reminder is out, stating a deadline the mailer then overshoots.
        oid = self.one('''
            WITH o AS (INSERT INTO dormant.outbox (type, subscriber_id, cycle, payload)
                       VALUES ('confirmation.reminder', %(a)s, 1, jsonb_build_object(
                         'type', 'confirmation.reminder', 'data', jsonb_build_object(
                           'subscriber_id', %(a)s::text,
                           'deadline', '2027-01-05T03:30:00Z')))
                       RETURNING id)
            INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,
                                         delivered_at, deadline, confirm_within, reminders,
                                         reminders_sent, reminder_outbox_id)
            SELECT %(a)s, 'pending', 1, 'inactive', now(), now(),
                   '2027-01-05T03:30:00Z', '2 days', '{"1 day"}', 1, o.id FROM o
            RETURNING reminder_outbox_id''', {'a': a})
        # Sent at 20:00 on 4 January in St John's: the deadline moves to
        # 20:00 on the 5th, and from there to the end of the 5th.
        self.q("UPDATE dormant.outbox SET delivered_at = '2027-01-04 20:00'::timestamp"
               " AT TIME ZONE %s WHERE id = %s", (ZONE, oid))
        got = self.one('SELECT deadline AT TIME ZONE %s FROM dormant.account'
                       ' WHERE subscriber_id = %s', (ZONE, a))
        self.assertEqual(got, datetime.datetime(2027, 1, 6, 0, 0))

    def test_short_period_is_stated_and_enforced_to_the_second(self):
        """Below a day the payload states a whole second, the account
        enforces it, and the subscriber is suspended no earlier."""
        sink = self.webhook_sink()
        self.setup_typed(overrides={'policy.confirm_within': '3 seconds',
                                    'policy.reminders': [], 'email.timezone': ZONE,
                                    'webhook.url': sink.url})
        a, w = sample_ids('bigint', 2)
        self.add([a], "now() - interval '4 years'", "now() - interval '3 years'")
        self.start_feed(w)
        self.start_daemon()
        self.wait_for(lambda: self.state_of(a) == 'suspended', timeout=30, what='suspension')
        deadline, suspended = self.q('SELECT deadline, suspended_at FROM dormant.account'
                                     ' WHERE subscriber_id = %s', (a,))[0]
        body = [r.json() for r in sink.requests
                if r.json()['type'] == 'confirmation.requested'][0]
        # Delivered later than claimed (a loaded machine), the deadline runs
        # from the delivery: later than the one stated, never earlier.
        self.assertGreaterEqual(deadline, parse(body['data']['deadline']))
        self.assertEqual(deadline.microsecond, 0)
        self.assertGreaterEqual(suspended, deadline)
        self.stop_daemon()


if __name__ == '__main__':
    harness.main()
