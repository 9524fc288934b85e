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
        what = action.get("operation", "(not an action)")
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


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "create-queue":
        print(sqs().create_queue(QueueName=sys.argv[2])["QueueUrl"])
    elif command == "snapshot":
        print(json.dumps(snapshot()))
    elif command == "report":
        report(*sys.argv[2:5])
    else:
        sys.exit(f"unknown command {command}")
