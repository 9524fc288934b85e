"""moto's server as the tests need it: one request at a time, over keep-alive connections.

- One request at a time: moto's models take no locks, so two requests at once can both pass
  one DynamoDB condition (two conditional PutItems both "win") or both receive one SQS message.
  AWS does neither. moto is bound by Python's GIL anyway, so little throughput is lost. A
  long-polling ReceiveMessage lets go while it waits, so the SendMessage it waits for can come.
- Keep-alive: moto_server's werkzeug closes the connection after every answer, so every SDK
  call paid a new TCP connection, which AWS's endpoints do not make a client pay. waitress
  (PyPI) serves the same moto application with HTTP/1.1 persistent connections.

Arguments: -H HOST -p PORT (0: any free port), as moto_server's. The bound address is printed
on stderr as " * Running on http://HOST:PORT", as werkzeug prints it.
"""

import argparse
import logging
import os
import sys
import threading

import waitress
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import Queue

_lock = threading.Lock()
_wait_for_messages = Queue.wait_for_messages


def wait_for_messages(self, timeout):
    _lock.release()
    try:
        _wait_for_messages(self, timeout)
    finally:
        _lock.acquire()


Queue.wait_for_messages = wait_for_messages


def serialised(app):
    def handle(environ, start_response):
        with _lock:
            # The whole answer is made inside the lock.
            return list(app(environ, start_response))

    return handle


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)
    app = DomainDispatcherApplication(create_backend_app)
    logging.getLogger("waitress").setLevel(logging.ERROR)
    # Enough threads for every long poll the tests keep open at once, and more.
    server = waitress.create_server(
        serialised(app), host=args.host, port=args.port, threads=32, channel_timeout=120
    )
    os.environ["MOTO_PORT"] = str(server.effective_port)
    print(f" * Running on http://{args.host}:{server.effective_port}", file=sys.stderr, flush=True)
    server.run()


if __name__ == "__main__":
    main(sys.argv[1:])
