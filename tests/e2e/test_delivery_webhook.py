"""Webhook delivery against a real HTTP receiver that checks every signature
on its own: schedule, Retry-After, dead letters, 410, timeouts, and two
instances draining one outbox without sending anything twice."""

import base64
import datetime
import json
import os
import secrets
import signal
import ssl
import subprocess
import time

import harness
from delivery_fixtures import DeliveryTestCase, REQUESTED
from webhook_sink import WebhookSink, read_whsec


class WebhookDelivery(DeliveryTestCase):

    def start(self, retry=('1 second', '2 seconds'), timeout='15 seconds', default=200,
              delay=0.0, extra=None):
        self.sink = WebhookSink(read_whsec(self.secret_path()), delay=delay)
        self.sink.default = default
        self.addCleanup(self.sink.close)
        overrides = {'webhook.url': self.sink.url, 'webhook.retry': list(retry),
                     'webhook.timeout': timeout}
        overrides.update(extra or {})
        self.dsn, self.conf = self.migrated_db(overrides)
        return self.dsn

    def test_signed_delivery_states_deadline_and_starts_grace(self):
        dsn = self.start()
        req_ids = self.add_messages(dsn, 1, 3)
        rem_ids = self.add_messages(dsn, 10, 1, type='confirmation.reminder',
                                    deadline='2030-01-02T03:04:05Z')
        self.start_daemon(self.conf)
        for oid in req_ids + rem_ids:
            self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'delivery of %d' % oid)
        seen = self.sink.seen()
        self.assertEqual(len(seen), 4, seen)
        for r in seen:
            self.assertTrue(r.sig_ok, r)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.timestamp.isdigit())
        by_id = {r.msg_id: r for r in seen}
        self.assertEqual(set(by_id), {'msg_%d' % i for i in req_ids + rem_ids})
        for oid in req_ids:
            body = by_id['msg_%d' % oid].json()
            self.assertEqual(body['type'], REQUESTED)
            self.assertTrue(body['data']['confirm_url'].startswith('https://'))
            stated = datetime.datetime.strptime(body['data']['deadline'], '%Y-%m-%dT%H:%M:%SZ')
            stated = stated.replace(tzinfo=datetime.timezone.utc)
            row = self.outbox(dsn, oid)
            # The confirmation period (30 days) runs from the send.
            self.assertGreater(stated, row['delivered_at'] + datetime.timedelta(days=29))
            # The deadline enforced is never earlier than the one stated.
            deadline = self.scalar(dsn, 'SELECT a.deadline FROM dormant.account a'
                                   ' JOIN dormant.outbox o ON o.id = a.request_outbox_id'
                                   ' WHERE o.id = %s', (oid,))
            self.assertGreaterEqual(deadline, stated)
            # Delivery retires the link from the stored payload.
            self.assertNotIn('confirm_url', row['payload']['data'])
            self.assertEqual(row['payload']['data']['deadline'], body['data']['deadline'])
            self.assertEqual(row['channels_done'], ['webhook'])
            self.assertEqual(row['attempts'], 0)
            self.assertIsNone(row['claimed_by'])
        # A reminder states the deadline it was written with.
        body = by_id['msg_%d' % rem_ids[0]].json()
        self.assertEqual(body['data']['deadline'], '2030-01-02T03:04:05Z')
        self.assertEqual(self.stop_daemon(), 0)
        self.assertNotIn('@example.com', self.log_text())

    def test_retry_schedule_then_dead(self):
        dsn = self.start(retry=('1 second', '2 seconds'))
        dead_id, late_id = self.add_messages(dsn, 1, 2)
        self.sink.script('msg_%d' % dead_id, [500, 500, 500, 500, 500])
        self.sink.script('msg_%d' % late_id, [500, 502])
        self.start_daemon(self.conf)
        row = self.wait_row(dsn, dead_id, lambda r: r['dead_at'], 'dead message')
        # One first attempt plus one per configured delay, then dead.
        tries = self.sink.seen('msg_%d' % dead_id)
        self.assertEqual(len(tries), 3, tries)
        self.assertTrue(all(t.sig_ok for t in tries))
        self.assertGreaterEqual(tries[1].at - tries[0].at, 0.9)
        self.assertGreaterEqual(tries[2].at - tries[1].at, 1.9)
        self.assertEqual(row['attempts'], 3)
        self.assertIsNone(row['delivered_at'])
        self.assertIn('HTTP 500', row['last_error'])
        ev = self.psql(dsn, "SELECT actor, detail FROM dormant.event WHERE kind = 'delivery_failed'"
                       " AND subscriber_id = %s", (1,))
        self.assertEqual(len(ev), 1, ev)
        self.assertEqual(ev[0][0], 'daemon')
        self.assertEqual(ev[0][1]['outbox_id'], dead_id)
        self.assertEqual(ev[0][1]['channel'], 'webhook')
        # The subscriber stays pending and has no deadline: never suspended.
        self.assertEqual(self.scalar(dsn, 'SELECT state || coalesce(deadline::text, \'-\')'
                                     ' FROM dormant.account WHERE subscriber_id = 1'), 'pending-')
        # The other message failed twice, then got through.
        row = self.wait_row(dsn, late_id, lambda r: r['delivered_at'], 'late delivery')
        self.assertEqual(row['attempts'], 2)
        self.assertEqual(len(self.sink.seen('msg_%d' % late_id)), 3)
        self.wait_log(r'level=error msg="delivery failed for good.*outbox_id=%d channel=webhook'
                      % dead_id)
        # One cause failing several messages is logged once a round (the
        # metrics below count every attempt), so either message may carry it.
        self.wait_log(r'msg="delivery failed, will retry" outbox_id=(%d|%d) channel=webhook'
                      r' cause="HTTP 500"' % (dead_id, late_id))
        self.assertNotIn('@example.com', self.log_text())
        self.assertNotIn('tok1', self.log_text())
        # The metrics count every attempt by outcome, and the dead letter.
        status, _, body = self.http('/metrics')
        self.assertEqual(status, 200)
        text = body.decode()
        for line in ('dormant_deliveries_total{channel="webhook",outcome="dead"} 1',
                     'dormant_deliveries_total{channel="webhook",outcome="retry"} 4',
                     'dormant_deliveries_total{channel="webhook",outcome="delivered"} 1',
                     'dormant_transitions_total{kind="delivery_failed"} 1'):
            self.assertIn(line, text)

    def test_retry_after_honoured(self):
        dsn = self.start(retry=('1 second', '1 second', '1 second'))
        a, b = self.add_messages(dsn, 1, 2)
        self.sink.script('msg_%d' % a, [(503, 3), 200])
        self.sink.script('msg_%d' % b, [(429, 3), 200])
        self.start_daemon(self.conf)
        for oid in (a, b):
            self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'delivery after Retry-After')
            tries = self.sink.seen('msg_%d' % oid)
            self.assertEqual(len(tries), 2, tries)
            # The configured delay is 1 s; the server asked for 3.
            self.assertGreaterEqual(tries[1].at - tries[0].at, 2.9)

    def test_410_disables_until_reload(self):
        dsn = self.start(retry=('1 second',) * 5)
        (gone,) = self.add_messages(dsn, 1, 1)
        self.sink.script('msg_%d' % gone, [410])
        self.start_daemon(self.conf)
        self.wait_log(r'level=error msg="webhook endpoint answered 410 Gone')
        (waiting,) = self.add_messages(dsn, 2, 1)
        # Nothing more is sent while disabled, and nothing is dead: messages wait.
        mark = len(self.sink.seen())
        time.sleep(3)  # three retry delays: a live endpoint would have been called
        self.assertEqual(len(self.sink.seen()), mark)
        for oid in (gone, waiting):
            row = self.outbox(dsn, oid)
            self.assertIsNone(row['dead_at'])
            self.assertIsNone(row['delivered_at'])
            self.assertEqual(row['attempts'], 0)
        self.signal_daemon(signal.SIGHUP)
        for oid in (gone, waiting):
            self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'delivery after reload')
        self.assertEqual(self.sink.accepted_ids(), {'msg_%d' % gone: 1, 'msg_%d' % waiting: 1})

    def test_hanging_endpoint_times_out(self):
        dsn = self.start(retry=('1 second',) * 3, timeout='1 second')
        (oid,) = self.add_messages(dsn, 1, 1)
        self.sink.script('msg_%d' % oid, ['hang', 200])
        self.start_daemon(self.conf)
        row = self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'delivery after a hang')
        self.assertEqual(row['attempts'], 1)
        self.assertIn('timeout', row['last_error'])
        self.wait_log(r'msg="delivery failed, will retry" outbox_id=%d channel=webhook'
                      r' cause=timeout' % oid)

    def test_two_instances_never_send_one_message_twice(self):
        dsn = self.start(delay=0.002, extra={'webhook.concurrency': 8})
        ids = self.add_messages(dsn, 1, 400)
        conf2 = self.write_config({'webhook.url': self.sink.url,
                                   'webhook.retry': ['1 second'],
                                   'webhook.concurrency': 8}, dsn=dsn, name='second.conf')
        one = self.start_daemon(self.conf)
        two = self.start_daemon(conf2)
        self.wait_for(lambda: self.scalar(dsn, 'SELECT count(*) FROM dormant.outbox'
                                          ' WHERE delivered_at IS NULL') == 0,
                      what='every message delivered')
        accepted = self.sink.accepted_ids()
        self.assertEqual(set(accepted), {'msg_%d' % i for i in ids})
        twice = {k: v for k, v in accepted.items() if v != 1}
        self.assertEqual(twice, {})
        self.assertEqual(len(self.sink.seen()), len(ids))
        self.assertEqual(self.stop_daemon(one), 0)
        self.assertEqual(self.stop_daemon(two), 0)

    def test_secret_rotated_on_reload(self):
        dsn = self.start()
        (a,) = self.add_messages(dsn, 1, 1)
        self.start_daemon(self.conf)
        self.wait_row(dsn, a, lambda r: r['delivered_at'], 'delivery with the first secret')
        new_key = secrets.token_bytes(32)
        with open(self.secret_path(), 'w') as f:
            f.write('whsec_' + base64.b64encode(new_key).decode() + '\n')
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'configuration reloaded', since=mark)
        self.sink.key = new_key
        (b,) = self.add_messages(dsn, 2, 1)
        self.wait_row(dsn, b, lambda r: r['delivered_at'], 'delivery with the new secret')
        self.assertTrue(all(r.sig_ok for r in self.sink.seen()))
        self.assertNotIn(base64.b64encode(new_key).decode(), self.log_text())

    def test_tls_certificates_are_verified(self):
        # A self-signed certificate: the handshake must fail, nothing is sent.
        cert, key = os.path.join(self.tmp, 'cert.pem'), os.path.join(self.tmp, 'key.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                        '-keyout', key, '-out', cert], check=True, capture_output=True)
        sink = WebhookSink(read_whsec(self.secret_path()))
        self.addCleanup(sink.close)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        sink.server.socket = ctx.wrap_socket(sink.server.socket, server_side=True)
        url = 'https://127.0.0.1:%d/hook' % sink.server.server_address[1]
        self.dsn, self.conf = self.migrated_db({'webhook.url': url,
                                                'webhook.retry': ['1 second'] * 5})
        (oid,) = self.add_messages(self.dsn, 1, 1)
        self.start_daemon(self.conf)
        row = self.wait_row(self.dsn, oid, lambda r: r['attempts'] >= 1, 'a failed attempt')
        self.assertIsNone(row['delivered_at'])
        self.assertRegex(row['last_error'], r'(?i)ssl|certificate')
        self.assertEqual(sink.seen(), [])


if __name__ == '__main__':
    harness.main()
