//! The slash command language: parse the text, explain it, and turn a change into an action.

use super::aliases::Alias;
use crate::action::{Action, Operation};
use crate::error::ValidationError;
use crate::targets::Provider;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Drain,
    Restore,
    Weight,
    Dial,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Drain => "drain",
            Verb::Restore => "restore",
            Verb::Weight => "weight",
            Verb::Dial => "dial",
        }
    }
}

/// A server inside an ALB or SLB group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub id: String,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Status {
        target: String,
    },
    Change {
        verb: Verb,
        target: String,
        server: Option<Server>,
        /// The weight or dial to set (`drain` 0, `restore` the alias's `restore_to`).
        value: Option<u8>,
        dry_run: bool,
    },
}

pub const USAGE: &str = "\
*lbpilot* moves traffic on the load balancers your team set up as targets.
• `drain <target> <server>[:port]` - weight 0 for one server (ALB, SLB); `drain <target>` for a ROMA group (weight 0) or a GA group (dial 0)
• `restore <target> <server>[:port]` - back to the target's restore weight (100 unless configured); `restore <target>` for ROMA and GA
• `weight <target> <server>[:port] <0-100>` - set one server's weight; `weight <target> <0-100>` for a ROMA group
• `dial <target> <0-100>` - set a GA endpoint group's traffic dial
• `status <target>` - the target's current weights or dial
• add `--dry-run` to a change to see what would be sent without sending it
Example: `/lbpilot drain web-alb i-bp1f9kdprbgy9uiu0001:80`";

fn usage_of(verb: &str) -> &'static str {
    match verb {
        "drain" => "`drain <target> <server>[:port]` (ALB, SLB) or `drain <target>` (ROMA, GA)",
        "restore" => {
            "`restore <target> <server>[:port]` (ALB, SLB) or `restore <target>` (ROMA, GA)"
        }
        "weight" => {
            "`weight <target> <server>[:port] <0-100>` (ALB, SLB) or `weight <target> <0-100>` (ROMA)"
        }
        "dial" => "`dial <target> <0-100>` (GA)",
        "status" => "`status <target>`",
        _ => "see `help`",
    }
}

/// A user's word in an error message: quoted, escaped for Slack, at most 64 characters.
fn quoted(word: &str) -> String {
    format!("\"{}\"", super::slack::escape(word, 64))
}

/// What is wrong with a command, with the right form to use. Safe to post: the words of the
/// command it repeats are escaped ([`super::slack::escape`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}. Use {usage}.")]
pub struct CommandError {
    pub problem: String,
    pub usage: &'static str,
}

fn error(verb: &str, problem: impl Into<String>) -> CommandError {
    CommandError {
        problem: problem.into(),
        usage: usage_of(verb),
    }
}

fn percent(verb: &str, text: &str) -> Result<u8, CommandError> {
    match text.parse::<u8>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err(error(
            verb,
            format!("{} is not a number from 0 to 100", quoted(text)),
        )),
    }
}

/// Whether `c` may be in a server id typed in chat: ECS and ENI ids, IPv4 and (bracketed)
/// IPv6 addresses need no more.
fn server_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '[' | ']')
}

fn server(verb: &str, text: &str) -> Result<Server, CommandError> {
    let (id, port) = match text.rsplit_once(':') {
        Some((id, port)) => match port.parse::<u16>() {
            Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => (id, Some(p)),
            _ => {
                return Err(error(
                    verb,
                    format!("{} is not a port (1-65535)", quoted(port)),
                ));
            }
        },
        None => (text, None),
    };
    if id.is_empty() {
        return Err(error(verb, "the server id is empty"));
    }
    if !id.chars().all(server_id_char) {
        return Err(error(
            verb,
            format!(
                "the server id {} may only have letters, digits, `-`, `_`, `.`, `:`, `[` and `]`",
                quoted(id)
            ),
        ));
    }
    Ok(Server {
        id: id.to_string(),
        port,
    })
}

