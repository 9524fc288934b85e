//! The fakes' starting state and the credentials they accept.
//!
//! # Seed format (JSON)
//!
//! Every field is optional; a missing one takes the default shown (lists default to empty).
//! Keys are snake_case; IDs are free text.
//!
//! ```json
//! {
//!   "credentials": {
//!     "alibaba": [{"access_key_id": "LTAI5tExampleKeyId", "access_key_secret": "ExampleSecret123"}],
//!     "huawei":  [{"access_key": "HWEXAMPLEAK0000000", "secret_key": "HWExampleSecretKey000000000000000000000"}]
//!   },
//!   "max_clock_skew_secs": 900,
//!   "alb": {
//!     "job_delay_ms": 300,
//!     "server_groups": [{
//!       "server_group_id": "sgp-atstuj3rtop1234", "server_group_name": "web",
//!       "server_group_type": "Instance", "protocol": "HTTP", "scheduler": "Wrr",
//!       "vpc_id": "vpc-…", "status": "Available",
//!       "servers": [{"server_id": "i-…", "server_type": "Ecs", "server_ip": null, "port": 80,
//!                    "weight": 100, "description": "web-1", "status": "Available",
//!                    "remote_ip_enabled": false}]
//!     }],
//!     "jobs": [], "client_tokens": []
//!   },
//!   "slb": {
//!     "load_balancers": [{
//!       "load_balancer_id": "lb-…", "region_id": "cn-hangzhou",
//!       "vserver_groups": [{
//!         "vserver_group_id": "rsp-…", "vserver_group_name": "Group1", "create_time": "2022-08-31T02:49:05Z",
//!         "backend_servers": [{"server_id": "i-…", "port": 80, "weight": 100, "type": "ecs",
//!                              "server_ip": null, "description": "a"}]
//!       }]
//!     }]
//!   },
//!   "roma": {
//!     "instances": [{
//!       "instance_id": "…", "project_id": "…",
//!       "vpc_channels": [{
//!         "id": "…", "name": "vpc_channel_web", "port": 80, "balance_strategy": 1,
//!         "member_type": "ecs", "type": 2, "status": 1, "create_time": "…",
//!         "member_groups": [{"member_group_id": "…", "member_group_name": "primary",
//!                            "member_group_remark": "", "member_group_weight": 10,
//!                            "create_time": "…", "update_time": "…"}],
//!         "members": [{"id": "…", "host": "192.168.2.25", "ecs_id": "…", "ecs_name": "…", "port": 80,
//!                      "weight": 10, "status": 1, "is_backup": false, "member_group_id": "…",
//!                      "create_time": "…"}]
//!       }]
//!     }]
//!   },
//!   "ga": {
//!     "pending_ms": 300, "pending_conflict_status": 400,
//!     "endpoint_groups": [{
//!       "id": "…", "name": "eg-web", "description": "", "status": "ACTIVE",
//!       "traffic_dial_percentage": 100, "region_id": "ap-southeast-1", "listener_ids": ["…"],
//!       "created_at": "…", "updated_at": "…", "domain_id": "…",
//!       "frozen_info": {"status": 0, "effect": 1, "scene": []},
//!       "endpoints": [{"id": "…", "resource_id": "…", "resource_type": "EIP", "ip_address": "88.88.1.10",
//!                      "weight": 1, "health_state": "HEALTHY", "status": "ACTIVE",
//!                      "created_at": "…", "updated_at": "…"}]
//!     }]
//!   }
//! }
//! ```
//!
//! Credentials: a request must be signed by one of the listed keys. An STS / security token
//! (`x-acs-security-token`, `X-Security-Token`) is accepted whatever its value, but it must be
//! among the signed headers. A seeded ALB job in `Processing` or a GA group in `PENDING` has
//! no end time, so it stays that way (handy for "still busy" tests).

use super::alb::{AlbServer, AlbServerGroup, AlbState};
use super::ga::{GaEndpoint, GaEndpointGroup, GaState};
use super::roma::{RomaInstance, RomaMember, RomaMemberGroup, RomaState, RomaVpcChannel};
use super::slb::{SlbBackend, SlbLoadBalancer, SlbState, SlbVServerGroup};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Seed {
    pub credentials: Credentials,
    /// The accepted difference between `x-acs-date` / `X-Sdk-Date` and the fake's clock
    /// (default 900 s, the providers' 15 minutes). Raise it to replay captured requests.
    pub max_clock_skew_secs: u64,
    pub alb: AlbState,
    pub slb: SlbState,
    pub roma: RomaState,
    pub ga: GaState,
}

