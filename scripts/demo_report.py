"""Helpers for scripts/demo: create the results queue, snapshot the fakes, print the report.

Uses boto3 (installed with moto) against the local SQS endpoint in AWS_ENDPOINT_URL_SQS and the
fakes' unsigned admin API (/_fake/state).
"""
import json
import os
import sys
import urllib.request

import boto3


def sqs():
    return boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"], region_name="us-east-1")


def state(base):
    with urllib.request.urlopen(base + "/_fake/state", timeout=5) as r:
        return json.load(r)


def snapshot():
    """Weights and dials now, keyed by a readable name."""
    out = {}
    alb = state(os.environ["LBPILOT_ALB_ENDPOINT"])
    for g in alb["server_groups"]:
        for s in g["servers"]:
            out[f"ALB {g['server_group_id']} {s['server_id']}:{s['port']}"] = f"weight {s['weight']}"
    slb = state(os.environ["LBPILOT_SLB_ENDPOINT"])
    for lb in slb["load_balancers"]:
        for g in lb["vserver_groups"]:
            for b in g["backend_servers"]:
                out[f"SLB {g['vserver_group_id']} ({g['vserver_group_name']}) {b['server_id']}:{b['port']}"] = f"weight {b['weight']}"
    roma = state(os.environ["LBPILOT_ROMA_ENDPOINT"])
    for inst in roma["instances"]:
        for ch in inst["vpc_channels"]:
            for g in ch["member_groups"]:
                out[f"ROMA channel {ch['id'][:8]}… group {g['member_group_name']}"] = f"weight {g.get('member_group_weight')}"
    ga = state(os.environ["LBPILOT_GA_ENDPOINT"])
    for g in ga["endpoint_groups"]:
        out[f"GA endpoint group {g['name']}"] = f"dial {g['traffic_dial_percentage']}% ({g['status']})"
    return out


def drain(url):
    client, messages = sqs(), []
    while True:
        got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            return messages
        for m in got:
            messages.append(json.loads(m["Body"]))
            client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def report(before_file, after_file, results_url):
    before, after = json.load(open(before_file)), json.load(open(after_file))
    print("\n== what changed in the (fake) clouds")
    width = max(len(k) for k in after)
    for key in sorted(after):
        old, new = before.get(key, "(did not exist)"), after[key]
        mark = "  <- changed" if old != new else ""
        print(f"  {key:<{width}}  {old:>22} -> {new:<22}{mark}")
    outcomes = drain(results_url)
    print(f"\n== outcomes on the results queue ({len(outcomes)})")
    for o in sorted(outcomes, key=lambda o: o["started_at"]):
        action = o.get("action") or {}
        decision = (o.get("detail") or {}).get("decision")
        what = action.get("operation") or f"({decision})" if decision else action.get("operation", "(not an action)")
        err = o.get("error") or {}
        why = f"{err.get('code')}: {err.get('message')}" if err else ""
        detail = o.get("detail") or {}
        extra = ""
        if "job" in detail and detail["job"]:
            extra = f"job {detail['job'].get('Status')}"
        if "before" in detail:
            extra = f"dial {detail['before'].get('traffic_dial_percentage')} -> {detail['after'].get('traffic_dial_percentage')}"
        print(f"  {o['status']:<9} {what:<40} id={action.get('id', '-'):<24} attempts={o['attempts']} {extra} {why}")
        print(f"            source: {o['source']['kind']} {o['source']['id']}")


def sign_slack(event_file, secret, response_url):
    """The sample slash command, re-signed now (Slack refuses requests over 5 minutes old)."""
    import base64, hashlib, hmac, time, urllib.parse
    event = json.load(open(event_file))
    pairs = urllib.parse.parse_qsl(base64.b64decode(event["body"]).decode(), keep_blank_values=True)
    pairs = [(k, response_url if k == "response_url" else v) for k, v in pairs]
    form = urllib.parse.urlencode(pairs)
    ts = str(int(time.time()))
    event["body"] = base64.b64encode(form.encode()).decode()
    event["headers"]["x-slack-request-timestamp"] = ts
    event["headers"]["x-slack-signature"] = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{form}".encode(), hashlib.sha256).hexdigest()
    print(json.dumps(event))


def queue_event(url):
    """What is on the command queue, as the SQS event Lambda would deliver to the queue worker."""
    got = sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
    records = [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:lbpilot-commands.fifo", "awsRegion": "us-east-1",
        "messageAttributes": {k: {"stringValue": v.get("StringValue"), "dataType": v["DataType"], "stringListValues": [], "binaryListValues": []}
                              for k, v in m.get("MessageAttributes", {}).items()},
    } for m in got]
    print(json.dumps({"Records": records}))


def slack_hook(port, log_file):
    """Stands in for Slack's response_url: prints and keeps what lbpilot posts."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            with open(log_file, "a") as f:
                f.write(body + "\n")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", int(port)), Hook).serve_forever()


def print_slack(log_file):
    if not os.path.exists(log_file):
        return
    print("\n== messages posted to the Slack response_url (a local stand-in)")
    for line in open(log_file):
        if line.strip():
            print(f"  {json.loads(line)['text']}")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "create-queue":
        print(sqs().create_queue(QueueName=sys.argv[2])["QueueUrl"])
    elif command == "create-table":
        boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"], region_name="us-east-1").create_table(
            TableName=sys.argv[2], BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "backend", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "backend", "KeyType": "HASH"}])
    elif command == "snapshot":
        print(json.dumps(snapshot()))
    elif command == "report":
        report(*sys.argv[2:5])
    elif command == "sign-slack":
        sign_slack(*sys.argv[2:5])
    elif command == "queue-event":
        queue_event(sys.argv[2])
    elif command == "slack-hook":
        slack_hook(*sys.argv[2:4])
    elif command == "print-slack":
        print_slack(sys.argv[2])
    else:
        sys.exit(f"unknown command {command}")
