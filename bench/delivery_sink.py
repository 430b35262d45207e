"""A minimal, fast HTTP/1.1 sink for the delivery benchmark: keep-alive,
answers 204 to every request, counts them and remembers when the first and
the last arrived. Shared by dormantd and wrk in one run, so both measure
against the same receiver.

    delivery_sink.py PORT STATEFILE   # writes "count first last" on SIGUSR1/exit
"""

import asyncio
import signal
import sys
import time


class Stats:
    def __init__(self):
        self.count = 0
        self.first = 0.0
        self.last = 0.0

    def hit(self):
        now = time.monotonic()
        if self.count == 0:
            self.first = now
        self.last = now
        self.count += 1


ANSWER = b'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n'


async def handle(reader, writer, stats):
    try:
        while True:
            head = await reader.readuntil(b'\r\n\r\n')
            length = 0
            for line in head.split(b'\r\n'):
                if line[:15].lower() == b'content-length:':
                    length = int(line[15:].strip())
            if length:
                await reader.readexactly(length)
            stats.hit()
            writer.write(ANSWER)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


def main():
    port, state = int(sys.argv[1]), sys.argv[2]
    stats = Stats()

    def dump(*_):
        with open(state, 'w') as f:
            f.write('%d %.6f %.6f\n' % (stats.count, stats.first, stats.last))

    def reset(*_):
        dump()
        stats.__init__()

    async def run():
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, reset)
        loop.add_signal_handler(signal.SIGTERM, loop.stop)
        server = await asyncio.start_server(lambda r, w: handle(r, w, stats), '127.0.0.1',
                                            port, backlog=512)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(run())
    except RuntimeError:
        pass
    dump()


if __name__ == '__main__':
    main()
