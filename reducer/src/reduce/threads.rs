//! Threads and Codex turns (`reduction.md` §3, §4).

use serde::Deserialize;
use serde_json::Value;

use super::EventContext;
use super::Reducer;
use super::budget::json_bytes;
use crate::bundle::PayloadSource;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::AgentOrigin;
use crate::model::AgentThread;
use crate::model::CodexTurn;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::RawPayloadRef;
use crate::model::RolloutStatus;

/// The members of a session-metadata payload the reducer reads.
#[derive(Deserialize)]
struct ThreadStartedMetadata {
    agent_path: Option<String>,
    task_name: Option<String>,
    nickname: Option<String>,
    agent_role: Option<String>,
    model: Option<String>,
    session_source: Option<Value>,
}

impl Reducer {
    pub(super) fn start_thread(
        &mut self,
        cx: &EventContext,
        thread_id: &str,
        event_agent_path: &str,
        metadata_payload: Option<&RawPayloadRef>,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        if self.trace.threads.contains_key(thread_id) {
            bail!("duplicate thread start for {thread_id}");
        }
        let metadata = match metadata_payload {
            Some(payload) => {
                let value = payloads.read_payload(payload)?;
                let metadata = ThreadStartedMetadata::deserialize(&value).map_err(|error| {
                    ReduceError::caused(
                        format!("parse thread metadata {}", payload.raw_payload_id),
                        error,
                    )
                    .at_payload(&payload.path)
                })?;
                Some(metadata)
            }
            None => None,
        };
        let spawn = metadata.as_ref().and_then(spawn_origin);
        let metadata_path = metadata.as_ref().and_then(|m| m.agent_path.clone());
        let agent_path = spawn
            .as_ref()
            .and_then(|spawn| spawn.path.clone())
            .or(metadata_path)
            .unwrap_or_else(|| event_agent_path.to_string());
        let origin = match spawn {
            Some(spawn) => AgentOrigin::Spawned {
                spawn_edge_id: format!("edge:spawn:{}:{thread_id}", spawn.parent_thread_id),
                parent_thread_id: spawn.parent_thread_id,
                task_name: spawn
                    .task_name
                    .unwrap_or_else(|| derive_task_name(&agent_path)),
                agent_role: spawn.agent_role.unwrap_or_default(),
            },
            None => AgentOrigin::Root,
        };
        let (nickname, default_model) = match metadata {
            Some(metadata) => (metadata.nickname, metadata.model),
            None => (None, None),
        };
        let thread = AgentThread {
            thread_id: thread_id.to_string(),
            agent_path,
            nickname,
            origin,
            execution: ExecutionWindow::started(cx.wall_time_unix_ms, cx.seq),
            default_model,
            conversation_item_ids: Vec::new(),
        };
        self.budget.charge(json_bytes(&thread), "a thread")?;
        self.trace.threads.insert(thread_id.to_string(), thread);
        Ok(())
    }

    pub(super) fn end_thread(
        &mut self,
        cx: &EventContext,
        thread_id: &str,
        status: RolloutStatus,
    ) -> Result<(), ReduceError> {
        let Some(thread) = self.trace.threads.get_mut(thread_id) else {
            bail!("trace event referenced unknown thread {thread_id}");
        };
        thread
            .execution
            .end(cx.wall_time_unix_ms, cx.seq, status.into());
        // An ended thread rarely sends another request; its last one is not
        // worth the memory (a later request is decoded in full, with the
        // same result).
        self.last_requests.remove(thread_id);
        Ok(())
    }

    pub(super) fn start_turn(
        &mut self,
        cx: &EventContext,
        codex_turn_id: &str,
        thread_id: &str,
    ) -> Result<(), ReduceError> {
        if self.trace.codex_turns.contains_key(codex_turn_id) {
            bail!("duplicate codex turn start for {codex_turn_id}");
        }
        if !self.trace.threads.contains_key(thread_id) {
            bail!("trace event referenced unknown thread {thread_id}");
        }
        self.trace.codex_turns.insert(
            codex_turn_id.to_string(),
            CodexTurn {
                codex_turn_id: codex_turn_id.to_string(),
                thread_id: thread_id.to_string(),
                execution: ExecutionWindow::started(cx.wall_time_unix_ms, cx.seq),
                input_item_ids: Vec::new(),
            },
        );
        Ok(())
    }

    /// Closes the turn window (even with status `running`), then ends the
    /// turn's running code cells and inference calls.
    pub(super) fn end_turn(
        &mut self,
        cx: &EventContext,
        codex_turn_id: &str,
        status: ExecutionStatus,
    ) -> Result<(), ReduceError> {
        let turn = self.trace.codex_turns.get_mut(codex_turn_id);
        if let (Some(envelope_thread), Some(turn)) = (&cx.thread_id, &turn)
            && &turn.thread_id != envelope_thread
        {
            bail!(
                "codex turn end for {codex_turn_id} used thread {envelope_thread}, but the turn belongs to {}",
                turn.thread_id
            );
        }
        let Some(turn) = turn else {
            bail!("codex turn end referenced unknown turn {codex_turn_id}");
        };
        turn.execution.end(cx.wall_time_unix_ms, cx.seq, status);
        self.end_code_cells_for_turn(cx, codex_turn_id, status);
        self.end_inference_calls_for_turn(cx, codex_turn_id, status);
        Ok(())
    }

    /// The turn's thread id, or the error upstream reports for an unknown turn.
    pub(super) fn turn_thread(&self, codex_turn_id: &str) -> Option<&str> {
        self.trace
            .codex_turns
            .get(codex_turn_id)
            .map(|turn| turn.thread_id.as_str())
    }
}

/// Spawn facts found in a metadata payload's `session_source`.
struct SpawnOrigin {
    parent_thread_id: String,
    path: Option<String>,
    task_name: Option<String>,
    agent_role: Option<String>,
}

/// `reduction.md` §3.1 step 3: a thread is spawned when its metadata names a parent.
fn spawn_origin(metadata: &ThreadStartedMetadata) -> Option<SpawnOrigin> {
    let spawn = metadata
        .session_source
        .as_ref()?
        .as_object()?
        .get("subagent")?
        .as_object()?
        .get("thread_spawn")?
        .as_object()?;
    let parent_thread_id = spawn.get("parent_thread_id")?.as_str()?.to_string();
    let string = |key: &str| spawn.get(key).and_then(Value::as_str).map(str::to_string);
    let path = string("agent_path").or_else(|| metadata.agent_path.clone());
    let task_name = string("task_name")
        .or_else(|| metadata.task_name.clone())
        .or_else(|| path.as_deref().map(derive_task_name));
    let agent_role = string("agent_role").or_else(|| metadata.agent_role.clone());
    Some(SpawnOrigin {
        parent_thread_id,
        path,
        task_name,
        agent_role,
    })
}

/// The last non-empty segment of an agent path, or the whole path if it has none.
fn derive_task_name(path: &str) -> String {
    path.rsplit('/')
        .find(|segment| !segment.is_empty())
        .unwrap_or(path)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::derive_task_name;

    #[test]
    fn task_name_is_the_last_non_empty_segment() {
        assert_eq!(derive_task_name("/root/a/b"), "b");
        assert_eq!(derive_task_name("/root/a/"), "a");
        assert_eq!(derive_task_name("/"), "/");
        assert_eq!(derive_task_name(""), "");
    }
}
