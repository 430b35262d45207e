"""Helpers shared by the tests of DESIGN section 1 promise 7 (a brake that
acts at once, reloads that never crash): large populations that keep one
lifecycle step busy for seconds, and the database's own clock to say when
the brake was pulled.

A step is kept busy by giving it thousands of subscribers and a tiny
limits.batch_size: it then sends hundreds of statements in a row, and a
signal or `dormantctl pause` lands in the middle of it.
"""

import time

from enginelib import EngineTestCase


class PromiseTestCase(EngineTestCase):
    """An EngineTestCase with busy populations and brake observations."""

    def suspended_population(self, first, count, suspended_ago='3 years'):
        """count subscribers from id first on, suspended suspended_ago (due
        for erasure under any shorter policy.erase_after)."""
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at, locale,"
               " billing_status) SELECT g, 'user' || g || '@example.com',"
               " now() - interval '5 years', now() - interval '4 years', 'en', 'suspended'"
               " FROM generate_series(%s, %s) g", (first, first + count - 1))
        self.q("INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,"
               " delivered_at, deadline, suspended_at) SELECT g, 'suspended', 1, 'inactive',"
               " now() - %s::interval - interval '40 days',"
               " now() - %s::interval - interval '40 days',"
               " now() - %s::interval, now() - %s::interval"
               " FROM generate_series(%s, %s) g",
               (suspended_ago, suspended_ago, suspended_ago, suspended_ago,
                first, first + count - 1))

    def never_active_population(self, first, count):
        """count subscribers created 3 years ago who never used the service,
        and one who uses it now (a live activity feed, as a real service
        has: the stale-feed guard stays open)."""
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at, locale)"
               " VALUES (0, 'live@example.com', now() - interval '3 years', now(), 'en')"
               " ON CONFLICT (id) DO UPDATE SET last_activity_at = now()")
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at, locale)"
               " SELECT g, 'user' || g || '@example.com', now() - interval '3 years', NULL, 'en'"
               " FROM generate_series(%s, %s) g", (first, first + count - 1))

    def reminder_population(self, first, count):
        """count pending subscribers whose request was delivered 29 days
        ago, deadline tomorrow, first reminder due now (and who never used
        the service, so no rule asks them again)."""
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at, locale)"
               " SELECT g, 'user' || g || '@example.com', now() - interval '40 days', NULL, 'en'"
               " FROM generate_series(%s, %s) g", (first, first + count - 1))
        self.q("INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,"
               " delivered_at, deadline, next_reminder_at) SELECT g, 'pending', 1, 'never_active',"
               " now() - interval '29 days', now() - interval '29 days', now() + interval '1 day',"
               " now() - interval '1 minute' FROM generate_series(%s, %s) g",
               (first, first + count - 1))

    def count_events(self, kind, after=None):
        """Events of kind (written by transactions that began after `after`)."""
        if after is None:
            return self.one('SELECT count(*) FROM dormant.event WHERE kind = %s', (kind,))
        return self.one('SELECT count(*) FROM dormant.event WHERE kind = %s AND at > %s',
                        (kind, after))

    def db_clock(self):
        """The database's clock now (the clock events are stamped with)."""
        return self.one('SELECT clock_timestamp()')

    def wait_events(self, kind, at_least, timeout=None):
        """Waits until at least at_least events of kind exist; returns the count."""
        return self.wait_for(lambda: (lambda n: n if n >= at_least else None)(
            self.count_events(kind)), timeout=timeout, interval=0.02,
            what='%d %s events' % (at_least, kind))

    def settle(self, seconds):
        """Lets the daemon run on for a while (it must do nothing more)."""
        time.sleep(seconds)
        self.assertIsNone(self.daemon.poll(), 'dormantd exited\n%s' % self.output_tail())
