"""A counting SMTP sink for the delivery benchmark: Debian's aiosmtpd,
accepting every message (250) and storing none, remembering how many
arrived and when the first and the last did, like delivery_sink.py.

    delivery_smtp.py PORT STATEFILE   # writes "count first last" on SIGUSR1/exit
"""

import asyncio
import signal
import sys

from aiosmtpd.smtp import SMTP

from delivery_sink import Stats  # the same count, first and last


class Counter(Stats):
    """Counts each message the sink accepts."""

    async def handle_DATA(self, server, session, envelope):
        self.hit()
        return '250 OK'


def main():
    port, state = int(sys.argv[1]), sys.argv[2]
    counter = Counter()

    def dump():
        with open(state, 'w') as f:
            f.write('%d %.6f %.6f\n' % (counter.count, counter.first, counter.last))

    def reset():
        dump()
        counter.__init__()

    async def run():
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR1, reset)
        loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
        server = await loop.create_server(
            lambda: SMTP(counter, hostname='sink.example', ident='bench sink'),
            '127.0.0.1', port, backlog=512)
        async with server:
            await stop

    asyncio.run(run())
    dump()


if __name__ == '__main__':
    main()
