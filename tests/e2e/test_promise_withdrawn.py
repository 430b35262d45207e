"""Promise 5 of DESIGN section 1, against the real dormantd: nobody is asked
or told who has left. A pending subscriber who cancels, whose card fails
(billing leaves the active value), whose source row is deleted, or who
becomes ineligible or exempt leaves the lifecycle with event `withdrawn`;
their undelivered messages are retired, no reminder or suspension notice
follows, and a deleted row's personal data goes as at erasure."""

import time

import harness
from enginelib import EngineTestCase

LEAVERS = ['1', '2', '3', '4']


class Withdrawn(EngineTestCase):

    def setup_pending(self, **kw):
        self.setup_db(source__eligible="s.locale IS DISTINCT FROM 'xx'", **kw)
        self.add_subscribers(self.dsn, [1, 2, 3, 4, 5])
        self.add_subscribers(self.dsn, [100], active_ago='1 second')
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3', '4', '5'])

    def leave(self):
        """1 cancels, 2's card fails, 3's row is deleted, 4 becomes ineligible."""
        self.q("UPDATE subscribers SET billing_status = 'cancelled' WHERE id = 1")
        self.q("UPDATE subscribers SET billing_status = 'past_due' WHERE id = 2")
        self.q('DELETE FROM subscribers WHERE id = 3')
        self.q("UPDATE subscribers SET locale = 'xx' WHERE id = 4")
        self.q('UPDATE subscribers SET last_activity_at = now() WHERE id = 100')

    def live_messages(self, sid):
        return self.one('SELECT count(*) FROM dormant.outbox WHERE subscriber_id = %s'
                        ' AND delivered_at IS NULL AND dead_at IS NULL', (int(sid),))

    def assert_withdrawn(self, still_pending=True):
        states = self.states()
        for sid in LEAVERS:
            self.assertNotEqual(states[sid], 'pending', sid)
            self.assertEqual(self.live_messages(sid), 0, sid)
            self.assertEqual(self.one('SELECT count(*) FROM dormant.token'
                                      ' WHERE subscriber_id = %s', (int(sid),)), 0, sid)
        self.assert_exactly_once('withdrawn', [int(s) for s in LEAVERS])
        if still_pending:
            self.assertEqual(self.states()['5'], 'pending')

    def test_undelivered_requests_are_retired(self):
        self.setup_pending()
        self.leave()
        self.once()
        self.once()
        self.assert_withdrawn()
        self.assertEqual(self.live_messages('5'), 1)
        # The application's mailer finds nothing to send to those who left.
        self.ack()
        self.assertEqual(self.one("SELECT count(*) FROM dormant.outbox WHERE delivered_at"
                                  " IS NOT NULL AND subscriber_id IN (1, 2, 3, 4)"), 0)

    def test_no_reminder_and_no_suspension_for_those_who_left(self):
        self.setup_pending(policy__confirm_within='3 seconds', policy__reminders=['2 seconds'])
        self.ack()
        self.leave()
        time.sleep(2.1)  # the reminder is due (the deadline is the end of a second)
        self.once()
        self.ack(['5'])
        time.sleep(2)    # the deadline has passed
        self.q('UPDATE subscribers SET last_activity_at = now() WHERE id = 100')
        self.once()
        self.assert_withdrawn(still_pending=False)
        told = {m[2] for m in self.messages() if m[1] != 'confirmation.requested'}
        self.assertFalse(told & set(LEAVERS), told)
        self.assertEqual(self.q('SELECT id, billing_status FROM subscribers'
                                ' WHERE id IN (1, 2) ORDER BY id'),
                         [(1, 'cancelled'), (2, 'past_due')])
        self.assertEqual(self.events('reminded')[0][0], '5')

    def test_deleted_row_is_dropped_as_at_erasure(self):
        self.setup_pending()
        self.ack(['3'])
        self.leave()
        self.once()
        self.once()
        self.assert_withdrawn()
        self.assertEqual(self.one('SELECT count(*) FROM dormant.outbox'
                                  ' WHERE subscriber_id = 3 AND payload IS NOT NULL'), 0)
        self.assertEqual(self.one("SELECT count(*) FROM dormant.event WHERE subscriber_id = 3"
                                  " AND kind <> 'withdrawn' AND detail <> '{}'"), 0)
        self.assertEqual(self.one('SELECT count(*) FROM dormant.exemption'
                                  ' WHERE subscriber_id = 3'), 0)
        rc, out, err = self.ctl('export', '3', '--json')
        self.assertEqual(rc, 0, err)
        self.assertNotIn('user3@example.com', out)

    def test_exempt_while_pending_leaves_without_a_reminder(self):
        self.setup_pending(policy__confirm_within='3 seconds', policy__reminders=['2 seconds'])
        self.ack()
        # Written by the operator's own tooling, not dormantctl exempt.
        self.q("INSERT INTO dormant.exemption (subscriber_id, reason, actor)"
               " VALUES (5, 'VIP', 'operator:test')")
        time.sleep(2.1)  # the reminder is due (the deadline is the end of a second)
        self.once()
        self.assertNotEqual(self.states()['5'], 'pending')
        self.assertEqual([m for m in self.messages('confirmation.reminder') if m[2] == '5'], [])
        self.assert_exactly_once('withdrawn', [5])


if __name__ == '__main__':
    harness.main()
