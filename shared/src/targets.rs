//! A target: one group at one provider (ALB server group, SLB VServer group, ROMA member group,
//! GA endpoint group), as the chat aliases and the alert routes name it.

use crate::providers::reads::Read;
use crate::providers::roma::MemberGroupRef;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Alb,
    Slb,
    Roma,
    Ga,
}

impl Provider {
    pub fn label(self) -> &'static str {
        match self {
            Provider::Alb => "ALB server group",
            Provider::Slb => "SLB VServer group",
            Provider::Roma => "ROMA member group",
            Provider::Ga => "GA endpoint group",
        }
    }

    /// Whether changes name a server inside the group (ALB, SLB) or act on the group (ROMA, GA).
    pub fn has_servers(self) -> bool {
        matches!(self, Provider::Alb | Provider::Slb)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub provider: Provider,
    /// Not needed for GA (global).
    pub region: Option<String>,
    /// The ALB server group, SLB VServer group, ROMA member group or GA endpoint group id.
    pub group: String,
    /// ALB `ServerType` of the servers (default `Ecs`).
    pub server_type: Option<String>,
    /// SLB backend `Type` (`ecs`, `eni`, `eci`), when not the default.
    pub backend_type: Option<String>,
    /// Port used when a server is named without one.
    pub default_port: Option<u16>,
    /// ROMA: the channel the member group belongs to, and the group's name (the API requires it).
    pub instance_id: Option<String>,
    pub vpc_channel_id: Option<String>,
    pub member_group_name: Option<String>,
    pub project_id: Option<String>,
}

impl Target {
    /// Checks the fields its provider needs; the error names the field.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        if self.group.trim().is_empty() {
            return Err(("group", "is required"));
        }
        if self.provider != Provider::Ga && self.region.as_deref().is_none_or(str::is_empty) {
            return Err(("region", "is required for this provider"));
        }
        if self.provider == Provider::Roma {
            for (field, value) in [
                ("instance_id", &self.instance_id),
                ("vpc_channel_id", &self.vpc_channel_id),
                ("member_group_name", &self.member_group_name),
            ] {
                if value.as_deref().is_none_or(str::is_empty) {
                    return Err((field, "is required for a ROMA target"));
                }
            }
        }
        Ok(())
    }

    /// The region for an action (`None` for GA, which is global).
    pub fn action_region(&self) -> Option<String> {
        if self.provider == Provider::Ga {
            None
        } else {
            self.region.clone()
        }
    }

    /// The provider read that shows this target's state.
    pub fn read(&self, default_project_id: Option<&str>) -> Read {
        let region = self.region.clone().unwrap_or_default();
        match self.provider {
            Provider::Alb => Read::AlbServers {
                region,
                server_group_id: self.group.clone(),
            },
            Provider::Slb => Read::SlbGroup {
                region,
                vserver_group_id: self.group.clone(),
            },
            Provider::Roma => Read::RomaGroup {
                region,
                group: MemberGroupRef {
                    project_id: self
                        .project_id
                        .clone()
                        .or_else(|| default_project_id.map(str::to_string))
                        .unwrap_or_default(),
                    instance_id: self.instance_id.clone().unwrap_or_default(),
                    vpc_channel_id: self.vpc_channel_id.clone().unwrap_or_default(),
                    member_group_id: self.group.clone(),
                },
            },
            Provider::Ga => Read::GaGroup {
                endpoint_group_id: self.group.clone(),
            },
        }
    }
}