impl Default for Seed {
    fn default() -> Self {
        Self {
            credentials: Credentials::default(),
            max_clock_skew_secs: 900,
            alb: AlbState::default(),
            slb: SlbState::default(),
            roma: RomaState::default(),
            ga: GaState::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Credentials {
    pub alibaba: Vec<AlibabaKey>,
    pub huawei: Vec<HuaweiKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlibabaKey {
    pub access_key_id: String,
    pub access_key_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuaweiKey {
    pub access_key: String,
    pub secret_key: String,
}

/// The identifiers and keys of [`Seed::demo`].
pub mod demo {
    /// The example key of alibaba-signing.md.
    pub const ALIBABA_AK: &str = "LTAI5tExampleKeyId";
    pub const ALIBABA_SECRET: &str = "ExampleSecret123";
    /// The example key of huawei-signing.md.
    pub const HUAWEI_AK: &str = "HWEXAMPLEAK0000000";
    pub const HUAWEI_SK: &str = "HWExampleSecretKey000000000000000000000";

    pub const ALB_GROUP: &str = "sgp-atstuj3rtop1234";
    pub const ALB_SERVERS: [&str; 3] = [
        "i-bp1f9kdprbgy9uiu0001",
        "i-bp1f9kdprbgy9uiu0002",
        "i-bp1f9kdprbgy9uiu0003",
    ];
    pub const ALB_PORT: u16 = 80;

    pub const SLB_REGION: &str = "cn-hangzhou";
    pub const SLB_LB: &str = "lb-bp1o94dp5i6earr9g6d1l";
    pub const SLB_VSG: &str = "rsp-cige6j5e7p";
    pub const SLB_SERVERS: [&str; 3] = [
        "i-bp1a2b3c4d5e0001",
        "i-bp1a2b3c4d5e0002",
        "i-bp1a2b3c4d5e0003",
    ];
    pub const SLB_PORT: u16 = 80;

    pub const ROMA_PROJECT: &str = "0123456789abcdef0123456789abcdef";
    pub const ROMA_INSTANCE: &str = "eddc4d25480b4cd6b512f270a1b8b341";
    pub const ROMA_CHANNEL: &str = "56a7d7358e1b42459c9d730d65b14e59";
    /// `primary` and `secondary`, weight 10 each, two members each.
    pub const ROMA_GROUPS: [&str; 2] = [
        "105c6902457144a4820dff8b1ad63331",
        "631b551cddda40478ef720163a9412ed",
    ];

    pub const GA_GROUP: &str = "3a9f50bb-f041-4eac-a117-82472d8a0007";
    /// A second region's endpoint group on the same listener (where dialled-down traffic goes).
    pub const GA_BACKUP_GROUP: &str = "4b0e61cc-0152-4fbd-b228-93583b9e1118";
    pub const GA_LISTENER: &str = "1b11747a-b139-492f-9692-2df0b1c87193";
    pub const GA_ENDPOINTS: [&str; 2] = [
        "7a1b3e2c-0f4d-4c1a-9a55-3c2d7e8f9a01",
        "7a1b3e2c-0f4d-4c1a-9a55-3c2d7e8f9a02",
    ];
}

impl Seed {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// A realistic default: one ALB group with 3 ECS servers (weight 100), one SLB load
    /// balancer with a VServer group of 3 backends, one ROMA instance/channel with 2 member
    /// groups of 2 members each, one GA endpoint group (dial 100) with 2 endpoints, and the
    /// example keys of the signing references. IDs are in [`demo`].
    pub fn demo() -> Self {
        let alb = AlbState {
            server_groups: vec![AlbServerGroup {
                server_group_id: demo::ALB_GROUP.into(),
                server_group_name: "web".into(),
                vpc_id: "vpc-bp1b49rqrybk45nio2ke8".into(),
                servers: demo::ALB_SERVERS
                    .iter()
                    .enumerate()
                    .map(|(i, id)| AlbServer {
                        server_id: (*id).into(),
                        port: demo::ALB_PORT,
                        description: format!("web-{}", i + 1),
                        ..AlbServer::default()
                    })
                    .collect(),
                ..AlbServerGroup::default()
            }],
            ..AlbState::default()
        };
        let slb = SlbState {
            load_balancers: vec![SlbLoadBalancer {
                load_balancer_id: demo::SLB_LB.into(),
                region_id: demo::SLB_REGION.into(),
                vserver_groups: vec![SlbVServerGroup {
                    vserver_group_id: demo::SLB_VSG.into(),
                    vserver_group_name: "Group1".into(),
                    create_time: "2022-08-31T02:49:05Z".into(),
                    backend_servers: demo::SLB_SERVERS
                        .iter()
                        .enumerate()
                        .map(|(i, id)| SlbBackend {
                            server_id: (*id).into(),
                            port: demo::SLB_PORT,
                            description: format!("backend-{}", i + 1),
                            ..SlbBackend::default()
                        })
                        .collect(),
                }],
            }],
        };
        let group = |id: &str, name: &str| RomaMemberGroup {
            member_group_id: id.into(),
            member_group_name: name.into(),
            member_group_weight: Some(10),
            ..RomaMemberGroup::default()
        };
        let member = |n: usize, group: &str| RomaMember {
            id: format!("683b6807cad54122a6777ad047a617{n:02}"),
            host: format!("192.168.2.{}", 20 + n),
            ecs_id: format!("ecs-{n:02}"),
            ecs_name: format!("web-{n:02}"),
            port: 8080,
            weight: 10,
            member_group_id: group.into(),
            ..RomaMember::default()
        };
        let roma = RomaState {
            instances: vec![RomaInstance {
                instance_id: demo::ROMA_INSTANCE.into(),
                project_id: demo::ROMA_PROJECT.into(),
                vpc_channels: vec![RomaVpcChannel {
                    id: demo::ROMA_CHANNEL.into(),
                    name: "vpc_channel_web".into(),
                    port: 8080,
                    member_groups: vec![
                        group(demo::ROMA_GROUPS[0], "primary"),
                        group(demo::ROMA_GROUPS[1], "secondary"),
                    ],
                    members: vec![
                        member(1, demo::ROMA_GROUPS[0]),
                        member(2, demo::ROMA_GROUPS[0]),
                        member(3, demo::ROMA_GROUPS[1]),
                        member(4, demo::ROMA_GROUPS[1]),
                    ],
                    ..RomaVpcChannel::default()
                }],
            }],
        };
        let ga = GaState {
            endpoint_groups: vec![
                GaEndpointGroup {
                    id: demo::GA_GROUP.into(),
                    name: "endpoint-group-web".into(),
                    listener_ids: vec![demo::GA_LISTENER.into()],
                    endpoints: demo::GA_ENDPOINTS
                        .iter()
                        .enumerate()
                        .map(|(i, id)| GaEndpoint {
                            id: (*id).into(),
                            resource_id: format!("5f8a9c2e-5a4b-4e3d-8c1f-0a9b8c7d6e0{}", i + 1),
                            ip_address: format!("88.88.1.{}", 10 + i),
                            ..GaEndpoint::default()
                        })
                        .collect(),
                    ..GaEndpointGroup::default()
                },
                GaEndpointGroup {
                    id: demo::GA_BACKUP_GROUP.into(),
                    name: "endpoint-group-web-backup".into(),
                    region_id: "ap-southeast-3".into(),
                    listener_ids: vec![demo::GA_LISTENER.into()],
                    ..GaEndpointGroup::default()
                },
            ],
            ..GaState::default()
        };
        Seed {
            credentials: Credentials {
                alibaba: vec![AlibabaKey {
                    access_key_id: demo::ALIBABA_AK.into(),
                    access_key_secret: demo::ALIBABA_SECRET.into(),
                }],
                huawei: vec![HuaweiKey {
                    access_key: demo::HUAWEI_AK.into(),
                    secret_key: demo::HUAWEI_SK.into(),
                }],
            },
            alb,
            slb,
            roma,
            ga,
            ..Seed::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_round_trips_through_json() {
        let seed = Seed::demo();
        let text = serde_json::to_string_pretty(&seed).unwrap();
        assert_eq!(Seed::from_json(&text).unwrap(), seed);
    }

    #[test]
    fn a_sparse_seed_takes_defaults() {
        let seed = Seed::from_json(
            r#"{"alb":{"server_groups":[{"server_group_id":"sgp-1","servers":[{"server_id":"i-1"}]}]}}"#,
        )
        .unwrap();
        assert_eq!(seed.alb.job_delay_ms, 300);
        let s = &seed.alb.server_groups[0].servers[0];
        assert_eq!(
            (s.port, s.weight, s.status.as_str(), s.server_type.as_str()),
            (80, 100, "Available", "Ecs")
        );
        assert_eq!(seed.ga.pending_ms, 300);
        assert_eq!(seed.max_clock_skew_secs, 900);
    }
}
