"""A real HTTP receiver for webhook tests: verifies every Standard Webhooks
signature on its own (Python's hmac, not dormant's code) and answers what
each test scripts: 200, 500, 503 or 429 with Retry-After, 410, or a hang.

    sink = WebhookSink(key)              # key: the decoded whsec_ bytes
    sink.script('msg_7', [500, (503, 3), 200])   # answers for msg_7, in order
    sink.default = 200                   # for everything not scripted
    ... sink.requests ...                # every request seen, in order
    sink.close()

An answer is an int status, a (status, retry_after_seconds) pair, or
'hang' (say nothing for hang_seconds, then close the connection).
"""

import base64
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time


def read_whsec(path):
    """The key bytes of a whsec_<base64> secret file."""
    with open(path) as f:
        text = f.read().strip()
    assert text.startswith('whsec_'), text
    return base64.b64decode(text[len('whsec_'):])


def expected_signature(key, msg_id, timestamp, body):
    """v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"> (Standard Webhooks 1.0)."""
    mac = hmac.new(key, b'%s.%s.' % (msg_id.encode(), timestamp.encode()) + body,
                   hashlib.sha256).digest()
    return 'v1,' + base64.b64encode(mac).decode()


class Request:
    """One POST as received."""

    def __init__(self, msg_id, timestamp, signature, body, sig_ok, status, at):
        self.msg_id = msg_id
        self.timestamp = timestamp
        self.signature = signature
        self.body = body
        self.sig_ok = sig_ok
        self.status = status    # what we answered (None for a hang)
        self.at = at            # time.monotonic() on arrival

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return 'Request(%s, %s, sig_ok=%s)' % (self.msg_id, self.status, self.sig_ok)


class _Server(http.server.ThreadingHTTPServer):
    """A sender gone mid-request (dormantd killed by SIGKILL, as the model
    test does) is not the sink's error: no traceback for it."""
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class WebhookSink:
    def __init__(self, key, hang_seconds=30, delay=0.0):
        self.key = key
        self.default = 200
        self.delay = delay              # seconds to wait before every answer
        self.hang_seconds = hang_seconds
        self.requests = []
        self.lock = threading.Lock()
        self._scripts = {}
        self._closing = threading.Event()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n)
                sink._handle(self, body)

        self.server = _Server(('127.0.0.1', 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return 'http://127.0.0.1:%d/hook' % self.server.server_address[1]

    def script(self, msg_id, answers):
        """Answer msg_id's next requests with answers, then with the default."""
        with self.lock:
            self._scripts[msg_id] = list(answers)

    def _next_answer(self, msg_id):
        with self.lock:
            queue = self._scripts.get(msg_id)
            if queue:
                return queue.pop(0)
            return self.default

    def _handle(self, h, body):
        msg_id = h.headers.get('webhook-id') or ''
        ts = h.headers.get('webhook-timestamp') or ''
        sig = h.headers.get('webhook-signature') or ''
        want = expected_signature(self.key, msg_id, ts, body)
        sig_ok = any(hmac.compare_digest(s, want) for s in sig.split(' ') if s)
        answer = self._next_answer(msg_id)
        if not sig_ok:
            answer = 401
        req = Request(msg_id, ts, sig, body, sig_ok, None, time.monotonic())
        with self.lock:
            self.requests.append(req)
        if answer == 'hang':
            self._closing.wait(self.hang_seconds)
            h.close_connection = True
            return
        if self.delay:
            time.sleep(self.delay)
        status, retry_after = answer if isinstance(answer, tuple) else (answer, None)
        req.status = status
        payload = b'{"ok":true}' if 200 <= status < 300 else b'{"error":"scripted"}'
        h.send_response(status)
        h.send_header('Content-Type', 'application/json')
        h.send_header('Content-Length', str(len(payload)))
        if retry_after is not None:
            h.send_header('Retry-After', str(retry_after))
        h.end_headers()
        h.wfile.write(payload)
        h.wfile.flush()

    # -- queries ----------------------------------------------------------

    def seen(self, msg_id=None):
        """Requests so far (for msg_id only, when given)."""
        with self.lock:
            return [r for r in self.requests if msg_id is None or r.msg_id == msg_id]

    def accepted_ids(self):
        """Message ids answered with a 2xx, with how often."""
        counts = {}
        with self.lock:
            for r in self.requests:
                if r.status is not None and 200 <= r.status < 300:
                    counts[r.msg_id] = counts.get(r.msg_id, 0) + 1
        return counts

    def close(self):
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
