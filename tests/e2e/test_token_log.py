#!/usr/bin/python3
"""No working token ever reaches the PostgreSQL server log.

The database gets statement logging at its most talkative
(log_statement = 'all', log_min_duration_statement = 0, bind parameters in
full), then a whole round runs against it: requests, the application's
acknowledgement, reminders, a visit to the page and an answer on it. Every
token that was ever in a link is looked for in the server's log
($DM_PG_DIR/server.log), where none may be; the log must show dormant's
statements (so logging was on) and may show tokens' hashes.
"""

import os

import harness
from enginelib import EngineTestCase


class TokensNotLogged(EngineTestCase):

    def server_log(self):
        path = os.path.join(os.environ.get('DM_PG_DIR', ''), 'server.log')
        if not os.path.exists(path):
            self.skipTest('DM_PG_DIR/server.log not found (run through scripts/test)')
        with open(path, 'r', errors='replace') as f:
            return f.read()

    def test_no_token_in_server_log(self):
        self.server_log()  # skip early when there is none
        # A reminder due two seconds after delivery; a period shorter than
        # a day, so that the deadline is not moved to a midnight.
        self.setup_db(policy__confirm_within='23 hours 59 minutes 59 seconds',
                      policy__reminders=['23 hours 59 minutes 57 seconds'])
        dbname = self.dbs[-1]
        for setting in ("log_statement = 'all'", 'log_min_duration_statement = 0',
                        'log_parameter_max_length = -1', 'log_parameter_max_length_on_error = -1',
                        "log_min_error_statement = 'error'"):
            harness.psql(harness.admin_dsn(), 'ALTER DATABASE "%s" SET %s' % (dbname, setting))
        self.add_subscribers(self.dsn, range(1, 6))
        self.start_daemon()
        self.wait_http()

        def requested():
            return len(self.messages('confirmation.requested')) == 5 or None
        self.wait_for(requested, what='five requests')
        tokens = [self.token_of(m[3]) for m in self.messages('confirmation.requested')]
        self.assertEqual(self.ack(), 5)

        def reminded():
            return len(self.messages('confirmation.reminder')) == 5 or None
        self.wait_for(reminded, what='five reminders')
        reminders = [self.token_of(m[3]) for m in self.messages('confirmation.reminder')
                     if m[3].get('data', {}).get('confirm_url')]
        self.assertEqual(len(reminders), 5)
        tokens += reminders
        self.assertEqual(len(set(tokens)), 10)
        # The page, as the subscriber uses it: look, then answer.
        self.assertEqual(self.http('/c/' + reminders[0])[0], 200)
        status, _, _ = self.http('/c/' + reminders[1], method='POST', data={'action': 'keep'})
        self.assertEqual(status, 200)
        self.ack()
        self.stop_daemon()

        log = self.server_log()
        self.assertIn('dormant.outbox', log, 'statement logging was not on')
        leaked = [t for t in tokens if t in log]
        self.assertEqual(leaked, [], 'working tokens in the server log: %s' % [
            line for line in log.splitlines() if any(t in line for t in leaked)][:3])


if __name__ == '__main__':
    harness.main()
