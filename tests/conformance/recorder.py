"""A recording HTTP server standing in for the four provider APIs.

It keeps every request exactly as received (method, raw path, raw query, headers in the order
sent, raw body bytes) and answers each with a plausible canned success body, so that both the
official SDKs and lbpilot's executor run to completion.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


@dataclass
class Recorded:
    """One request as it arrived on the wire."""

    method: str
    target: str  # the request-target, raw
    path: str  # raw, still percent-encoded
    query: str  # raw, without the '?'
    headers: list[tuple[str, str]]  # in the order received, names as sent
    body: bytes
    # What the server answered (status, body), for the report.
    answer: tuple[int, bytes] = (0, b"")

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive)."""
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": [list(h) for h in self.headers],
            "body": self.body.decode("utf-8", "replace"),
        }

    @staticmethod
    def from_golden(record: dict) -> "Recorded":
        """A golden capture (alibaba_golden.jsonl / huawei_golden.jsonl) as a Recorded request."""
        import base64

        body = (
            base64.b64decode(record["body_b64"])
            if "body_b64" in record
            else record.get("body", "").encode("utf-8")
        )
        query = record.get("query", "")
        path = record["path"]
        return Recorded(
            method=record["method"],
            target=path + ("?" + query if query else ""),
            path=path,
            query=query,
            headers=[(n, v) for n, v in record["headers"]],
            body=body,
        )

    def operation(self) -> str:
        """Which API call this is: the Alibaba action, or a Huawei method + route."""
        action = self.header("x-acs-action")
        if action:
            return action
        for k, v in parse_qsl(self.query, keep_blank_values=True):
            if k == "Action":
                return v
        if "/member-groups/" in self.path:
            return f"{self.method} roma member-group"
        if "/endpoint-groups/" in self.path:
            return f"{self.method} ga endpoint-group"
        return f"{self.method} {self.path}"


@dataclass
class Behaviour:
    """How the server answers: tunable per case."""

    job_id: str = "job-1"
    job_status: str = "Succeeded"
    ga_status: str = "ACTIVE"
    # Operations whose first request is answered by closing the connection (an ambiguous
    # failure: the client cannot tell whether it was applied).
    reset_first: set[str] = field(default_factory=set)
    _reset_done: set[str] = field(default_factory=set)


class Recorder:
    """A threaded HTTP server on 127.0.0.1 with an ephemeral port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self.behaviour = Behaviour()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                target = self.path
                path, _, query = target.partition("?")
                req = Recorded(
                    method=self.command,
                    target=target,
                    path=path,
                    query=query,
                    headers=list(self.headers.items()),
                    body=self._read_body(),
                )
                b = recorder.behaviour
                op = req.operation()
                if op in b.reset_first and op not in b._reset_done:
                    b._reset_done.add(op)
                    with recorder._lock:
                        recorder._requests.append(req)
                    self.close_connection = True
                    return
                status, body, extra = recorder._answer(req)
                req.answer = (status, body)
                with recorder._lock:
                    recorder._requests.append(req)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def do_CONNECT(self) -> None:
                # As an HTTPS proxy: record where the client wanted to go, and refuse. Nothing
                # is forwarded anywhere.
                req = Recorded(method="CONNECT", target=self.path, path=self.path, query="",
                               headers=list(self.headers.items()), body=b"", answer=(403, b""))
                with recorder._lock:
                    recorder._requests.append(req)
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> "Recorder":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def take(self) -> list[Recorded]:
        """The requests recorded since the last call, in arrival order."""
        with self._lock:
            out, self._requests = self._requests, []
        return out

    # -- canned answers ---------------------------------------------------------------------

    def _answer(self, req: Recorded) -> tuple[int, bytes, list[tuple[str, str]]]:
        b = self.behaviour
        op = req.operation()

        def js(obj) -> bytes:
            return json.dumps(obj).encode()

        if op == "UpdateServerGroupServersAttribute":
            params = dict(parse_qsl(req.query, keep_blank_values=True))
            if params.get("DryRun", "").lower() == "true":
                # What ALB answers to a dry run that passes its checks.
                return 400, js({
                    "RequestId": "r-dry",
                    "Code": "DryRunOperation",
                    "Message": "Request validation has been passed with DryRun flag set.",
                }), []
            return 200, js({"JobId": b.job_id, "RequestId": "r"}), []
        if op == "ListAsynJobs":
            return 200, js({
                "Jobs": [{"Id": b.job_id, "Status": b.job_status, "ApiName": "UpdateServerGroupServersAttribute"}],
                "TotalCount": 1,
                "RequestId": "r",
            }), []
        if op in ("ModifyVServerGroupBackendServers", "CreateVServerGroup"):
            return 200, js({"RequestId": "r", "VServerGroupId": "rsp-1"}), []
        if op in ("DescribeVServerGroupAttribute", "DescribeVServerGroups"):
            return 200, js({"RequestId": "r", "BackendServers": {"BackendServer": []}, "VServerGroups": {"VServerGroup": []}}), []
        hw = [("X-Request-Id", "0123456789abcdef0123456789abcdef")]
        if op.endswith("roma member-group"):
            try:
                sent = json.loads(req.body or b"{}")
            except ValueError:
                sent = {}
            group = dict(sent) if isinstance(sent, dict) else {}
            group.update({
                "member_group_id": req.path.rstrip("/").rsplit("/", 1)[-1],
                "create_time": "2024-06-01T12:00:00Z",
                "update_time": "2024-06-01T12:00:00Z",
            })
            return 200, js(group), hw
        if op.endswith("ga endpoint-group"):
            gid = req.path.rstrip("/").rsplit("/", 1)[-1]
            group = {"id": gid, "status": b.ga_status, "traffic_dial_percentage": 100}
            if req.method == "PUT":
                try:
                    sent = json.loads(req.body or b"{}").get("endpoint_group") or {}
                except (ValueError, AttributeError):
                    sent = {}
                group.update(sent)
                group["status"] = "ACTIVE"
            return 200, js({"endpoint_group": group, "request_id": "r"}), hw
        return 404, js({"Code": "NotFound", "Message": f"the recorder does not know {op}"}), []
