//! Removing events: first groups of events that belong together (one turn,
//! one tool call, one inference call, every event of a type), then runs of
//! consecutive lines; both by delta debugging (many at once, then halving
//! down to one at a time, as C-Reduce's line pass does).
//!
//! Groups find in a few tries what runs of lines find slowly: a tool call's
//! events are spread over a turn, and removing only some of them is rarely
//! a bundle the reducer accepts. Removing half of the turns at once makes a
//! long trace short in a few large steps, where turn after turn would judge
//! hundreds of large candidates.
//!
//! Invariant: after [`remove_runs`] returns without the time limit cutting
//! it short, removing any single line of the current bundle was judged not
//! interesting (the last round of runs is one line long).

use std::collections::HashSet;

use serde_json::Value;

use super::numbering::as_reference;
use super::search::Search;

/// Events that belong together: those naming one id, or of one type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Group {
    /// The string value of a member whose name ends in `_id`.
    Id(String),
    /// The event's `payload.type`.
    Type(String),
}

/// Tries removing groups of events, many groups at once and then fewer,
/// down to one group at a time (delta debugging over groups); returns
/// whether anything was removed.
pub(super) fn remove_groups(search: &mut Search<'_>) -> bool {
    let mut groups = groups_of(
        search
            .current()
            .lines()
            .iter()
            .filter_map(|line| line.value()),
    );
    let mut progress = false;
    let mut run = groups.len();
    while run > 0 && !search.stopped() {
        let mut start = 0;
        while start < groups.len() {
            let count = (groups.len() - start).div_ceil(run);
            let alive = &groups;
            let found = search.first(count, &|bundle, index| {
                let from = start + index * run;
                let chosen: HashSet<&Group> =
                    alive[from..(from + run).min(alive.len())].iter().collect();
                let members: Vec<bool> = (bundle.lines().iter())
                    .map(|line| {
                        line.value().is_some_and(|value| {
                            line_groups(value)
                                .iter()
                                .any(|group| chosen.contains(group))
                        })
                    })
                    .collect();
                if !members.contains(&true) {
                    return None;
                }
                Some(bundle.without_lines(|line| members[line]))
            });
            let Some(found) = found else { break };
            progress = true;
            let from = start + found * run;
            groups.drain(from..(from + run).min(groups.len()));
            start = from;
        }
        if run == 1 {
            break;
        }
        run = run.div_ceil(2);
    }
    progress
}

/// Tries removing runs of consecutive lines, from the whole log down to
/// single lines; returns whether anything was removed.
pub(super) fn remove_runs(search: &mut Search<'_>) -> bool {
    let mut progress = false;
    let mut run = search.current().lines().len();
    while run > 0 && !search.stopped() {
        let mut start = 0;
        loop {
            let lines = search.current().lines().len();
            if start >= lines {
                break;
            }
            let count = (lines - start).div_ceil(run);
            let found = search.first(count, &|bundle, index| {
                let from = start + index * run;
                let to = from + run;
                Some(bundle.without_lines(|line| (from..to).contains(&line)))
            });
            let Some(found) = found else { break };
            progress = true;
            // The lines after the removed run moved into its place.
            start += found * run;
        }
        if run == 1 {
            break;
        }
        run = run.div_ceil(2);
    }
    progress
}

/// The groups of `lines`, in order of first appearance.
fn groups_of<'a>(lines: impl Iterator<Item = &'a Value>) -> Vec<Group> {
    let mut groups = Vec::new();
    for line in lines {
        for group in line_groups(line) {
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
    }
    groups
}

/// The groups one event line belongs to: its type, then its ids.
fn line_groups(line: &Value) -> Vec<Group> {
    let mut groups = Vec::new();
    if let Some(kind) = line.pointer("/payload/type").and_then(Value::as_str) {
        groups.push(Group::Type(kind.to_string()));
    }
    visit_ids(line, &mut |id| groups.push(Group::Id(id.to_string())));
    groups
}

/// Every string value of a member named `*_id` in an event line, except the
/// rollout id (every event carries it) and payload references (their ids
/// are renumbered, and the events that carry them are grouped by others).
fn visit_ids<'a>(value: &'a Value, visit: &mut dyn FnMut(&'a str)) {
    if as_reference(value).is_some() {
        return;
    }
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                match member {
                    Value::String(id) if name.ends_with("_id") && name != "rollout_id" => {
                        visit(id);
                    }
                    _ => visit_ids(member, visit),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                visit_ids(item, visit);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn groups_are_ids_and_types_in_first_appearance_order() {
        let lines = [
            json!({"seq": 1, "rollout_id": "r", "thread_id": null, "payload": {"type": "thread_started", "thread_id": "t"}}),
            json!({"seq": 2, "rollout_id": "r", "thread_id": "t", "codex_turn_id": "u", "payload": {
                "type": "tool_call_started", "tool_call_id": "c",
                "invocation_payload": {"raw_payload_id": "raw_payload:1", "kind": {"type": "tool_invocation"}, "path": "payloads/1.json"}
            }}),
        ];
        assert_eq!(
            groups_of(lines.iter()),
            [
                Group::Type("thread_started".to_string()),
                Group::Id("t".to_string()),
                Group::Type("tool_call_started".to_string()),
                Group::Id("u".to_string()),
                Group::Id("c".to_string()),
            ]
        );
        assert_eq!(
            line_groups(&lines[0]),
            [
                Group::Type("thread_started".to_string()),
                Group::Id("t".to_string())
            ]
        );
    }
}
