"""A delivery is not receipt (DESIGN section 7), through a real SMTP server:
a bounce reported after delivery (by the application's mailer role with
dormant.bounced(), or by dormantctl bounced) undoes it, so nobody is
suspended until a new request is delivered; dormantctl resend sends a new
message (a new row and id) to the address the source holds now, so a fixed
address is used; and the suspension mail says why it happened."""

import os
import re
import secrets
import time
import urllib.parse

import psycopg2
import psycopg2.extensions

import harness
from delivery_fixtures import DeliveryTestCase
from smtp_server import SmtpServer
from test_least_privilege import readme_blocks

REQUESTED = 'confirmation.requested'


class Bounces(DeliveryTestCase):

    def setUp(self):
        super().setUp()
        self.server = SmtpServer(self.tmp)
        self.addCleanup(self.server.stop)

    def setup(self, confirm_within='3 seconds'):
        dsn, conf = self.migrated_db({
            'email.smtp_url': self.server.url, 'email.starttls': 'never',
            'email.retry': ['1 second'] * 3, 'policy.confirm_within': confirm_within,
            'policy.reminders': []})
        self.dsn = dsn
        return dsn, conf

    def mails_to(self, addr):
        return [m for m in self.server.messages() if m['To'] == addr]

    def account(self, sid):
        rows = self.psql(self.dsn, 'SELECT state, delivered_at, deadline, request_outbox_id'
                         ' FROM dormant.account WHERE subscriber_id = %s', (sid,))
        return dict(zip(('state', 'delivered_at', 'deadline', 'request_outbox_id'), rows[0]))

    def requests(self, sid):
        return self.psql(self.dsn, 'SELECT id, delivered_at, dead_at, last_error, payload'
                         " FROM dormant.outbox WHERE subscriber_id = %s AND type = %s"
                         ' ORDER BY id', (sid, REQUESTED))

    def link_in(self, mail):
        text = mail.get_body(('plain',)).get_content()
        url = re.search(r'(http://\S+/c/[A-Za-z0-9_-]{43})', text).group(1)
        return urllib.parse.urlparse(url).path

    def mailer_role(self):
        """A role with exactly the README's grants for the application's mailer."""
        role = 'bounce_mailer_%d_%s' % (os.getpid(), secrets.token_hex(3))

        def drop():
            for dsn in (self.dsn, harness.admin_dsn()):
                try:
                    harness.psql(dsn, 'DROP OWNED BY "%s" CASCADE' % role)
                except psycopg2.Error:
                    pass
            harness.psql(harness.admin_dsn(), 'DROP ROLE IF EXISTS "%s"' % role)
        self.addCleanup(drop)
        conn = psycopg2.connect(self.dsn)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(readme_blocks()['mailer'].replace('app_mailer', role))
        finally:
            conn.close()
        return psycopg2.extensions.make_dsn(self.dsn, user=role)

    def test_bounce_after_delivery_then_no_suspension_until_a_new_request_is_delivered(self):
        dsn, conf = self.setup()
        self.add_subscribers(dsn, [1], created_ago='4 years', active_ago='3 years')
        self.start_feed(dsn)  # promise 1: suspensions wait for a live activity feed
        self.start_daemon(conf)
        self.wait_for(lambda: self.mails_to('user1@example.com'), what='the request')
        (first, delivered, _, _, _), = self.requests(1)
        self.assertIsNotNone(delivered)
        self.assertIsNotNone(self.account(1)['deadline'])
        # The mail provider's bounce hook, as the application's mailer role.
        mailer = self.mailer_role()
        self.assertTrue(harness.scalar(mailer, 'SELECT dormant.bounced(%s, %s)',
                                       (first, '550 5.1.1 mailbox unavailable')))
        self.assertFalse(harness.scalar(mailer, 'SELECT dormant.bounced(%s, %s)', (first, 'x')),
                         'a bounce is recorded once')
        acc = self.account(1)
        self.assertEqual(acc['state'], 'pending')
        self.assertIsNone(acc['delivered_at'])
        self.assertIsNone(acc['deadline'])
        # Well past the confirmation period: not suspended, shown as undeliverable.
        time.sleep(5)
        self.assertEqual(self.account(1)['state'], 'pending')
        rc, out, err = self.ctl('show', '1', config=conf)
        self.assertEqual(rc, 0, err)
        self.assertIn('could not be delivered', out)
        rc, out, err = self.ctl('status', '--json', config=conf)
        self.assertIn('"undeliverable_requests": 1', out.replace(' ', ' '))
        ev = self.psql(dsn, "SELECT detail, actor FROM dormant.event WHERE kind = 'bounced'")
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0][0]['outbox_id'], first)
        self.assertEqual(ev[0][0]['reason'], '550 5.1.1 mailbox unavailable')
        self.assertTrue(ev[0][1].startswith('bounce_mailer_'), ev[0][1])
        self.assertEqual(len(self.mails_to('user1@example.com')), 1, 'not sent again by itself')
        # A second bounce report finds nothing delivered to undo.
        rc, out, err = self.ctl('bounced', '1', config=conf)
        self.assertEqual(rc, 65, out)
        self.assertIn('no delivered request', err)

        # The operator fixes the address and sends a new request.
        self.psql(dsn, "UPDATE subscribers SET email = 'fixed1@example.com' WHERE id = 1")
        rc, out, err = self.ctl('resend', '1', config=conf)
        self.assertEqual(rc, 0, err)
        mail = self.wait_for(lambda: self.mails_to('fixed1@example.com'), what='the new request')
        rows = self.requests(1)
        self.assertEqual(len(rows), 2)
        second = rows[1][0]
        self.assertNotEqual(second, first, 'a new row and id')
        self.assertIn('message %d' % second, out)
        self.assertEqual(mail[0]['Message-ID'], '<dormant.%d@example.com>' % second)
        self.wait_for(lambda: self.account(1)['delivered_at'], what='the new delivery')
        self.assertEqual(rows[1][4]['data']['email'], 'fixed1@example.com',
                         'the row records the address used')
        # Its link works, and the old one is not needed.
        self.assertEqual(self.http(self.link_in(mail[0]))[0], 200)
        # Now the deadline runs: suspended, and the mail says they did not answer.
        self.wait_for(lambda: self.account(1)['state'] == 'suspended', timeout=30,
                      what='suspension after the new request')
        try:
            notice = self.wait_for(lambda: [m for m in self.mails_to('fixed1@example.com')
                                            if 'paused billing' in str(m['Subject'])],
                                   what='the suspension mail', timeout=90)
        except AssertionError as e:
            raise AssertionError('%s\noutbox: %s' % (e, self.psql(
                dsn, 'SELECT id, type, attempts, delivered_at, dead_at, last_error'
                ' FROM dormant.outbox ORDER BY id')))
        text = notice[0].get_body(('plain',)).get_content()
        self.assertIn('did not hear back in time', text)
        reason = self.scalar(dsn, "SELECT payload->'data'->>'reason' FROM dormant.outbox"
                             " WHERE type = 'subscription.suspended'")
        self.assertEqual(reason, 'no_answer')
        self.assertEqual(self.stop_daemon(), 0)
        self.assertNotIn('@example.com', self.log_text())

    def test_fixed_address_then_resend(self):
        """No address at first: the request dies; after the fix, resend
        reaches the new address, though the queued payload had none."""
        dsn, conf = self.setup(confirm_within='30 days')
        self.add_subscribers(dsn, [2], created_ago='4 years', active_ago='3 years')
        self.psql(dsn, 'UPDATE subscribers SET email = NULL WHERE id = 2')
        self.start_daemon(conf)
        self.wait_for(lambda: [r for r in self.requests(2) if r[2]], what='the dead request')
        rc, out, err = self.ctl('show', '2', config=conf)
        self.assertIn('could not be delivered', out)
        self.assertIn('dormantctl resend', out)
        # Before the fix, a resend dies the same way; after it, it arrives.
        self.psql(dsn, "UPDATE subscribers SET email = 'user2@example.com' WHERE id = 2")
        rc, out, err = self.ctl('resend', '2', config=conf)
        self.assertEqual(rc, 0, err)
        mail = self.wait_for(lambda: self.mails_to('user2@example.com'), what='the new request')
        self.wait_for(lambda: self.account(2)['delivered_at'], what='the delivery')
        self.assertIsNotNone(self.account(2)['deadline'])
        self.assertEqual(self.http(self.link_in(mail[0]))[0], 200)
        # Delivered and the deadline runs: resend says what to do instead.
        rc, out, err = self.ctl('resend', '2', config=conf)
        self.assertEqual(rc, 65)
        self.assertIn('dormantctl bounced 2', err)
        # dormantctl bounced undoes it; then resend works again.
        rc, out, err = self.ctl('bounced', '2', '--reason', 'mailbox full', config=conf)
        self.assertEqual(rc, 0, err)
        self.assertIsNone(self.account(2)['deadline'])
        last = self.requests(2)[-1]
        self.assertIn('bounced: mailbox full', last[3])
        rc, out, err = self.ctl('resend', '2', config=conf)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.requests(2)), 3)
        # Someone who is not pending has nothing to resend.
        self.add_subscribers(dsn, [3], active_ago='1 hour')
        rc, out, err = self.ctl('resend', '3', config=conf)
        self.assertEqual(rc, 65)
        self.assertIn('not waiting for an answer', err)

    def test_pause_on_the_page_gets_the_declined_mail(self):
        dsn, conf = self.setup(confirm_within='30 days')
        self.add_subscribers(dsn, [4], created_ago='4 years', active_ago='3 years', locale='es')
        self.start_daemon(conf)
        mail = self.wait_for(lambda: self.mails_to('user4@example.com'), what='the request')
        status, _, _ = self.http(self.link_in(mail[0]), method='POST',
                                 data={'action': 'pause'})
        self.assertEqual(status, 200)
        notice = self.wait_for(lambda: [m for m in self.mails_to('user4@example.com')
                                        if 'pausado' in str(m['Subject'])],
                               what='the suspension mail')
        text = notice[0].get_body(('plain',)).get_content()
        self.assertIn('Tal como nos pidió', text)
        self.assertNotIn('a tiempo', text)


if __name__ == '__main__':
    harness.main()
