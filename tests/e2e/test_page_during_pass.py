"""The page answers while a pass is in flight on its own connection, over a large backlog."""

import harness
import pagelib

BACKLOG = 20000


class PageDuringPass(pagelib.PageTestCase):

    def pass_waiting(self):
        """True while the daemon's pass connection has a statement in flight
        that waits for a lock."""
        return self.scalar(self.dsn, "SELECT count(*) FROM pg_stat_activity"
                           " WHERE datname = current_database()"
                           " AND application_name = 'dormantd/pass'"
                           " AND state = 'active' AND wait_event_type = 'Lock'") > 0

    def test_page_answers_while_the_pass_is_busy(self):
        held = {}

        def prepare():
            # A large backlog the pass has to work through: everyone
            # inactive for three years.
            self.psql(self.dsn, "INSERT INTO subscribers (id, email, created_at,"
                      " last_activity_at) SELECT g, 'u' || g || '@example.com',"
                      " now() - interval '3 years', now() - interval '3 years'"
                      " FROM generate_series(1000, %s) g", (1000 + BACKLOG - 1,))
            held['token'] = self.pending_request(1)
            # Hold the control row, which a pass updates when it records its
            # outcome: the pass's statement then stays in flight, on its own
            # connection, for as long as this test wants.
            conn = harness.psycopg2.connect(self.dsn)
            self.addCleanup(conn.close)
            cur = conn.cursor()
            cur.execute('SELECT * FROM dormant.control FOR UPDATE')
            held['conn'] = conn

        self.start(subscribers=[1, 2], before_daemon=prepare)
        token, conn = held['token'], held['conn']
        try:
            self.wait_for(self.pass_waiting, timeout=20, what='the pass to block')
        except AssertionError:
            conn.rollback()
            self.skipTest('no pass statement waits on dormant.control (engine not there yet?)')
        status, headers, body = self.http('/c/' + token)
        self.assertEqual(status, 200)
        self.assertEqual(self.post('/c/' + token, 'keep')[0], 200)
        self.assertEqual(self.http('/healthz')[0], 200)
        self.assertEqual(self.http('/metrics')[0], 200)
        self.assertTrue(self.pass_waiting(), 'the pass ended before the page was tested')
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'
                                     ' WHERE subscriber_id = 1'), 'active')
        conn.rollback()
        # The pass goes on and works through the backlog.
        self.wait_for(lambda: self.scalar(self.dsn, "SELECT count(*) FROM dormant.account"
                                          " WHERE state = 'pending'") >= BACKLOG,
                      what='the backlog to be requested')
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'
                                     ' WHERE subscriber_id = 1'), 'active')


if __name__ == '__main__':
    harness.main()