/// Parses the command text. Whether the target exists and what it takes is checked later,
/// against the alias.
pub fn parse(text: &str) -> Result<Command, CommandError> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let dry_run = words.contains(&"--dry-run");
    words.retain(|w| *w != "--dry-run");
    if let Some(flag) = words.iter().find(|w| w.starts_with("--")) {
        return Err(error(words[0], format!("unknown option {}", quoted(flag))));
    }
    let Some((&verb, args)) = words.split_first() else {
        return Ok(Command::Help);
    };
    let verb_lc = verb.to_ascii_lowercase();
    let change =
        |v: Verb, target: &str, server: Option<Server>, value: Option<u8>| Command::Change {
            verb: v,
            target: target.to_string(),
            server,
            value,
            dry_run,
        };
    Ok(match (verb_lc.as_str(), args) {
        ("help", _) => Command::Help,
        ("status", [target]) => Command::Status {
            target: target.to_string(),
        },
        ("drain", [target]) => change(Verb::Drain, target, None, Some(0)),
        ("drain", [target, s]) => change(Verb::Drain, target, Some(server("drain", s)?), Some(0)),
        ("restore", [target]) => change(Verb::Restore, target, None, None),
        ("restore", [target, s]) => {
            change(Verb::Restore, target, Some(server("restore", s)?), None)
        }
        ("weight", [target, w]) => change(Verb::Weight, target, None, Some(percent("weight", w)?)),
        ("weight", [target, s, w]) => change(
            Verb::Weight,
            target,
            Some(server("weight", s)?),
            Some(percent("weight", w)?),
        ),
        ("dial", [target, d]) => change(Verb::Dial, target, None, Some(percent("dial", d)?)),
        ("status" | "drain" | "restore" | "weight" | "dial", _) => {
            return Err(error(
                &verb_lc,
                format!("wrong number of arguments for {verb_lc}"),
            ));
        }
        _ => return Err(error("", format!("unknown command {}", quoted(verb)))),
    })
}

/// A change as parsed, borrowed from its `Command::Change`.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub verb: Verb,
    pub server: Option<&'a Server>,
    pub value: Option<u8>,
    pub dry_run: bool,
}

