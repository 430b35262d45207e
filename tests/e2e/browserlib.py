"""A real browser (headless Debian chromium) for the page tests, driven
through the DevTools protocol over a WebSocket written with the standard
library only. scripts/test installs Debian's chromium as an optional
package; tests skip when it could not be installed."""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.request

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


class DevTools:
    """The smallest WebSocket client that speaks to one DevTools target."""

    def __init__(self, ws_url, timeout):
        rest = ws_url[len('ws://'):]
        hostport, path = rest.split('/', 1)
        host, port = hostport.rsplit(':', 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(('GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n'
                           'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
                           'Sec-WebSocket-Version: 13\r\n\r\n' % (path, hostport, key)).encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError('DevTools closed during the handshake')
            head += chunk
        if b' 101 ' not in head.split(b'\r\n', 1)[0]:
            raise ConnectionError('DevTools refused the WebSocket: %r' % head)
        self.next_id = 0
        self.events = []

    def _recv_exact(self, n):
        buf = b''
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError('DevTools closed the connection')
            buf += chunk
        return buf

    def _send(self, text):
        data = text.encode()
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack('!H', len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack('!Q', len(data))
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _recv(self):
        message = b''
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack('!H', self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack('!Q', self._recv_exact(8))[0]
            mask = self._recv_exact(4) if b1 & 0x80 else None
            payload = self._recv_exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0f
            if opcode == 0x8:
                raise ConnectionError('DevTools closed the WebSocket')
            if opcode in (0x9, 0xa):  # ping / pong: not used by DevTools
                continue
            message += payload
            if b0 & 0x80:
                return json.loads(message)

    def call(self, method, **params):
        """Send one command and return its result (events are kept aside)."""
        self.next_id += 1
        my_id = self.next_id
        self._send(json.dumps({'id': my_id, 'method': method, 'params': params}))
        while True:
            msg = self._recv()
            if msg.get('id') == my_id:
                if 'error' in msg:
                    raise RuntimeError('%s: %s' % (method, msg['error']))
                return msg.get('result', {})
            self.events.append(msg)

    def wait_event(self, method, deadline):
        """Wait for (and consume) the next event called method."""
        while time.monotonic() < deadline:
            for i, ev in enumerate(self.events):
                if ev.get('method') == method:
                    del self.events[i]
                    return ev
            self.events.append(self._recv())
        raise TimeoutError('no %s event' % method)

    def evaluate(self, expression):
        r = self.call('Runtime.evaluate', expression=expression, returnByValue=True)
        return r.get('result', {}).get('value')

    def close(self):
        self.sock.close()


class BrowserMixin:
    """start_chromium() for a harness.DaemonTestCase."""

    def start_chromium(self):
        profile = os.path.join(self.tmp, 'chromium')
        os.mkdir(profile)
        out = open(os.path.join(self.tmp, 'chromium.log'), 'wb')
        proc = subprocess.Popen(
            [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-background-networking', '--disable-dev-shm-usage',
             '--disable-extensions', '--remote-debugging-port=0',
             '--user-data-dir=' + profile, 'about:blank'],
            stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        proc.stdout_path = proc.stderr_path = out.name
        self.procs.append(proc)  # killed by the harness's cleanup
        port_file = os.path.join(profile, 'DevToolsActivePort')

        def active_port():
            try:
                with open(port_file) as f:
                    first = f.read().split('\n')[0].strip()
            except FileNotFoundError:
                return None
            return int(first) if first.isdigit() else None
        port = self.wait_for(active_port, what='chromium DevTools port')

        def page_target():
            with urllib.request.urlopen('http://127.0.0.1:%d/json/list' % port, timeout=5) as r:
                targets = json.load(r)
            pages = [t for t in targets if t.get('type') == 'page']
            return pages[0]['webSocketDebuggerUrl'] if pages else None
        ws = self.wait_for(page_target, what='a chromium page target')
        tools = DevTools(ws, self.TIMEOUT)
        self.addCleanup(tools.close)
        return tools
