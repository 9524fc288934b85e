"""The queue-worker job written the usual Python way, as the benchmark's peer of lbpilot's
`queue-worker`: the official provider SDKs from PyPI and boto3, clients built at import (init),
records handled one after another, run by `awslambdaric` (`python -m awslambdaric
queue_worker.handler`).

Per SQS record: parse the action, call the SDK for its operation (ALB update + polling its job,
SLB modify / create, ROMA member group update, GA read-then-update), and at the end publish one
outcome per record to the results queue with `send_message_batch`. Retryable failures are
reported as batch item failures. Configuration: the same environment variables as lbpilot
(README "Configuration"); the `LBPILOT_*_ENDPOINT` base URLs point the SDKs at the fakes.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

import boto3
from alibabacloud_alb20200616 import models as alb_models
from alibabacloud_alb20200616.client import Client as AlbClient
from alibabacloud_slb20140515 import models as slb_models
from alibabacloud_slb20140515.client import Client as SlbClient
from alibabacloud_tea_openapi import utils_models as open_api_models
from darabonba.runtime import RuntimeOptions
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkga.v1 import (
    GaClient,
    ShowEndpointGroupRequest,
    UpdateEndpointGroupOption,
    UpdateEndpointGroupRequest,
    UpdateEndpointGroupRequestBody,
)
from huaweicloudsdkroma.v2 import MemberGroupCreate, MicroserviceLabel, RomaClient, UpdateMemberGroupRequest

ENV = os.environ
RESULTS_QUEUE_URL = ENV["LBPILOT_RESULTS_QUEUE_URL"]
TIMEOUT_MS = int(ENV.get("LBPILOT_REQUEST_TIMEOUT_MS", "5000"))
ALB_JOB_WAIT_S = int(ENV.get("LBPILOT_ALB_JOB_WAIT_MS", "10000")) / 1000
GA_PENDING_WAIT_S = int(ENV.get("LBPILOT_GA_PENDING_WAIT_MS", "20000")) / 1000


def _alibaba(endpoint_var: str) -> open_api_models.Config:
    scheme, _, authority = ENV[endpoint_var].partition("://")
    return open_api_models.Config(
        access_key_id=ENV["ALIBABA_CLOUD_ACCESS_KEY_ID"],
        access_key_secret=ENV["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
        security_token=ENV.get("ALIBABA_CLOUD_SECURITY_TOKEN"),
        endpoint=authority.rstrip("/"),
        protocol=scheme,
        read_timeout=TIMEOUT_MS,
        connect_timeout=TIMEOUT_MS,
    )


def _huawei(builder, endpoint_var: str, project_id: str | None):
    creds = BasicCredentials(ENV["HUAWEICLOUD_SDK_AK"], ENV["HUAWEICLOUD_SDK_SK"], project_id)
    if ENV.get("HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        creds = creds.with_security_token(ENV["HUAWEICLOUD_SDK_SECURITY_TOKEN"])
    return builder.with_credentials(creds).with_endpoints([ENV[endpoint_var].rstrip("/")]).build()


# Clients at module level: built once per cold start, reused by every invocation.
sqs = boto3.client("sqs")
alb = AlbClient(_alibaba("LBPILOT_ALB_ENDPOINT"))
slb = SlbClient(_alibaba("LBPILOT_SLB_ENDPOINT"))
roma = _huawei(RomaClient.new_builder(), "LBPILOT_ROMA_ENDPOINT", ENV.get("HUAWEICLOUD_SDK_PROJECT_ID"))
ga = _huawei(GaClient.new_builder(), "LBPILOT_GA_ENDPOINT", None)
runtime = RuntimeOptions(read_timeout=TIMEOUT_MS, connect_timeout=TIMEOUT_MS, autoretry=True, max_attempts=4)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _list_text(value) -> str:
    """SLB backend lists: JSON text as given, an array as json.dumps writes it."""
    return value if isinstance(value, str) else json.dumps(value)


class Failed(Exception):
    def __init__(self, code: str, message: str, status: int | None, retryable: bool):
        super().__init__(message)
        self.error = {"code": code, "message": message, "http_status": status, "retryable": retryable}


def _failure(e: Exception) -> Failed:
    """An SDK exception as an outcome error (Alibaba: code/statusCode; Huawei: error_code/status_code)."""
    code = getattr(e, "code", None) or getattr(e, "error_code", None) or type(e).__name__
    message = getattr(e, "message", None) or getattr(e, "error_msg", None) or str(e)
    status = getattr(e, "statusCode", None) or getattr(e, "status_code", None)
    status = status if isinstance(status, int) else None
    retryable = status is None or status >= 500 or status == 429 or "Throttling" in str(code)
    return Failed(str(code), str(message)[:500], status, retryable)


def alb_update(action: dict, outcome: dict) -> str:
    p = action["params"]
    dry_run = bool(action.get("dry_run"))
    req = alb_models.UpdateServerGroupServersAttributeRequest(
        client_token=action.get("id"),
        dry_run=dry_run,
        server_group_id=p.get("ServerGroupId"),
        servers=[
            alb_models.UpdateServerGroupServersAttributeRequestServers(
                description=s.get("Description"), port=s.get("Port"), server_id=s.get("ServerId"),
                server_ip=s.get("ServerIp"), server_type=s.get("ServerType"), weight=s.get("Weight"),
            )
            for s in p.get("Servers") or []
        ],
    )
    try:
        body = alb.update_server_group_servers_attribute_with_options(req, runtime).body
    except Exception as e:  # noqa: BLE001 - the SDK raises for every error answer
        if dry_run and getattr(e, "code", None) == "DryRunOperation":
            return "dry_run"
        raise
    outcome["response"] = body.to_map()
    outcome["provider_request_id"] = body.request_id
    # The change is asynchronous: wait for its job, as lbpilot does.
    give_up, interval, job = time.monotonic() + ALB_JOB_WAIT_S, 0.1, None
    while True:
        jobs = alb.list_asyn_jobs_with_options(alb_models.ListAsynJobsRequest(job_ids=[body.job_id]), runtime).body.jobs
        job = jobs[0] if jobs else None
        if job is not None and job.status != "Processing" or time.monotonic() + interval > give_up:
            break
        time.sleep(interval)
        interval = min(interval * 2, 1.0)
    outcome["detail"] = {"job": job.to_map() if job else None}
    if job is not None and job.status == "Failed":
        raise Failed(job.error_code or "JobFailed", job.error_message or "ALB job failed", None, False)
    return "succeeded"


def slb_modify(action: dict, outcome: dict) -> str:
    p = action["params"]
    req = slb_models.ModifyVServerGroupBackendServersRequest(
        region_id=p.get("RegionId") or action.get("region"),
        vserver_group_id=p.get("VServerGroupId"),
        new_backend_servers=_list_text(p["NewBackendServers"]),
        old_backend_servers=_list_text(p["OldBackendServers"]),
    )
    body = slb.modify_vserver_group_backend_servers_with_options(req, runtime).body
    outcome["response"], outcome["provider_request_id"] = body.to_map(), body.request_id
    return "succeeded"


def slb_create(action: dict, outcome: dict) -> str:
    p = action["params"]
    req = slb_models.CreateVServerGroupRequest(
        region_id=p.get("RegionId") or action.get("region"),
        load_balancer_id=p.get("LoadBalancerId"),
        vserver_group_name=p.get("VServerGroupName"),
        backend_servers=_list_text(p["BackendServers"]) if "BackendServers" in p else None,
    )
    body = slb.create_vserver_group_with_options(req, runtime).body
    outcome["response"], outcome["provider_request_id"] = body.to_map(), body.request_id
    return "succeeded"


def roma_update(action: dict, outcome: dict) -> str:
    p = action["params"]
    labels = p.get("microservice_labels")
    req = UpdateMemberGroupRequest(
        instance_id=p.get("instance_id"),
        vpc_channel_id=p.get("vpc_channel_id"),
        member_group_id=p.get("member_group_id"),
        body=MemberGroupCreate(
            member_group_name=p.get("member_group_name"),
            member_group_remark=p.get("member_group_remark"),
            member_group_weight=p.get("member_group_weight"),
            dict_code=p.get("dict_code"),
            microservice_version=p.get("microservice_version"),
            microservice_port=p.get("microservice_port"),
            microservice_labels=None if labels is None else [
                MicroserviceLabel(label_name=lb.get("label_name"), label_value=lb.get("label_value")) for lb in labels
            ],
        ),
    )
    outcome["response"] = roma.update_member_group(req).to_dict()
    return "succeeded"


def ga_update(action: dict, outcome: dict) -> str:
    p = action["params"]
    group_id = p.get("endpoint_group_id")
    # Read first: wait while a previous change is PENDING, and keep the dial before.
    give_up, interval = time.monotonic() + GA_PENDING_WAIT_S, 0.2
    while True:
        before = ga.show_endpoint_group(ShowEndpointGroupRequest(endpoint_group_id=group_id)).endpoint_group
        if before.status != "PENDING":
            break
        if time.monotonic() + interval > give_up:
            raise Failed("EndpointGroupPending", f"endpoint group {group_id} stayed PENDING", None, True)
        time.sleep(interval)
        interval = min(interval * 2, 2.0)
    g = p.get("endpoint_group") or {}
    req = UpdateEndpointGroupRequest(
        endpoint_group_id=group_id,
        body=UpdateEndpointGroupRequestBody(endpoint_group=UpdateEndpointGroupOption(
            name=g.get("name"), description=g.get("description"),
            traffic_dial_percentage=g.get("traffic_dial_percentage"),
        )),
    )
    after = ga.update_endpoint_group(req)
    outcome["response"] = after.to_dict()
    outcome["detail"] = {
        "before": {"status": before.status, "traffic_dial_percentage": before.traffic_dial_percentage},
        "after": {"status": after.endpoint_group.status,
                  "traffic_dial_percentage": after.endpoint_group.traffic_dial_percentage},
    }
    return "succeeded"


OPERATIONS = {
    "alb:UpdateServerGroupServersAttribute": alb_update,
    "slb:ModifyVServerGroupBackendServers": slb_modify,
    "slb:CreateVServerGroup": slb_create,
    "roma:UpdateMemberGroup": roma_update,
    "ga:UpdateEndpointGroup": ga_update,
}


def process(record: dict) -> dict:
    body = record.get("body") or ""
    outcome = {
        "action": None, "status": None, "final": True, "provider_request_id": None, "response": None,
        "error": None, "attempts": 1, "started_at": _now(), "finished_at": None, "detail": None,
        "source": {"kind": "sqs", "id": record.get("messageId"),
                   "detail": {"queue": record.get("eventSourceARN"),
                              "receive_count": int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))}},
    }
    try:
        action = json.loads(body)
        operation = OPERATIONS[action["operation"]]
    except (ValueError, KeyError, TypeError) as e:
        outcome.update(status="rejected", input=body[:256],
                       error={"code": "InvalidAction", "message": str(e), "http_status": None, "retryable": False})
    else:
        outcome["action"] = action
        try:
            if action.get("dry_run") and operation is not alb_update:
                outcome["status"] = "dry_run"  # nothing is sent
            else:
                outcome["status"] = operation(action, outcome)
        except Failed as e:
            outcome.update(status="failed", error=e.error)
        except Exception as e:  # noqa: BLE001 - an SDK error answer
            outcome.update(status="failed", error=_failure(e).error)
    outcome["final"] = not (outcome["error"] or {}).get("retryable", False)
    outcome["finished_at"] = _now()
    print(json.dumps({"message": "outcome", "source": outcome["source"]["id"], "status": outcome["status"]}))
    return outcome


def publish(outcomes: list[dict]) -> set[int]:
    """Sends the outcomes in batches of 10; returns the indexes that could not be sent."""
    unsent = set()
    for start in range(0, len(outcomes), 10):
        chunk = outcomes[start:start + 10]
        entries = [{"Id": str(start + i), "MessageBody": json.dumps(o, default=str)} for i, o in enumerate(chunk)]
        try:
            answer = sqs.send_message_batch(QueueUrl=RESULTS_QUEUE_URL, Entries=entries)
            unsent.update(int(f["Id"]) for f in answer.get("Failed", []))
        except Exception:  # noqa: BLE001 - every record of the chunk is delivered again
            unsent.update(range(start, start + len(chunk)))
    return unsent


def handler(event, context):
    if isinstance(event, (bytes, str)):
        # awslambdaric parses the event only when the Runtime API labels it application/json,
        # which the local one does not.
        event = json.loads(event)
    records = event.get("Records", [])
    outcomes = [process(r) for r in records]
    unsent = publish(outcomes)
    failures = [
        {"itemIdentifier": r.get("messageId")}
        for i, (r, o) in enumerate(zip(records, outcomes))
        if i in unsent or not o["final"]
    ]
    return {"batchItemFailures": failures}
