//! A Slack slash command's form body (`SlashCommand::from_form`) and its command text
//! (`commands::parse`), then the change it asks for made into an action on every configured
//! chat alias (`commands::action`), as chat-ops does before queueing it.
#![no_main]

use lbpilot::action::Action;
use lbpilot::chatops::aliases::Aliases;
use lbpilot::chatops::commands::{self, Change, Command, USAGE};
use lbpilot::chatops::slack::SlashCommand;
use lbpilot_fuzz::ALIASES;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn aliases() -> &'static Aliases {
    static A: OnceLock<Aliases> = OnceLock::new();
    A.get_or_init(|| Aliases::parse(ALIASES).expect("the example aliases parse"))
}

fn command_text(text: &str) {
    let parsed = match commands::parse(text) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.problem.is_empty() && !e.usage.is_empty());
            let _ = e.to_string();
            return;
        }
    };
    let Command::Change {
        verb,
        target,
        server,
        value,
        dry_run,
    } = parsed
    else {
        return;
    };
    assert!(!target.is_empty() && !target.starts_with("--"));
    assert!(value.is_none_or(|v| v <= 100), "value {value:?}");
    if let Some(s) = &server {
        assert!(!s.id.is_empty() && s.port != Some(0));
    }
    assert_eq!(dry_run, text.split_whitespace().any(|w| w == "--dry-run"));
    for (name, alias) in &aliases().by_name {
        let change = Change {
            verb,
            server: server.as_ref(),
            value,
            dry_run,
        };
        match commands::action("chat-fuzz", name, alias, change, format!("fuzz: {text}")) {
            Ok(action) => {
                assert_eq!(action.id, "chat-fuzz");
                assert_eq!(action.dry_run, dry_run);
                // What is queued is read back by the queue worker: the same action.
                let json = serde_json::to_string(&action).expect("actions serialize");
                assert_eq!(Action::from_json(&json).expect("parses back"), action);
            }
            Err(e) => assert!(!e.problem.is_empty()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match SlashCommand::from_form(data) {
        Ok(c) => {
            assert!(!c.user_id.is_empty() && !c.channel_id.is_empty());
            command_text(&c.text);
        }
        Err(e) => assert!(!e.is_empty()),
    }
    // The bytes as the command text itself (what the user typed, without the form around it).
    if let Ok(text) = std::str::from_utf8(data) {
        command_text(text);
    }
    assert!(!USAGE.is_empty());
});