/// The action a change makes on `alias` (named `target`), with id `id`.
pub fn action(
    id: &str,
    target: &str,
    alias: &Alias,
    change: Change<'_>,
    reason: String,
) -> Result<Action, CommandError> {
    let Change {
        verb,
        server,
        value,
        dry_run,
    } = change;
    let value = value.unwrap_or(alias.restore_to);
    let verb_name = verb.name();
    let need_server = |s: Option<&Server>| {
        s.cloned().ok_or_else(|| {
            error(
                verb_name,
                format!(
                    "{target} is an {}: name the server",
                    alias.target.provider.label()
                ),
            )
        })
    };
    let no_server = |s: Option<&Server>| match s {
        Some(_) => Err(error(
            verb_name,
            format!(
                "{target} is a {}: it has no servers to name",
                alias.target.provider.label()
            ),
        )),
        None => Ok(()),
    };
    let port_of = |s: &Server| {
        s.port.or(alias.target.default_port).ok_or_else(|| {
            error(
                verb_name,
                format!(
                    "give the port ({}:<port>): {target} has no default port",
                    s.id
                ),
            )
        })
    };
    let (operation, params) = match (alias.target.provider, verb) {
        (Provider::Alb, Verb::Drain | Verb::Restore | Verb::Weight) => {
            let s = need_server(server)?;
            let server_type = alias
                .target
                .server_type
                .clone()
                .unwrap_or_else(|| "Ecs".into());
            let mut entry = json!({"ServerId": s.id, "ServerType": server_type, "Weight": value});
            if server_type != "Fc" {
                entry["Port"] = json!(port_of(&s)?);
            }
            (
                Operation::AlbUpdateServerGroupServersAttribute,
                json!({"ServerGroupId": alias.target.group, "Servers": [entry]}),
            )
        }
        (Provider::Slb, Verb::Drain | Verb::Restore | Verb::Weight) => {
            let s = need_server(server)?;
            let port = port_of(&s)?;
            let mut old = json!({"ServerId": s.id, "Port": port});
            let mut new = json!({"ServerId": s.id, "Port": port, "Weight": value});
            if let Some(t) = &alias.target.backend_type {
                old["Type"] = json!(t);
                new["Type"] = json!(t);
            }
            (
                Operation::SlbModifyVServerGroupBackendServers,
                json!({"VServerGroupId": alias.target.group, "OldBackendServers": [old], "NewBackendServers": [new]}),
            )
        }
        (Provider::Roma, Verb::Drain | Verb::Restore | Verb::Weight) => {
            no_server(server)?;
            let mut params = json!({
                "instance_id": alias.target.instance_id, "vpc_channel_id": alias.target.vpc_channel_id,
                "member_group_id": alias.target.group, "member_group_name": alias.target.member_group_name,
                "member_group_weight": value,
            });
            if let Some(p) = &alias.target.project_id {
                params["project_id"] = json!(p);
            }
            (Operation::RomaUpdateMemberGroup, params)
        }
        (Provider::Ga, Verb::Drain | Verb::Restore | Verb::Dial) => {
            no_server(server)?;
            (
                Operation::GaUpdateEndpointGroup,
                json!({"endpoint_group_id": alias.target.group, "endpoint_group": {"traffic_dial_percentage": value}}),
            )
        }
        (Provider::Ga, Verb::Weight) => {
            return Err(error(
                "dial",
                format!("{target} is a GA endpoint group: set its dial"),
            ));
        }
        (_, Verb::Dial) => {
            return Err(error(
                "weight",
                format!(
                    "{target} is an {}: dial is for GA endpoint groups",
                    alias.target.provider.label()
                ),
            ));
        }
    };
    let region = if alias.target.provider == Provider::Ga {
        None
    } else {
        alias.target.region.clone()
    };
    Action::new(
        Some(id.to_string()),
        operation,
        region,
        params,
        dry_run,
        Some(reason),
    )
    .map_err(|e: ValidationError| error(verb_name, e.to_string()))
}

