#!/usr/bin/env python3
# tutorial_server.py -- the sockets tutorial's Python server, written for results/compare's
# reference rows: what a reader of the tutorial would otherwise deploy.
"""The classic tutorial server, kept as the tutorial writes it: one socket, listen(5), and a
loop that accepts, prints who connected, sends "Thank you for connecting" and closes. Only
what the measurement needs is added: the address comes from the command line (loopback, not
socket.gethostname()), a "listening on HOST:PORT" line tells where, and SIGTERM ends it with
exit status 0.

    tutorial_server.py [HOST [PORT]]     (default 127.0.0.1, port 0: the kernel picks)
"""

import signal
import socket
import sys


def stop(_signum, _frame):
    sys.exit(0)


def main(argv):
    host = argv[1] if len(argv) > 1 else "127.0.0.1"
    port = int(argv[2]) if len(argv) > 2 else 0
    signal.signal(signal.SIGTERM, stop)
    s = socket.socket()                      # the tutorial's lines from here on
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # reruns on the same port
    s.bind((host, port))
    s.listen(5)
    print("listening on %s:%d" % s.getsockname()[:2], flush=True)
    while True:
        c, addr = s.accept()
        print('Got connection from', addr)
        c.send(b'Thank you for connecting')
        c.close()


if __name__ == "__main__":
    try:
        main(sys.argv)
    except KeyboardInterrupt:
        sys.exit(0)
