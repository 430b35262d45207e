"""Promises 4 and 6 of DESIGN section 1 at the end of the lifecycle, against
the real dormantd: an erased customer who comes back (billing active again,
a new address) is tracked again, and erasure runs only where the billing
column still holds the suspended value, whatever reactivation has paged
through so far."""

import time

import psycopg2

import harness
from enginelib import EngineTestCase


class Erasure(EngineTestCase):

    def feed(self):
        """Keep the activity feed ahead of every deadline (subscriber 100)."""
        self.q('UPDATE subscribers SET last_activity_at = now() WHERE id = 100')

    def suspend_all(self, ids):
        """Request, deliver and suspend ids (confirm_within 1 second)."""
        self.add_subscribers(self.dsn, ids)
        self.add_subscribers(self.dsn, [100], active_ago='1 second')
        self.once()
        self.assertEqual(self.pending(), sorted(str(i) for i in ids))
        self.ack()
        time.sleep(2.1)  # the deadline is the end of a second: up to 2 s away
        self.feed()
        self.once()
        states = self.states()
        self.assertEqual({states[str(i)] for i in ids}, {'suspended'})

    def test_erased_customer_who_comes_back_is_tracked_again(self):
        self.setup_db(policy__confirm_within='1 second', policy__reminders=[],
                      policy__erase_after='1 second', policy__erase_columns=['email'])
        self.suspend_all([1])
        time.sleep(1.5)
        self.feed()
        self.once()
        self.assertEqual(self.states()['1'], 'erased')
        # The customer comes back: the application charges them again at a
        # new address.
        self.q("UPDATE subscribers SET billing_status = 'active',"
               " email = 'back@example.org' WHERE id = 1")
        self.feed()
        self.once()
        self.once()
        self.assertEqual(self.states()['1'], 'active')
        self.assert_exactly_once('reactivated', [1], 'subscription.reactivated')
        msg = self.messages('subscription.reactivated')[0][3]
        self.assertEqual(msg['data']['email'], 'back@example.org')
        rc, out, err = self.ctl('show', '1')
        self.assertEqual(rc, 0, err)
        self.assertNotRegex(out, r'(?im)^\s*state\W+erased')
        self.assertNotIn('back@example.org', self.log_text())
        # Tracked again: once inactive for policy.inactive_after after coming
        # back (the reactivation backdated, as two years later), asked again.
        self.q("UPDATE dormant.account SET confirmed_at = confirmed_at - interval '3 years',"
               " recheck_at = recheck_at - interval '3 years' WHERE subscriber_id = 1")
        self.feed()
        self.once()
        self.once()
        self.assertEqual(self.states()['1'], 'pending')
        req = [m for m in self.messages('confirmation.requested') if m[2] == '1']
        self.assertEqual(len(req), 2)
        self.assertEqual(req[-1][3]['data']['email'], 'back@example.org')

    def test_erasure_spares_a_customer_the_application_reactivated(self):
        # batch_size 1: reactivation pages through ten suspended accounts
        # per pass, fewer than there are.
        ids = list(range(1, 13))
        self.setup_db(policy__confirm_within='1 second', policy__reminders=[],
                      policy__erase_after='1 second', policy__erase_columns=['email'],
                      limits__batch_size=1)
        self.suspend_all(ids)
        time.sleep(1.5)
        # The application charges subscriber 12 again, just before the pass.
        self.q("UPDATE subscribers SET billing_status = 'active' WHERE id = 12")
        self.feed()
        self.once()
        self.assertEqual(self.q('SELECT email, billing_status FROM subscribers WHERE id = 12'),
                         [('user12@example.com', 'active')])
        self.assertNotEqual(self.states()['12'], 'erased')
        self.assertNotIn('12', [e[0] for e in self.events('erased')])
        # Everyone else was erased.
        self.assertEqual(sorted(int(e[0]) for e in self.events('erased')), ids[:-1])
        # And the next pass reactivates 12.
        self.once()
        self.assertEqual(self.states()['12'], 'active')
        self.assert_exactly_once('reactivated', [12])

    def test_erasure_checks_billing_under_the_row_lock(self):
        self.setup_db(policy__confirm_within='1 second', policy__reminders=[],
                      policy__erase_after='1 second', policy__erase_columns=['email'])
        self.suspend_all([1, 2])
        time.sleep(1.5)
        self.feed()
        # The application is charging subscriber 1 again, in a transaction
        # that has not committed when the pass starts.
        app = psycopg2.connect(self.dsn)
        try:
            cur = app.cursor()
            cur.execute("UPDATE subscribers SET billing_status = 'active' WHERE id = 1")
            p = self.start_daemon(self.config, '--once')
            time.sleep(2)
            app.commit()
        finally:
            app.close()
        self.assertEqual(self.wait_exit(p), 0, self.output_tail())
        self.assertEqual(self.q('SELECT email, billing_status FROM subscribers WHERE id = 1'),
                         [('user1@example.com', 'active')])
        self.assertEqual([e[0] for e in self.events('erased')], ['2'])
        self.once()
        self.assertEqual(self.states()['1'], 'active')


if __name__ == '__main__':
    harness.main()
