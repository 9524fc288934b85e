//! Typed requests for the five provider operations (and the reads that go with them): each
//! validates its documented limits and lays its request out as the official SDK does.

pub mod alb;
pub mod ga;
mod pyjson;
pub mod reads;
pub mod roma;
pub mod rules;
pub mod slb;

use crate::action::{Action, Operation};
use crate::error::ValidationError;

/// An action's operation with validated, typed parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Alb(alb::UpdateServerGroupServersAttribute),
    SlbModify(slb::ModifyVServerGroupBackendServers),
    SlbCreate(slb::CreateVServerGroup),
    Roma(roma::UpdateMemberGroup),
    Ga(ga::UpdateEndpointGroup),
}

impl Request {
    /// Validates `action` against its operation's documented rules. `huawei_project_id` is the
    /// configured default for ROMA paths.
    pub fn from_action(
        action: &Action,
        huawei_project_id: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let region = action.region.as_deref().unwrap_or_default();
        Ok(match action.operation {
            Operation::AlbUpdateServerGroupServersAttribute => {
                Request::Alb(alb::UpdateServerGroupServersAttribute::from_params(
                    &action.params,
                    &action.id,
                    action.dry_run,
                )?)
            }
            Operation::SlbModifyVServerGroupBackendServers => Request::SlbModify(
                slb::ModifyVServerGroupBackendServers::from_params(&action.params, region)?,
            ),
            Operation::SlbCreateVServerGroup => Request::SlbCreate(
                slb::CreateVServerGroup::from_params(&action.params, region)?,
            ),
            Operation::RomaUpdateMemberGroup => Request::Roma(
                roma::UpdateMemberGroup::from_params(&action.params, huawei_project_id)?,
            ),
            Operation::GaUpdateEndpointGroup => {
                Request::Ga(ga::UpdateEndpointGroup::from_params(&action.params)?)
            }
        })
    }
}
