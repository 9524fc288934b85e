"""Runs the official Python SDKs for an lbpilot action: the SDK request models are built from the
same action params, and the client is pointed at the recording server over http.

* ALB: alibabacloud_alb20200616 `update_server_group_servers_attribute` (+ `list_asyn_jobs`)
* SLB: alibabacloud_slb20140515 `modify_vserver_group_backend_servers`, `create_vserver_group`
  (lists given as arrays are serialised with `json.dumps`, lists given as text are passed as is)
* ROMA: huaweicloudsdkroma.v2 `RomaClient.update_member_group`
* GA: huaweicloudsdkga.v1 `GaClient.update_endpoint_group` (+ `show_endpoint_group`)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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

# The example credentials of the golden captures.
ALIBABA_AK = "LTAI5tExampleKeyId"
ALIBABA_SECRET = "ExampleSecret123"
ALIBABA_TOKEN = "CAIS.ExampleSecurityToken+/=="
HUAWEI_AK = "HWEXAMPLEAK0000000"
HUAWEI_SK = "HWExampleSecretKey000000000000000000000"
HUAWEI_TOKEN = "HWExampleSecurityToken-temporary-credential-0000"
DEFAULT_PROJECT_ID = "0123456789abcdef0123456789abcdef"

SECRETS = {ALIBABA_AK: ALIBABA_SECRET, HUAWEI_AK: HUAWEI_SK}

# The write each operation makes, as `Recorded.operation()` names it.
WRITE_OPERATION = {
    "alb:UpdateServerGroupServersAttribute": "UpdateServerGroupServersAttribute",
    "slb:ModifyVServerGroupBackendServers": "ModifyVServerGroupBackendServers",
    "slb:CreateVServerGroup": "CreateVServerGroup",
    "roma:UpdateMemberGroup": "PUT roma member-group",
    "ga:UpdateEndpointGroup": "PUT ga endpoint-group",
}


@dataclass
class SdkSettings:
    sts: bool = False
    mode: str = "v3"  # Alibaba: "v3" (ACS3, the default) or "v2" (HMAC-SHA1 RPC)
    project_id: str | None = DEFAULT_PROJECT_ID  # HUAWEICLOUD_SDK_PROJECT_ID's counterpart
    ga_project_id: str | None = None  # GA built with BasicCredentials(ak, sk[, project_id])
    job_id: str = "job-1"


def _list_text(value) -> str:
    """What an SDK caller passes for an SLB list: JSON text as given, an array as json.dumps."""
    return value if isinstance(value, str) else json.dumps(value)


def _alibaba_config(authority: str, s: SdkSettings) -> open_api_models.Config:
    cfg = open_api_models.Config(
        access_key_id=ALIBABA_AK,
        access_key_secret=ALIBABA_SECRET,
        security_token=ALIBABA_TOKEN if s.sts else None,
        endpoint=authority,
        protocol="http",
        read_timeout=10000,
        connect_timeout=5000,
    )
    if s.mode == "v2":
        cfg.signature_algorithm = "v2"
    return cfg


def _call(errors: list[str], fn, *args) -> None:
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - a canned error answer (DryRunOperation) raises
        errors.append(f"{type(e).__name__}: {str(e)[:200]}")


def run(action: dict, authority: str, s: SdkSettings, client_token: str | None = None, reads: bool = True) -> list[str]:
    """Sends the action's write (and the reads lbpilot makes around it, when `reads`) with the
    official SDK. Returns the exceptions the SDK raised (answers it took for errors)."""
    op = action["operation"]
    p = action.get("params") or {}
    region = action.get("region")
    errors: list[str] = []
    rt = RuntimeOptions()
    if op == "alb:UpdateServerGroupServersAttribute":
        client = AlbClient(_alibaba_config(authority, s))
        servers = [
            alb_models.UpdateServerGroupServersAttributeRequestServers(
                description=srv.get("Description"),
                port=srv.get("Port"),
                server_id=srv.get("ServerId"),
                server_ip=srv.get("ServerIp"),
                server_type=srv.get("ServerType"),
                weight=srv.get("Weight"),
            )
            for srv in p.get("Servers") or []
        ]
        dry_run = bool(action.get("dry_run")) or bool(p.get("DryRun"))
        req = alb_models.UpdateServerGroupServersAttributeRequest(
            client_token=p.get("ClientToken") or client_token or action.get("id"),
            dry_run=dry_run,
            server_group_id=p.get("ServerGroupId"),
            servers=servers,
        )
        _call(errors, client.update_server_group_servers_attribute_with_options, req, rt)
        if reads and not dry_run:
            _call(errors, client.list_asyn_jobs_with_options,
                  alb_models.ListAsynJobsRequest(job_ids=[s.job_id], max_results=20), rt)
    elif op == "slb:ModifyVServerGroupBackendServers":
        client = SlbClient(_alibaba_config(authority, s))
        req = slb_models.ModifyVServerGroupBackendServersRequest(
            region_id=p.get("RegionId") or region,
            vserver_group_id=p.get("VServerGroupId"),
            new_backend_servers=_list_text(p["NewBackendServers"]),
            old_backend_servers=_list_text(p["OldBackendServers"]),
        )
        if reads:  # what lbpilot reads before repeating a change whose answer was lost
            _call(errors, client.describe_vserver_group_attribute_with_options,
                  slb_models.DescribeVServerGroupAttributeRequest(region_id=req.region_id, vserver_group_id=req.vserver_group_id), rt)
        _call(errors, client.modify_vserver_group_backend_servers_with_options, req, rt)
    elif op == "slb:CreateVServerGroup":
        client = SlbClient(_alibaba_config(authority, s))
        req = slb_models.CreateVServerGroupRequest(
            region_id=p.get("RegionId") or region,
            load_balancer_id=p.get("LoadBalancerId"),
            vserver_group_name=p.get("VServerGroupName"),
            backend_servers=_list_text(p["BackendServers"]) if "BackendServers" in p else None,
        )
        if reads and req.vserver_group_name is not None:
            _call(errors, client.describe_vserver_groups_with_options,
                  slb_models.DescribeVServerGroupsRequest(region_id=req.region_id, load_balancer_id=req.load_balancer_id,
                                                          description=req.vserver_group_name), rt)
        _call(errors, client.create_vserver_group_with_options, req, rt)
    elif op == "roma:UpdateMemberGroup":
        creds = BasicCredentials(HUAWEI_AK, HUAWEI_SK, p.get("project_id") or s.project_id)
        if s.sts:
            creds = creds.with_security_token(HUAWEI_TOKEN)
        client = RomaClient.new_builder().with_credentials(creds).with_endpoints([f"http://{authority}"]).build()
        labels = p.get("microservice_labels")
        body = MemberGroupCreate(
            member_group_name=p.get("member_group_name"),
            member_group_remark=p.get("member_group_remark"),
            member_group_weight=p.get("member_group_weight"),
            dict_code=p.get("dict_code"),
            microservice_version=p.get("microservice_version"),
            microservice_port=p.get("microservice_port"),
            microservice_labels=None if labels is None else [
                MicroserviceLabel(label_name=lb.get("label_name"), label_value=lb.get("label_value")) for lb in labels
            ],
        )
        req = UpdateMemberGroupRequest(
            instance_id=p.get("instance_id"),
            vpc_channel_id=p.get("vpc_channel_id"),
            member_group_id=p.get("member_group_id"),
            body=body,
        )
        _call(errors, client.update_member_group, req)
    elif op == "ga:UpdateEndpointGroup":
        creds = BasicCredentials(HUAWEI_AK, HUAWEI_SK, s.ga_project_id)
        if s.sts:
            creds = creds.with_security_token(HUAWEI_TOKEN)
        client = GaClient.new_builder().with_credentials(creds).with_endpoints([f"http://{authority}"]).build()
        group_id = p.get("endpoint_group_id")
        if reads:
            _call(errors, client.show_endpoint_group, ShowEndpointGroupRequest(endpoint_group_id=group_id))
        g = p.get("endpoint_group") or {}
        req = UpdateEndpointGroupRequest(
            endpoint_group_id=group_id,
            body=UpdateEndpointGroupRequestBody(
                endpoint_group=UpdateEndpointGroupOption(
                    name=g.get("name"),
                    description=g.get("description"),
                    traffic_dial_percentage=g.get("traffic_dial_percentage"),
                )
            ),
        )
        _call(errors, client.update_endpoint_group, req)
    else:
        raise ValueError(f"no SDK mapping for operation {op!r}")
    return errors
