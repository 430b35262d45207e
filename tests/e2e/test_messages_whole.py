"""Every message a subscriber can receive, through a real SMTP server
(Debian's aiosmtpd), parsed as a mail client would: every type, rule,
reason and shipped language reads whole (no empty placeholder, no
"since ,"), is multipart/alternative with a text and an HTML part that both
carry the link, and states its dates in email.timezone with month and day
names in the message's language. The operator's own SMTP refusals are
retried and reported, never counted against the subscriber; a server's
refusal of an address is reported with the server's reply."""

import html.parser
import re
import time

import harness
from delivery_fixtures import DeliveryTestCase
from smtp_server import SmtpServer

LOCALES = ['en', 'fr', 'de', 'es']
TYPES = ['confirmation.requested', 'confirmation.reminder', 'subscription.confirmed',
         'subscription.suspended', 'subscription.reactivated', 'subscriber.erased']
WITH_LINK = ('confirmation.requested', 'confirmation.reminder')
RULES = ['inactive', 'never_active']
REASONS = ['no_answer', 'declined']

# 23:00 UTC on 28 December is midnight at the end of Monday 28 December in
# Paris, so a message states the day that ends there and its last minute
# (promise 3: the deadline is the end of the day stated); the last use at
# 23:08 UTC on 20 July 2024 was 01:08 on 21 July there.
DEADLINE = '2026-12-28T23:00:00Z'
LAST_ACTIVITY = '2024-07-20T23:08:00Z'
DEADLINE_SHOWN = {'en': 'Monday, 28 December 2026', 'fr': 'lundi 28 décembre 2026',
                  'de': 'Montag, 28. Dezember 2026', 'es': 'lunes, 28 de diciembre de 2026'}
TIME_SHOWN = {'en': '11:59\u202fpm', 'fr': '23:59', 'de': '23:59', 'es': '23:59'}
ACTIVITY_SHOWN = {'en': '21 July 2024', 'fr': '21 juillet 2024', 'de': '21. Juli 2024',
                  'es': '21 de julio de 2024'}
ACTIVITY_UTC = {'en': '20 July 2024', 'fr': '20 juillet 2024', 'de': '20. Juli 2024',
                'es': '20 de julio de 2024'}

MONTHS = {'en': ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                  'September', 'October', 'November', 'December'],
          'fr': ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août',
                 'septembre', 'octobre', 'novembre', 'décembre'],
          'de': ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August',
                 'September', 'Oktober', 'November', 'Dezember'],
          'es': ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto',
                 'septiembre', 'octubre', 'noviembre', 'diciembre']}

# Left-overs of an empty placeholder or section: "since ,", "le .", "()".
HOLES = [re.compile(r'\s[,.]'), re.compile(r'\(\s*\)'), re.compile(r'\{\{|\}\}'),
         re.compile(r'\b(since|depuis le|seit dem|desde el)\s*[,.]')]


