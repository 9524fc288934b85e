"""moto's server, answering one request at a time.

moto's models take no locks and its server is threaded, so two requests at once can both pass
one DynamoDB condition (two conditional PutItems both "win") or both receive one SQS message.
AWS does neither. Serialising the requests gives the tests AWS's atomicity; moto is bound by
Python's GIL anyway, so little throughput is lost. A long-polling ReceiveMessage lets go while
it waits, so the SendMessage it waits for can come in. Arguments are moto_server's.
"""

import sys
import threading

import moto.server as server
from moto.sqs.models import Queue

_lock = threading.Lock()
_run_simple = server.run_simple
_wait_for_messages = Queue.wait_for_messages


def wait_for_messages(self, timeout):
    _lock.release()
    try:
        _wait_for_messages(self, timeout)
    finally:
        _lock.acquire()


Queue.wait_for_messages = wait_for_messages


def _serialised(app):
    def handle(environ, start_response):
        with _lock:
            # The whole answer is made inside the lock.
            return list(app(environ, start_response))

    return handle


def run_simple(host, port, app, **options):
    return _run_simple(host, port, _serialised(app), **options)


server.run_simple = run_simple

if __name__ == "__main__":
    server.main(sys.argv[1:])
