"""Several dormantd instances behind a real PgBouncer, in transaction and
in session pooling (DESIGN §6): one scanning leader at a time, nobody
requested or suspended twice, deliveries acknowledged, the confirmation
page answering, a leader killed with kill -9 replaced within the lease
time, and dormantctl working through the pooler."""

import json
import re
import signal
import time

import harness
import pgbouncerlib
from delivery_fixtures import DeliveryTestCase
from enginelib import EngineTestCase
from webhook_sink import WebhookSink, read_whsec

INSTANCES = 3
LEASE_BOUND = 8  # lease 5 s + one poll 1 s + 2 s for a loaded machine (poll_interval 1 s)


class Pooled(EngineTestCase, DeliveryTestCase):
    MODE = None
    POOL = None

    def setUp(self):
        super().setUp()
        if not pgbouncerlib.available():
            self.fail('pgbouncer is not installed (scripts/test installs it)')
        # Session pooling gives each client connection a server connection of
        # its own for as long as it stays: a pool must fit every client
        # (three connections per instance, dormantctl, this test). Transaction
        # pooling shares one server connection among all of them.
        self.bouncer = pgbouncerlib.PgBouncer(self.MODE, self.POOL).start()
        self.addCleanup(self.bouncer.stop)

    def bulk(self, n):
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at, locale,"
               " billing_status)"
               " SELECT i, 'user' || i || '@example.com', now() - interval '4 years',"
               "        now() - interval '3 years' + i * interval '1 second', 'en', 'active'"
               "   FROM generate_series(1, %s) i", (n,))

    def requested(self):
        return self.one("SELECT count(*) FROM dormant.event WHERE kind = 'requested'")

    def leaders(self, ports):
        """Instances whose /metrics say dormant_leader 1."""
        n = []
        for port in ports:
            try:
                self.http_port = port
                st, _, body = self.http('/metrics', timeout=5)
            except OSError:
                continue
            if st == 200 and re.search(r'(?m)^dormant_leader 1$', body.decode()):
                n.append(port)
        return n

    def test_instances_share_one_lead(self):
        # Every instance delivers to a webhook receiver through the pooler.
        sink = WebhookSink(read_whsec(self.secret_path()))
        self.addCleanup(sink.close)
        overrides = {'limits.batch_size': 50, 'policy.confirm_within': '1 second',
                     'policy.reminders': [], 'webhook.url': sink.url,
                     'webhook.timeout': '2 seconds'}
        self.setup_db(overrides=overrides)
        pooled = self.bouncer.dsn(self.dsn)
        self.bulk(600)
        self.start_feed(self.dsn)  # promise 1: suspensions wait for a live feed
        procs, ports, confs = [], [], []
        for i in range(INSTANCES):
            conf = self.write_config(overrides, dsn=pooled, name='i%d.conf' % i)
            confs.append(conf)
            ports.append(self.http_port)
            procs.append(self.start_daemon(conf))
        # One lead at a time, sampled while the backlog is worked through.
        over = []
        deadline = time.monotonic() + 60
        while self.requested() < 600 and time.monotonic() < deadline:
            lead = self.leaders(ports)
            if len(lead) > 1:
                over.append(lead)
            time.sleep(0.2)
        self.assertEqual(self.requested(), 600, self.output_tail())
        self.assertEqual(over, [], 'more than one leader at once')
        self.assertEqual(len(re.findall(r'msg="scanning leader', self.log_text())), 1,
                         self.log_text()[-3000:])
        self.assert_exactly_once('requested', range(1, 601), 'confirmation.requested')

        # dormantctl works through the pooler and names the one leader.
        rc, out, err = self.ctl('status', '--json', config=confs[0])
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(len(doc['instances']), INSTANCES)
        self.assertEqual(sum(1 for i in doc['instances'] if i['leader']), 1)
        leader_pid = doc['lease']['pid']
        self.assertIn(leader_pid, [p.pid for p in procs])

        # kill -9 of the leader: another takes over within the lease time and
        # finishes the work (the mailer acknowledges; deadlines pass).
        victim = [p for p in procs if p.pid == leader_pid][0]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed_at = self.one('SELECT clock_timestamp()')

        def new_leader():
            rc, out, _ = self.ctl('status', '--json', config=confs[0])
            if rc != 0:
                return None
            lease = json.loads(out)['lease']
            return lease['pid'] if lease['pid'] != leader_pid and not lease['expired'] else None
        self.wait_for(new_leader, timeout=30, interval=0.2, what='a new leader')
        took = self.one('SELECT extract(epoch FROM acquired_at - %s)::float FROM dormant.lease',
                        (killed_at,))
        print('%s pooling: leader replaced after %.2f s' % (self.MODE, took))
        self.assertLess(took, LEASE_BOUND)
        self.wait_for(lambda: self.one("SELECT count(*) FROM dormant.account"
                                       " WHERE state = 'suspended'") == 600,
                      timeout=90, what='600 suspensions')
        self.assert_exactly_once('suspended', range(1, 601), 'subscription.suspended')
        # Every request went out through the instances' webhook deliveries
        # (a message in flight at the kill may have gone twice, same id).
        accepted = sink.accepted_ids()
        requests = self.q("SELECT id FROM dormant.outbox WHERE type = 'confirmation.requested'")
        self.assertEqual(len(requests), 600)
        for (oid,) in requests:
            self.assertIn('msg_%d' % oid, accepted)
        self.assertEqual(self.one('SELECT count(*) FROM dormant.outbox'
                                  " WHERE type = 'confirmation.requested'"
                                  ' AND delivered_at IS NULL'), 0)
        for p in procs:
            if p is not victim:
                self.assertEqual(self.stop_daemon(p), 0)

    def test_once_beside_a_leader_and_the_page(self):
        self.setup_db()
        pooled = self.bouncer.dsn(self.dsn)
        conf = self.write_config({}, dsn=pooled, name='a.conf')
        a = self.start_daemon(conf)
        self.wait_log(r'msg="scanning leader')
        # The page answers through the pooler: a subscriber keeps.
        self.add_subscribers(self.dsn, [7])
        self.wait_for(lambda: self.pending() == ['7'], what='the request')
        msg = self.messages('confirmation.requested')[0]
        token = self.token_of(msg[3])
        st, _, _ = self.http('/c/' + token, method='POST', data={'action': 'keep'})
        self.assertEqual(st, 200)
        self.assertEqual(self.states()['7'], 'active')
        t0 = time.monotonic()
        p = self.start_daemon(conf, '--once')
        rc = self.wait_exit(p, timeout=20)
        self.assertEqual(rc, 75, self.output_tail())
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(self.stop_daemon(a), 0)
        self.once()


class Transaction(Pooled):
    MODE = 'transaction'
    POOL = 1


class Session(Pooled):
    MODE = 'session'
    POOL = 3 * INSTANCES + 4


del Pooled

if __name__ == '__main__':
    harness.main()