class Links(html.parser.HTMLParser):
    """The href of every <a> and the lang of <html> in an HTML part."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.lang = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'a' and 'href' in attrs:
            self.hrefs.append(attrs['href'])
        if tag == 'html':
            self.lang = attrs.get('lang')


def text_of(html_part):
    """The visible text of an HTML part, whitespace collapsed."""
    class T(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.out, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ('style', 'head', 'title')

        def handle_endtag(self, tag):
            self.skip -= tag in ('style', 'head', 'title')

        def handle_data(self, data):
            if not self.skip:
                self.out.append(data)
    t = T()
    t.feed(html_part)
    return ' '.join(''.join(t.out).split())


class WholeMessages(DeliveryTestCase):

    def smtp(self, handler=None):
        s = SmtpServer(self.tmp, handler=handler)
        self.addCleanup(s.stop)
        return s

    def setup_email(self, server, retry=('1 second',) * 3):
        return self.migrated_db({'email.smtp_url': server.url, 'email.starttls': 'never',
                                 'email.retry': list(retry),
                                 'email.timezone': 'Europe/Paris',
                                 'email.from': 'Dormant, Inc. <no-reply@example.com>'})

    def add_row(self, dsn, sid, type_, locale, rule, reason=None, email=None):
        """Subscriber sid and one outbox row written as the engine writes
        it; returns the outbox id."""
        link = ('https://account.example.com/dormant/c/tok%d?x=1&y=2' % sid
                if type_ in WITH_LINK else None)
        # The source row is new, so no pass of the daemon asks them itself.
        self.psql(dsn, 'INSERT INTO public.subscribers (id, email, created_at,'
                  ' last_activity_at, locale) VALUES (%s, %s, now(), NULL, %s)',
                  (sid, email or 'user%d@example.com' % sid, locale))
        # A request or reminder goes out only while its cycle is pending, so
        # the account is written with it, in the same statement.
        return self.scalar(dsn, '''
            WITH o AS (
            INSERT INTO dormant.outbox (type, subscriber_id, cycle, payload)
            VALUES (%(type)s, %(sid)s, 1, jsonb_build_object('type', %(type)s,
              'timestamp', '2026-11-28T23:00:00Z',
              'data', jsonb_strip_nulls(jsonb_build_object(
                 'subscriber_id', %(sid)s::text, 'email', %(email)s, 'locale', %(locale)s,
                 'confirm_url', %(link)s::text, 'deadline', %(deadline)s::text,
                 'last_activity_at', %(la)s::text, 'rule', %(rule)s::text,
                 'reason', %(reason)s::text))))
            RETURNING id, subscriber_id),
            a AS (
            INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,
                                         request_outbox_id)
            SELECT o.subscriber_id, 'pending', 1, %(rule)s, now(),
                   CASE WHEN %(type)s = 'confirmation.requested' THEN o.id END
              FROM o WHERE %(type)s IN ('confirmation.requested', 'confirmation.reminder')
            RETURNING 1)
            SELECT id FROM o''', {'type': type_, 'sid': sid, 'locale': locale, 'link': link,
                              'email': email or 'user%d@example.com' % sid,
                              'deadline': DEADLINE if type_ in WITH_LINK else None,
                              'la': LAST_ACTIVITY if rule == 'inactive' else None,
                              'rule': rule, 'reason': reason})

    def test_every_type_rule_reason_and_language_reads_whole(self):
        server = self.smtp()
        dsn, conf = self.setup_email(server)
        cases, oids, sid = {}, {}, 0
        for locale in LOCALES:
            for type_ in TYPES:
                for rule in RULES:
                    for reason in (REASONS if type_ == 'subscription.suspended' else [None]):
                        sid += 1
                        cases[sid] = (locale, type_, rule, reason)
                        oids[sid] = self.add_row(dsn, sid, type_, locale, rule, reason)
        self.psql(dsn, 'NOTIFY dormant_outbox')
        self.start_daemon(conf)
        self.wait_for(lambda: self.scalar(dsn, 'SELECT count(*) FROM dormant.outbox WHERE'
                                          ' delivered_at IS NULL') == 0,
                      timeout=120, what='every message delivered')
        msgs = {int(m['To'].split('@')[0][4:]): m for m in server.messages()}
        self.assertEqual(set(msgs), set(cases))
        seen = {}
        for sid, (locale, type_, rule, reason) in sorted(cases.items()):
            m = msgs[sid]
            what = '%s %s %s %s' % (locale, type_, rule, reason)
            self.assertEqual(m['From'].addresses[0].display_name, 'Dormant, Inc.', what)
            self.assertEqual(m['From'].addresses[0].addr_spec, 'no-reply@example.com')
            self.assertEqual(m.get_content_type(), 'multipart/alternative', what)
            parts = {p.get_content_type(): p for p in m.iter_parts()}
            self.assertEqual(set(parts), {'text/plain', 'text/html'}, what)
            self.assertEqual(list(parts)[-1], 'text/html', 'HTML last: the preferred part')
            text = parts['text/plain'].get_content()
            page = parts['text/html'].get_content()
            self.assertEqual(parts['text/html'].get_content_charset(), 'utf-8')
            shown = text_of(page)
            links = Links()
            links.feed(page)
            self.assertEqual(links.lang, locale, what)
            subject = str(m['Subject'])
            for part, body in (('subject', subject), ('text', text), ('html', shown)):
                for hole in HOLES:
                    self.assertIsNone(hole.search(body), '%s %s: %r in %r' % (
                        what, part, hole.pattern, body))
            self.assertNotIn('{{', page)
            self.assertIn(str(sid), text)
            self.assertIn(str(sid), shown)
            if type_ == 'confirmation.requested':
                # The deadline a request states is set when it is sent.
                stated = self.outbox(dsn, oids[sid])['payload']['data']['deadline']
                last = harness.deadline_shown(stated, 'Europe/Paris')
                for body in (text, shown):
                    self.assertIn(MONTHS[locale][last.month - 1], body, what)
                    self.assertIn(':%02d' % last.minute, body, what)
            if type_ in WITH_LINK:
                url = 'https://account.example.com/dormant/c/tok%d?x=1&y=2' % sid
                self.assertIn(url, text, what)
                self.assertIn(url, links.hrefs, what)
                self.assertIn('&amp;', page, 'the link is HTML-escaped in the HTML part')
            if type_ == 'confirmation.reminder':
                for body in (text, shown):
                    self.assertIn(DEADLINE_SHOWN[locale], body, what)
                    self.assertIn(' '.join(TIME_SHOWN[locale].split()), ' '.join(body.split()),
                                  what)
            if rule == 'inactive' and type_ == 'confirmation.requested':
                for body in (text, shown):
                    self.assertIn(ACTIVITY_SHOWN[locale], body, what)
            for body in (text, shown):
                self.assertNotIn(ACTIVITY_UTC[locale], body, what + ': a date in UTC')
            seen[(locale, type_, rule, reason)] = (subject, text)
        # The languages are really different texts, and the reasons read differently.
        for type_ in TYPES:
            subjects = {seen[(loc, type_, 'inactive', REASONS[0] if type_ ==
                              'subscription.suspended' else None)][0] for loc in LOCALES}
            self.assertEqual(len(subjects), len(LOCALES), type_)
        for locale in LOCALES:
            for rule in RULES:
                a = seen[(locale, 'subscription.suspended', rule, 'no_answer')][1]
                b = seen[(locale, 'subscription.suspended', rule, 'declined')][1]
                self.assertNotEqual(a, b, locale)
            never = seen[(locale, 'confirmation.requested', 'never_active', None)][1]
            used = seen[(locale, 'confirmation.requested', 'inactive', None)][1]
            self.assertNotEqual(never, used)
        declined = seen[('en', 'subscription.suspended', 'inactive', 'declined')][1]
        self.assertNotIn('did not hear back', declined)
        self.assertIn('you asked', declined)
        self.assertEqual(self.stop_daemon(), 0)
        self.assertNotIn('@example.com', self.log_text())

    def test_the_link_of_a_real_request_works_and_agrees_with_the_page(self):
        """A pass asks an inactive German subscriber and a never-active
        Spanish one: the link in each part opens their page, which states
        the same deadline, in the same zone and language, as the mail."""
        server = self.smtp()
        dsn, conf = self.setup_email(server)
        self.add_subscribers(dsn, [1], created_ago='4 years', active_ago='3 years', locale='de')
        self.psql(dsn, "INSERT INTO public.subscribers (id, email, created_at, locale)"
                  " VALUES (2, 'user2@example.com', now() - interval '2 years', 'es')")
        self.start_daemon(conf)
        self.wait_for(lambda: len(server.messages()) == 2, timeout=60, what='two requests')
        for m in server.messages():
            sid = int(m['To'].split('@')[0][4:])
            locale = {1: 'de', 2: 'es'}[sid]
            text = m.get_body(('plain',)).get_content()
            page = m.get_body(('html',)).get_content()
            links = Links()
            links.feed(page)
            url = [h for h in links.hrefs if '/c/' in h][0]
            self.assertIn(url, text)
            self.assertTrue(url.startswith(self.http_url + '/c/'), url)
            stated = self.scalar(dsn, "SELECT payload->'data'->>'deadline' FROM dormant.outbox"
                                 " WHERE subscriber_id = %s", (sid,))
            local = harness.deadline_shown(stated, 'Europe/Paris')
            status, _, body = self.http(url[len(self.http_url):])
            self.assertEqual(status, 200)
            body = body.decode()
            self.assertIn('lang="%s"' % locale, body)
            shown = re.search(r'<strong>(.*?)</strong>', body).group(1)
            self.assertIn(MONTHS[locale][local.month - 1], shown)
            self.assertIn(shown, text, 'the page and the mail state the same day')
            self.assertIn(shown, text_of(page))
            if sid == 2:
                self.assertNotIn(' desde el ', text.split('Díganos')[0],
                                 'a never-active subscriber is not told a date of last use')
        self.assertEqual(self.stop_daemon(), 0)

    def refused(self, handler, expect_in_error):
        server = self.smtp(handler=handler)
        dsn, conf = self.setup_email(server, retry=('1 second',))
        oid = self.add_row(dsn, 1, 'confirmation.requested', 'en', 'inactive')
        self.start_daemon(conf)
        self.wait_log(r'level=error msg="the mail relay refused.*outbox_id=%d' % oid)
        # Several rounds, past the end of the retry list: still waiting.
        self.wait_for(lambda: len(re.findall(r'outbox_id=%d ' % oid, self.log_text())) >= 3,
                      timeout=30, what='three attempts')
        row = self.outbox(dsn, oid)
        self.assertIsNone(row['dead_at'], 'the operator\'s refusal is not the subscriber\'s')
        self.assertIsNone(row['delivered_at'])
        self.assertEqual(row['attempts'], 0)
        self.assertIn(expect_in_error, row['last_error'])
        self.assertNotIn('@example.com', row['last_error'])
        self.assertNotIn('@example.com', self.log_text())
        self.assertEqual(self.scalar(dsn, "SELECT count(*) FROM dormant.event"
                                     " WHERE kind = 'delivery_failed'"), 0)

    def test_refused_sender_is_the_operators(self):
        self.refused('smtp_refuse.SenderRefused', 'Sender address rejected')

    def test_relay_denied_is_the_operators(self):
        self.refused('smtp_refuse.RelayDenied', 'Relay access denied')

    def test_authentication_required_is_the_operators(self):
        self.refused('smtp_refuse.AuthRequired', 'Authentication required')

    def test_non_ascii_address_reports_the_servers_reply(self):
        server = self.smtp()
        dsn, conf = self.setup_email(server)
        oid = self.add_row(dsn, 1, 'confirmation.requested', 'en', 'inactive',
                           email='jos\u00e9@example.com')
        self.start_daemon(conf)
        row = self.wait_row(dsn, oid, lambda r: r['dead_at'] or r['attempts'] >= 1,
                            'the server refuses the address')
        self.assertIn('strict ASCII mode', row['last_error'])
        self.assertNotIn('Failed sending data', row['last_error'])
        self.assertNotIn('example.com', row['last_error'])


if __name__ == '__main__':
    harness.main()