/// A short, readable summary of a target's state from its provider read.
pub fn describe_state(alias: &Alias, target: &str, state: &Value) -> String {
    let mut lines = vec![format!(
        "*{target}* ({} `{}`):",
        alias.target.provider.label(),
        alias.target.group
    )];
    // Provider values, escaped like anything else from outside.
    let field = |v: &Value, k: &str| {
        v.get(k).map_or("-".to_string(), |x| {
            super::slack::escape(&x.as_str().map_or(x.to_string(), str::to_string), 100)
        })
    };
    match alias.target.provider {
        Provider::Alb => {
            for s in state["Servers"].as_array().into_iter().flatten() {
                lines.push(format!(
                    "• `{}:{}` weight {} ({})",
                    field(s, "ServerId"),
                    field(s, "Port"),
                    field(s, "Weight"),
                    field(s, "Status")
                ));
            }
        }
        Provider::Slb => {
            for b in state
                .pointer("/BackendServers/BackendServer")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                lines.push(format!(
                    "• `{}:{}` weight {}",
                    field(b, "ServerId"),
                    field(b, "Port"),
                    field(b, "Weight")
                ));
            }
        }
        Provider::Roma => lines.push(format!(
            "• group `{}` weight {}",
            field(state, "member_group_name"),
            field(state, "member_group_weight")
        )),
        Provider::Ga => {
            let g = &state["endpoint_group"];
            lines.push(format!(
                "• dial {}% ({})",
                field(g, "traffic_dial_percentage"),
                field(g, "status")
            ));
        }
    }
    if lines.len() == 1 {
        lines.push("• (empty)".into());
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chatops::aliases::Aliases;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("").unwrap(), Command::Help);
        assert_eq!(parse("help").unwrap(), Command::Help);
        assert_eq!(
            parse("status web").unwrap(),
            Command::Status {
                target: "web".into()
            }
        );
        assert_eq!(
            parse("drain web i-1:8080 --dry-run").unwrap(),
            Command::Change {
                verb: Verb::Drain,
                target: "web".into(),
                server: Some(Server {
                    id: "i-1".into(),
                    port: Some(8080)
                }),
                value: Some(0),
                dry_run: true
            }
        );
        assert_eq!(
            parse("weight web 192.168.1.1:80 25").unwrap(),
            Command::Change {
                verb: Verb::Weight,
                target: "web".into(),
                server: Some(Server {
                    id: "192.168.1.1".into(),
                    port: Some(80)
                }),
                value: Some(25),
                dry_run: false
            }
        );
        assert!(matches!(
            parse("DIAL edge 0").unwrap(),
            Command::Change {
                verb: Verb::Dial,
                value: Some(0),
                ..
            }
        ));
    }

    #[test]
    fn explains_what_is_wrong() {
        let e = |t: &str| parse(t).unwrap_err().to_string();
        assert!(
            e("dial edge 101").contains("0 to 100")
                && e("dial edge 101").contains("`dial <target> <0-100>`")
        );
        assert!(e("dial edge -1").contains("0 to 100"));
        assert!(e("weight web i-1 abc").contains("0 to 100"));
        assert!(e("drain web i-1:0").contains("port"));
        assert!(e("drain web i-1:99999").contains("port"));
        assert!(e("drain").contains("wrong number"));
        assert!(e("reboot web").contains("unknown command"));
        assert!(e("drain web i-1 --force").contains("unknown option"));
    }

    #[test]
    fn turns_changes_into_actions_for_each_provider() {
        let aliases = Aliases::parse(r#"{"aliases": {
            "web": {"target": {"provider": "alb", "region": "cn-hangzhou", "group": "sgp-1", "default_port": 80}, "allowed_users": ["U1"]},
            "old": {"target": {"provider": "slb", "region": "cn-hangzhou", "group": "rsp-1"}, "allowed_users": ["U1"]},
            "api": {"target": {"provider": "roma", "region": "cn-north-4", "group": "g1", "instance_id": "i", "vpc_channel_id": "c", "member_group_name": "primary"}, "allowed_users": ["U1"]},
            "edge": {"target": {"provider": "ga", "group": "eg-1"}, "restore_to": 90, "allowed_users": ["U1"]}}}"#).unwrap();
        let act = |target: &str, text: &str| match parse(text).unwrap() {
            Command::Change {
                verb,
                server,
                value,
                dry_run,
                ..
            } => {
                let change = Change {
                    verb,
                    server: server.as_ref(),
                    value,
                    dry_run,
                };
                action(
                    "chat-1",
                    target,
                    aliases.get(target).unwrap(),
                    change,
                    "r".into(),
                )
            }
            other => panic!("{other:?}"),
        };
        let alb = act("web", "drain web i-1").unwrap();
        assert_eq!(
            alb.params["Servers"][0],
            json!({"ServerId": "i-1", "ServerType": "Ecs", "Weight": 0, "Port": 80})
        );
        let slb = act("old", "weight old i-2:81 30").unwrap();
        assert_eq!(slb.params["NewBackendServers"][0]["Weight"], 30);
        assert!(
            act("old", "drain old i-2")
                .unwrap_err()
                .to_string()
                .contains("port")
        );
        let roma = act("api", "drain api").unwrap();
        assert_eq!(roma.params["member_group_weight"], 0);
        assert!(
            act("api", "drain api host-1")
                .unwrap_err()
                .to_string()
                .contains("no servers")
        );
        let ga = act("edge", "restore edge").unwrap();
        assert_eq!(ga.params["endpoint_group"]["traffic_dial_percentage"], 90);
        assert_eq!(ga.region, None);
        assert!(
            act("web", "dial web 10")
                .unwrap_err()
                .to_string()
                .contains("GA")
        );
        assert!(
            act("edge", "weight edge 10")
                .unwrap_err()
                .to_string()
                .contains("dial")
        );
    }
}
