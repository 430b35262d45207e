"""Email delivery through a real SMTP server (Debian's aiosmtpd): headers,
UTF-8 bodies in the subscriber's language, the link and the deadline; a 550
makes the message dead, a server that is down is retried; both channels."""

import email.utils
import os
import shutil
import subprocess
import time

import harness
from delivery_fixtures import DeliveryTestCase
from smtp_server import SmtpServer
from webhook_sink import WebhookSink, read_whsec


class EmailDelivery(DeliveryTestCase):

    def smtp(self, port=None, handler=None):
        s = SmtpServer(self.tmp, port=port, handler=handler)
        self.addCleanup(s.stop)
        return s

    def setup_email(self, smtp_url, retry=('1 second', '2 seconds'), extra=None):
        overrides = {'email.smtp_url': smtp_url, 'email.starttls': 'never',
                     'email.retry': list(retry),
                     'email.from': 'Caf\u00e9 Cin\u00e9ma <no-reply@example.com>'}
        overrides.update(extra or {})
        return self.migrated_db(overrides)

    def test_localized_messages_with_headers_link_and_deadline(self):
        server = self.smtp()
        dsn, conf = self.setup_email(server.url)
        (en,) = self.add_messages(dsn, 1, 1, locale='en')
        (fr,) = self.add_messages(dsn, 2, 1, locale='fr')
        (other,) = self.add_messages(dsn, 3, 1, locale='pt')
        self.start_daemon(conf)
        for oid in (en, fr, other):
            self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'email delivery')
        msgs = {m['To']: m for m in server.messages()}
        self.assertEqual(set(msgs), {'user1@example.com', 'user2@example.com',
                                     'user3@example.com'})
        for sub, oid in ((1, en), (2, fr), (3, other)):
            m = msgs['user%d@example.com' % sub]
            self.assertEqual(m['Message-ID'], '<dormant.%d@example.com>' % oid)
            self.assertIsNotNone(email.utils.parsedate_to_datetime(m['Date']))
            self.assertEqual(m['MIME-Version'], '1.0')
            self.assertEqual(m.get_content_type(), 'multipart/alternative')
            text = m.get_body(('plain',))
            self.assertEqual(text.get_content_charset(), 'utf-8')
            self.assertEqual(m['From'].addresses[0].display_name, 'Caf\u00e9 Cin\u00e9ma')
            self.assertEqual(m['From'].addresses[0].addr_spec, 'no-reply@example.com')
            body = text.get_content()
            self.assertIn('https://account.example.com/dormant/c/tok%d' % sub, body)
            self.assertIn(str(sub), body)
            self.assertNotIn('{{', body)
            row = self.outbox(dsn, oid)
            self.assertEqual(row['channels_done'], ['email'])
            # The deadline the message states is the one stored, and the one
            # enforced is not earlier.
            stated = row['payload']['data']['deadline']
            shown = harness.deadline_shown(stated)
            self.assertIn(str(shown.year), body)
            self.assertIn(str(shown.day), body)
            enforced = self.scalar(dsn, 'SELECT deadline >= %s::timestamptz FROM dormant.account'
                                   ' WHERE subscriber_id = %s', (stated, sub))
            self.assertTrue(enforced)
        months_fr = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août',
                     'septembre', 'octobre', 'novembre', 'décembre']
        months_en = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                     'September', 'October', 'November', 'December']
        stated = self.outbox(dsn, fr)['payload']['data']['deadline']
        month = harness.deadline_shown(stated).month
        fr_msg, en_msg = (msgs['user%d@example.com' % i].get_body(('plain',)) for i in (2, 1))
        fr_subject = msgs['user2@example.com']['Subject']
        en_subject = msgs['user1@example.com']['Subject']
        self.assertEqual(fr_subject, 'Souhaitez-vous conserver votre abonnement ?')
        self.assertIn("Vous n'avez pas utilis\u00e9 votre abonnement", fr_msg.get_content())
        self.assertIn(months_fr[month - 1], fr_msg.get_content())
        self.assertIn('1 octobre 2024', fr_msg.get_content())
        self.assertEqual(en_subject, 'Do you still want your subscription?')
        self.assertIn(months_en[month - 1], en_msg.get_content())
        self.assertIn('1 October 2024', en_msg.get_content())
        # An unknown language falls back to English.
        self.assertEqual(msgs['user3@example.com']['Subject'],
                         'Do you still want your subscription?')
        self.assertEqual(self.stop_daemon(), 0)
        self.assertNotIn('@example.com', self.log_text())

    def test_550_makes_the_message_dead(self):
        server = self.smtp(handler='smtp_reject.Reject')
        dsn, conf = self.setup_email(server.url, retry=('1 second',) * 5)
        (oid,) = self.add_messages(dsn, 1, 1)
        self.start_daemon(conf)
        row = self.wait_row(dsn, oid, lambda r: r['dead_at'], 'dead after 550')
        self.assertEqual(row['attempts'], 1)
        self.assertIn('SMTP 550', row['last_error'])
        self.assertIsNone(row['delivered_at'])
        ev = self.psql(dsn, "SELECT detail FROM dormant.event WHERE kind = 'delivery_failed'")
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0][0]['channel'], 'email')
        self.assertEqual(self.scalar(dsn, 'SELECT state FROM dormant.account'), 'pending')
        self.wait_log(r'level=error msg="delivery failed for good.*outbox_id=%d channel=email'
                      % oid)
        self.assertNotIn('user1@example.com', self.log_text())

    def test_server_down_is_retried_until_it_comes_up(self):
        port = harness.free_port()
        dsn, conf = self.setup_email('smtp://127.0.0.1:%d' % port, retry=('1 second',) * 30)
        (oid,) = self.add_messages(dsn, 1, 1)
        self.start_daemon(conf)
        row = self.wait_row(dsn, oid, lambda r: r['attempts'] >= 2, 'two failed attempts')
        self.assertIsNone(row['dead_at'])
        self.assertIsNone(row['delivered_at'])
        server = self.smtp(port=port)
        self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'delivery once the server is up')
        self.assertEqual(len(server.messages()), 1)
        self.wait_log(r'msg="delivery failed, will retry" outbox_id=%d channel=email' % oid)

    def test_both_channels_each_deliver_once(self):
        server = self.smtp()
        sink = WebhookSink(read_whsec(self.secret_path()))
        self.addCleanup(sink.close)
        dsn, conf = self.setup_email(server.url, retry=('1 second',) * 5,
                                extra={'webhook.url': sink.url,
                                       'webhook.retry': ['1 second'] * 5})
        a, b = self.add_messages(dsn, 1, 2)
        sink.script('msg_%d' % b, [500])
        self.start_daemon(conf)
        self.wait_row(dsn, a, lambda r: r['delivered_at'], 'delivery of a')
        # b: email went through, the webhook failed once: not delivered yet.
        row = self.wait_row(dsn, b, lambda r: r['channels_done'] == ['email']
                            or r['delivered_at'], 'email half of b')
        row = self.wait_row(dsn, b, lambda r: r['delivered_at'], 'delivery of b')
        self.assertEqual(sorted(row['channels_done']), ['email', 'webhook'])
        self.assertEqual(row['attempts'], 1)
        self.assertEqual(sorted(self.outbox(dsn, a)['channels_done']), ['email', 'webhook'])
        self.assertEqual(sink.accepted_ids(), {'msg_%d' % a: 1, 'msg_%d' % b: 1})
        time.sleep(0.5)
        tos = sorted(m['To'] for m in server.messages())
        self.assertEqual(tos, ['user1@example.com', 'user2@example.com'])

    def test_unknown_placeholder_is_a_configuration_error(self):
        templates = os.path.join(self.tmp, 'templates')
        shutil.copytree(os.path.join(harness.SOURCE_DIR, 'etc', 'templates'), templates)
        with open(os.path.join(templates, 'fr', 'subscription.confirmed.txt'), 'a') as f:
            f.write('Votre code : {{coupon}}\n')
        conf = self.write_config({'email.smtp_url': 'smtp://127.0.0.1:25',
                                  'email.templates': templates}, dsn='dbname=none')
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 78, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn('fr/subscription.confirmed.txt', lines[0])
        self.assertIn('coupon', lines[0])


if __name__ == '__main__':
    harness.main()
