//! Provider reads: a group's current state (for `status` commands, the blast-radius guard and
//! the weight to restore later).

use crate::error::ValidationError;
use crate::providers::rules;

/// One group to read, by provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// ALB `ListServerGroupServers` (every page).
    AlbServers {
        region: String,
        server_group_id: String,
    },
    /// SLB `DescribeVServerGroupAttribute`.
    SlbGroup {
        region: String,
        vserver_group_id: String,
    },
    /// ROMA `ShowDetailsOfMemberGroup`.
    RomaGroup {
        region: String,
        group: super::roma::MemberGroupRef,
    },
    /// GA `ShowEndpointGroup`.
    GaGroup { endpoint_group_id: String },
    /// ROMA `ListMemberGroups`: the group's channel, every group in it.
    RomaSiblings {
        region: String,
        group: super::roma::MemberGroupRef,
    },
    /// GA `ListEndpointGroups` of one listener.
    GaListenerGroups { listener_id: String },
}

impl Read {
    /// Checks the ids before they go into a URL.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Read::AlbServers {
                server_group_id, ..
            } => rules::id("ServerGroupId", server_group_id),
            Read::SlbGroup {
                vserver_group_id, ..
            } => rules::id("VServerGroupId", vserver_group_id),
            Read::RomaGroup { group, .. } | Read::RomaSiblings { group, .. } => {
                rules::id("project_id", &group.project_id)?;
                rules::id("instance_id", &group.instance_id)?;
                rules::id("vpc_channel_id", &group.vpc_channel_id)?;
                rules::id("member_group_id", &group.member_group_id)
            }
            Read::GaGroup { endpoint_group_id } => {
                rules::id("endpoint_group_id", endpoint_group_id)
            }
            Read::GaListenerGroups { listener_id } => rules::id("listener_id", listener_id),
        }
    }
}
