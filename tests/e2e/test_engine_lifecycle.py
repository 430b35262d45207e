"""The lifecycle engine against the real PostgreSQL and the real dormantd:
each rule and exclusion, resume by activity, grace counted from delivery,
reminders exactly once, atomic suspension, reactivation, erasure, and all
four key types."""

import time
import uuid

import harness
from enginelib import EngineTestCase


class Rules(EngineTestCase):

    def test_each_rule_and_exclusion(self):
        self.setup_db(policy__min_account_age='4 seconds',
                      source__eligible="s.locale IS DISTINCT FROM 'xx'")
        add = self.add_subscribers
        add(self.dsn, [1], created_ago='4 years', active_ago='3 years')   # inactive rule
        add(self.dsn, [2], created_ago='2 years', active_ago=None)        # never-active rule
        add(self.dsn, [3], created_ago='1 second', active_ago='3 years')  # young account
        add(self.dsn, [4], created_ago='6 months', active_ago=None)       # NULL activity, young
        add(self.dsn, [5], locale='xx')                                   # ineligible
        add(self.dsn, [6], billing='cancelled')                           # billing not active
        add(self.dsn, [7])                                                # exempt
        add(self.dsn, [8], active_ago='1 day')                            # active
        add(self.dsn, [9])                                                # exempt for a while
        self.q("INSERT INTO dormant.exemption (subscriber_id, reason, actor)"
               " VALUES (7, 'VIP', 'operator:test')")
        self.q("INSERT INTO dormant.exemption (subscriber_id, until, reason, actor)"
               " VALUES (9, now() + interval '3 seconds', 'call back', 'operator:test')")
        self.once()

        self.assertEqual(self.pending(), ['1', '2'])
        rules = {e[0]: e[4]['rule'] for e in self.events('requested')}
        self.assertEqual(rules, {'1': 'inactive', '2': 'never_active'})
        for e in self.events('requested'):
            self.assertEqual(e[3], 'daemon')
            self.assertIn('after', e[4])
        msgs = {m[2]: m[3] for m in self.messages('confirmation.requested')}
        self.assertEqual(sorted(msgs), ['1', '2'])
        p = msgs['1']
        self.assertEqual(p['type'], 'confirmation.requested')
        self.assertRegex(p['timestamp'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        d = p['data']
        self.assertEqual(d['subscriber_id'], '1')
        self.assertEqual(d['email'], 'user1@example.com')
        self.assertEqual(d['locale'], 'en')
        self.assertEqual(d['rule'], 'inactive')
        self.assertRegex(d['last_activity_at'], r'Z$')
        self.assertNotIn('deadline', d)  # outbox-only: the clock starts at the acknowledgement
        self.assertTrue(self.token_stored(self.token_of(p), 1))
        self.assertIsNone(msgs['2']['data']['last_activity_at'])
        # Nothing secret in the logs.
        self.assertNotIn('@example.com', self.log_text())
        self.assertNotIn(self.token_of(p), self.log_text())

        # The young account and the timed exemption come due later.
        time.sleep(4)
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3', '9'])
        self.assert_exactly_once('requested', [1, 2, 3, 9], 'confirmation.requested')

    def test_resume_by_activity(self):
        self.setup_db()
        self.add_subscribers(self.dsn, [1, 2, 3])
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3'])
        self.ack([3])
        self.q('UPDATE subscribers SET last_activity_at = now() WHERE id IN (1, 3)')
        self.once()
        self.assertEqual(self.pending(), ['2'])
        self.assertEqual(sorted(e[0] for e in self.events('resumed')), ['1', '3'])
        for e in self.events('resumed'):
            self.assertEqual(e[3], 'subscriber')
        # Their links no longer work, and the undelivered request is not sent.
        self.assertEqual(self.one("SELECT count(*) FROM dormant.token"
                                  " WHERE subscriber_id IN (1, 3)"), 0)
        self.assertEqual(self.one("SELECT count(*) FROM dormant.outbox WHERE subscriber_id = 1"
                                  " AND delivered_at IS NULL AND dead_at IS NULL"), 0)
        # Active again: a later pass does not ask them again.
        self.once()
        self.assertEqual(len(self.events('requested')), 3)

    def test_grace_from_delivery_and_reminders_exactly_once(self):
        self.setup_db(policy__confirm_within='9 seconds',
                      policy__reminders=['6 seconds', '3 seconds'])
        self.add_subscribers(self.dsn, [1, 2, 3])
        self.start_feed(self.dsn)
        self.start_daemon()
        self.wait_for(lambda: len(self.pending()) == 3, what='three requests')
        self.ack([1, 2])  # 3 is never delivered
        acked = self.one('SELECT max(delivered_at) FROM dormant.outbox')
        # The application's mailer acknowledges 1's and 2's reminders as they come.
        mailer = harness.Repeater(self.dsn, 'UPDATE dormant.outbox SET delivered_at = now()'
                                  ' WHERE subscriber_id IN (1, 2) AND delivered_at IS NULL'
                                  ' AND dead_at IS NULL')
        self.addCleanup(mailer.stop)
        self.wait_for(lambda: self.states().get('1') == 'suspended'
                      and self.states().get('2') == 'suspended', what='suspensions')
        # Keep running a few more passes: the undelivered request never suspends.
        for _ in range(3):
            self.wait_next_pass(self.dsn)
        self.stop_daemon()
        self.assertEqual(self.states()['3'], 'pending')
        self.assertIsNone(self.one('SELECT deadline FROM dormant.account WHERE subscriber_id = 3'))
        self.assertEqual(self.one("SELECT billing_status FROM subscribers WHERE id = 3"), 'active')
        self.assert_exactly_once('suspended', [1, 2], 'subscription.suspended')

        for sid in (1, 2):
            row = self.q('SELECT delivered_at, deadline, suspended_at FROM dormant.account'
                         ' WHERE subscriber_id = %s', (sid,))[0]
            delivered, deadline, suspended = row
            self.assertLessEqual(delivered, acked)
            # The full period, longer when a reminder went out late.
            self.assertGreaterEqual((deadline - delivered).total_seconds(), 9)
            self.assertGreaterEqual(suspended, deadline)
            self.assertEqual(self.one('SELECT billing_status FROM subscribers WHERE id = %s',
                                      (sid,)), 'suspended')
            # Exactly one reminder per offset, each before the deadline.
            rem = [e for e in self.events('reminded') if e[0] == str(sid)]
            self.assertEqual(sorted(e[4]['offset'] for e in rem), ['00:00:03', '00:00:06'])
            at = self.q("SELECT at FROM dormant.event WHERE kind = 'reminded'"
                        ' AND subscriber_id = %s', (sid,))
            self.assertTrue(all(a[0] < deadline for a in at))
            # Each reminder reached the subscriber with its notice.
            for offset, delivered_at in self.q(
                    "SELECT e.detail->>'offset', o.delivered_at FROM dormant.event e"
                    " JOIN dormant.outbox o ON o.id = (e.detail->>'outbox_id')::bigint"
                    " WHERE e.kind = 'reminded' AND e.subscriber_id = %s", (sid,)):
                h, m, sec = offset.split(':')
                self.assertLessEqual(delivered_at.timestamp() + float(sec) + 60 * int(m),
                                     deadline.timestamp())
            msgs = [m for m in self.messages('confirmation.reminder') if m[2] == str(sid)]
            self.assertEqual(len(msgs), 2)
            for m in msgs:
                self.assertRegex(m[3]['data']['deadline'], r'Z$')
                # Acknowledged: the stored payload no longer holds the link.
                self.assertNotIn('confirm_url', m[3]['data'])
            ev = [e for e in self.events('suspended') if e[0] == str(sid)][0]
            self.assertTrue(ev[4]['billing_written'])
        self.assertEqual([e for e in self.events('reminded') if e[0] == '3'], [])
        self.assertEqual(self.one("SELECT count(*) FROM dormant.token"
                                  " WHERE subscriber_id IN (1, 2)"), 0)

    def test_suspension_is_atomic(self):
        self.setup_db(policy__confirm_within='1 second', policy__reminders=[])
        self.add_subscribers(self.dsn, [1, 2, 3])
        self.start_feed(self.dsn)
        self.once()
        self.ack()
        time.sleep(1.5)
        self.wait_feed_caught_up(self.dsn)
        # The application's table refuses one of the billing writes: the
        # whole batch rolls back, billing and state stay in agreement.
        self.q("""CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN IF NEW.id = 2 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$""")
        self.q('CREATE TRIGGER refuse BEFORE UPDATE ON subscribers'
               ' FOR EACH ROW EXECUTE FUNCTION refuse()')
        self.once(expect=1)
        self.assertRegex(self.log_text(), r'msg="pass failed" step=suspend error="refused')
        self.assertEqual(self.pending(), ['1', '2', '3'])
        self.assertEqual(self.one("SELECT count(*) FROM subscribers"
                                  " WHERE billing_status <> 'active'"), 0)
        self.assertEqual(self.events('suspended'), [])
        self.assertEqual(self.messages('subscription.suspended'), [])
        self.assertEqual(self.one('SELECT last_pass_outcome FROM dormant.control')[:7], 'failed:')
        self.q('DROP TRIGGER refuse ON subscribers')
        self.once()
        self.assert_exactly_once('suspended', [1, 2, 3], 'subscription.suspended')
        self.assertEqual(self.one("SELECT count(*) FROM subscribers"
                                  " WHERE billing_status = 'suspended'"), 3)

    def test_reactivation_and_erasure(self):
        self.setup_db(policy__confirm_within='1 second', policy__reminders=[],
                      policy__erase_after='2 seconds', policy__erase_columns=['email', 'locale'])
        self.add_subscribers(self.dsn, [1, 2])
        self.start_feed(self.dsn)
        self.once()
        self.ack()
        time.sleep(1.5)
        self.wait_feed_caught_up(self.dsn)
        self.once()
        self.assertEqual(set(self.states().values()), {'suspended'})
        # The application charges subscriber 1 again.
        self.q("UPDATE subscribers SET billing_status = 'active' WHERE id = 1")
        self.once()
        self.assertEqual(self.states()['1'], 'active')
        self.assert_exactly_once('reactivated', [1], 'subscription.reactivated')
        time.sleep(2.5)
        self.once()
        self.assertEqual(self.states(), {'1': 'active', '2': 'erased'})
        self.assert_exactly_once('erased', [2], 'subscriber.erased')
        self.assertEqual(self.q('SELECT email, locale, billing_status FROM subscribers'
                                ' WHERE id = 2'), [(None, None, 'suspended')])
        self.assertEqual(self.q('SELECT email FROM subscribers WHERE id = 1'),
                         [('user1@example.com',)])
        self.assertEqual(self.one('SELECT count(*) FROM dormant.token WHERE subscriber_id = 2'), 0)
        # Only the erasure notice keeps a payload, and it holds no personal data.
        rows = self.q('SELECT type, payload FROM dormant.outbox WHERE subscriber_id = 2')
        for type_, payload in rows:
            if type_ == 'subscriber.erased':
                self.assertEqual(payload['data'], {'subscriber_id': '2'})
            else:
                self.assertIsNone(payload)
        self.assertEqual(self.one("SELECT count(*) FROM dormant.event WHERE subscriber_id = 2"
                                  " AND detail <> '{}'"), 0)
        # A reactivated subscriber is not reactivated twice.
        self.once()
        self.assert_exactly_once('reactivated', [1])


class KeyTypes(EngineTestCase):

    def test_all_four_key_types(self):
        for id_type in ('bigint', 'integer', 'uuid', 'text'):
            with self.subTest(id_type=id_type):
                self.setup_db(id_type=id_type, policy__confirm_within='1 second',
                              policy__reminders=['500 milliseconds'])
                if id_type == 'uuid':
                    ids = [str(uuid.uuid4()) for _ in range(3)]
                elif id_type == 'text':
                    ids = ['a-1', "o'neil", 'z"9']
                else:
                    ids = [7, 8, 9]
                self.add_subscribers(self.dsn, ids[:2])
                self.add_subscribers(self.dsn, ids[2:], active_ago='1 hour')
                self.start_feed(self.dsn)
                self.once()
                self.assertEqual(self.pending(), sorted(str(i) for i in ids[:2]))
                self.ack()
                # Deadlines are ends of seconds (promise 3): up to 2 s away.
                time.sleep(2.1)
                self.once()  # the reminder goes out, late: delivery + 0.5 s is the deadline
                self.ack()
                time.sleep(1.6)
                self.wait_feed_caught_up(self.dsn)
                self.once()
                self.assert_exactly_once('suspended', ids[:2], 'subscription.suspended')
                self.q("UPDATE subscribers SET billing_status = 'active'")
                self.once()
                self.assert_exactly_once('reactivated', ids[:2], 'subscription.reactivated')


if __name__ == '__main__':
    harness.main()
