//! Spawned sub-agents (multi-agent v2, reduction.md §13), as in the corpus
//! case `ok/0491_example_multi_agent`.
//!
//! The root calls `spawn_agent`; the tool's runtime end (spawn end shape,
//! §8.5.4) queues a spawn edge to the child thread, which its first request
//! resolves: the request carries the task as an `agent_message` from
//! `/root`. The child answers in one turn and `agent_result_observed`
//! queues an agent-result edge, resolved when the root's next request
//! carries the notification as an `agent_message` to `/root`. Every spawn
//! therefore gives two resolved edges, a thread and a turn.

use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RawPayloadKind;
use rollout_trace::model::RolloutStatus;
use rollout_trace::raw::RawToolCallRequester;
use rollout_trace::raw::RawTraceEventPayload;
use rollout_trace::writer::AgentResult;
use rollout_trace::writer::DispatchResult;
use rollout_trace::writer::EventContext;
use rollout_trace::writer::SessionMetadata;
use rollout_trace::writer::ThreadSpawn;
use rollout_trace::writer::ToolInvocation;
use rollout_trace::writer::ToolInvocationBody;
use rollout_trace::writer::agent_result_edge_id;
use rollout_trace::writer::classify_tool;
use rollout_trace::writer::generic_summary;
use serde_json::Value;
use serde_json::json;

use crate::GenError;
use crate::items;
use crate::items::RequestBody;
use crate::rng::Rng;
use crate::session;
use crate::session::Ctx;
use crate::session::ROOT_PATH;
use crate::session::Session;
use crate::session::tokens_of;
use crate::text;

/// A sub-agent the model asked for.
pub(crate) struct PlannedSpawn {
    /// The `function_call` item of the response.
    pub call_item: Value,
    call_id: String,
    arguments: String,
    thread_id: String,
    agent_path: String,
    task_name: String,
    nickname: &'static str,
    role: &'static str,
    prompt: String,
    /// The child's own generator: its text does not depend on the root's.
    rng: Rng,
}

impl Session {
    pub fn plan_spawn(&mut self, rng: &mut Rng) -> PlannedSpawn {
        self.ids.child += 1;
        let n = self.ids.child;
        let task_name = text::task_name(rng, n);
        let role = if rng.chance(50) { "worker" } else { "explorer" };
        let prompt = text::prose(rng, 20, 60);
        let arguments =
            json!({"task_name": task_name, "agent_type": role, "message": prompt}).to_string();
        let call_id = self.ids.call();
        PlannedSpawn {
            call_item: items::function_call(
                &self.ids.item("fc"),
                "spawn_agent",
                &arguments,
                &call_id,
            ),
            call_id,
            arguments,
            // Thread 1 is the root.
            thread_id: session::thread_id(n + 1),
            agent_path: format!("{ROOT_PATH}/{task_name}"),
            task_name,
            nickname: text::nickname(n),
            role,
            prompt,
            rng: Rng::new(rng.next_u64()),
        }
    }

    /// The `spawn_agent` tool call, which starts the child thread. Returns
    /// the `function_call_output` the model sees.
    pub fn run_spawn_tool(&mut self, ctx: &Ctx, spawn: &PlannedSpawn) -> Result<Value, GenError> {
        let invocation = self.payload(
            RawPayloadKind::ToolInvocation,
            &ToolInvocation {
                tool_name: "spawn_agent".to_string(),
                tool_namespace: None,
                payload: ToolInvocationBody::Function {
                    arguments: spawn.arguments.clone(),
                },
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallStarted {
                tool_call_id: spawn.call_id.clone(),
                model_visible_call_id: Some(spawn.call_id.clone()),
                code_mode_runtime_tool_id: None,
                requester: RawToolCallRequester::Model,
                kind: classify_tool("spawn_agent"),
                summary: generic_summary("spawn_agent", Some(&spawn.arguments)),
                invocation_payload: Some(invocation),
            },
        )?;
        let begin = self.payload(
            RawPayloadKind::ToolRuntimeEvent,
            &json!({
                "call_id": spawn.call_id,
                "sender_thread_id": self.root,
                "prompt": spawn.prompt,
                "model": items::MODEL,
                "reasoning_effort": "medium",
            }),
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallRuntimeStarted {
                tool_call_id: spawn.call_id.clone(),
                runtime_payload: begin,
            },
        )?;
        let metadata = self.payload(
            RawPayloadKind::SessionMetadata,
            &SessionMetadata {
                thread_id: spawn.thread_id.clone(),
                agent_path: Some(spawn.agent_path.clone()),
                task_name: Some(spawn.task_name.clone()),
                nickname: Some(spawn.nickname.to_string()),
                agent_role: Some(spawn.role.to_string()),
                session_source: ThreadSpawn {
                    parent_thread_id: self.root.clone(),
                    depth: 1,
                    agent_path: spawn.agent_path.clone(),
                    agent_nickname: Some(spawn.nickname.to_string()),
                    agent_role: Some(spawn.role.to_string()),
                }
                .session_source(),
                cwd: Some(text::WORKDIR.to_string()),
                model: Some(items::MODEL.to_string()),
                provider_name: Some(items::PROVIDER.to_string()),
                approval_policy: Some("never".to_string()),
                sandbox_policy: Some("WorkspaceWrite".to_string()),
                ..SessionMetadata::default()
            },
        )?;
        self.append(
            EventContext::none(),
            RawTraceEventPayload::ThreadStarted {
                thread_id: spawn.thread_id.clone(),
                agent_path: spawn.agent_path.clone(),
                metadata_payload: Some(metadata),
            },
        )?;
        self.summary.threads += 1;
        let end = self.payload(
            RawPayloadKind::ToolRuntimeEvent,
            &json!({
                "call_id": spawn.call_id,
                "sender_thread_id": self.root,
                "new_thread_id": spawn.thread_id,
                "prompt": spawn.prompt,
                "model": items::MODEL,
                "reasoning_effort": "medium",
                "status": "pending_init",
            }),
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallRuntimeEnded {
                tool_call_id: spawn.call_id.clone(),
                status: ExecutionStatus::Completed,
                runtime_payload: end,
            },
        )?;
        let output = items::function_call_output(
            &spawn.call_id,
            &json!({"agent_id": spawn.thread_id, "nickname": spawn.nickname}).to_string(),
        );
        let result = self.payload(
            RawPayloadKind::ToolResult,
            &DispatchResult::DirectResponse {
                response_item: output.clone(),
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallEnded {
                tool_call_id: spawn.call_id.clone(),
                status: ExecutionStatus::Completed,
                result_payload: Some(result),
            },
        )?;
        self.summary.tool_calls += 1;
        self.summary.interaction_edges += 1;
        Ok(output)
    }

    /// The child's one turn, its result delivery and its end. Returns the
    /// notification item the root's next request carries.
    pub fn run_child(&mut self, spawn: &PlannedSpawn) -> Result<Value, GenError> {
        let mut rng = spawn.rng.clone();
        self.ids.child_turn += 1;
        let ctx = Ctx {
            thread_id: spawn.thread_id.clone(),
            turn_id: format!("019d0000-0b1e-7c00-9000-{:012x}", self.ids.child_turn),
        };
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CodexTurnStarted {
                codex_turn_id: ctx.turn_id.clone(),
                thread_id: ctx.thread_id.clone(),
            },
        )?;
        self.summary.turns += 1;
        let input = [
            items::developer_message(&format!(
                "You are a sub-agent ({}) working for {ROOT_PATH}. Report your findings in your final answer.",
                spawn.agent_path
            )),
            items::agent_message(ROOT_PATH, &spawn.agent_path, &spawn.prompt),
        ]
        .map(|item| self.entering_history(item));
        let request = RequestBody::new(
            &self.instructions,
            &self.tools,
            &input,
            None,
            &spawn.thread_id,
        );
        let request = self.payload(RawPayloadKind::InferenceRequest, &request)?;
        let answer = text::prose(&mut rng, 40, 120);
        let output = [
            self.reasoning(&mut rng),
            items::assistant_message(&self.ids.item("msg"), &answer, "final_answer"),
        ];
        let input_tokens = (self.instructions.len() as u64) / 4
            + tokens_of(&self.tools)
            + input.iter().map(tokens_of).sum::<u64>();
        self.inference(&ctx, &mut rng, request, input_tokens, 0, &output)?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CodexTurnEnded {
                codex_turn_id: ctx.turn_id.clone(),
                status: ExecutionStatus::Completed,
            },
        )?;

        let status = json!({"completed": answer});
        let notification = format!(
            "<subagent_notification>{}</subagent_notification>",
            json!({"agent_path": spawn.agent_path, "status": status})
        );
        let carried = self.payload(
            RawPayloadKind::AgentResult,
            &AgentResult {
                child_agent_path: spawn.agent_path.clone(),
                message: notification.clone(),
                status,
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::AgentResultObserved {
                edge_id: agent_result_edge_id(&ctx.thread_id, &ctx.turn_id, &self.root),
                child_thread_id: ctx.thread_id.clone(),
                child_codex_turn_id: ctx.turn_id.clone(),
                parent_thread_id: self.root.clone(),
                message: notification.clone(),
                carried_payload: Some(carried),
            },
        )?;
        self.append(
            EventContext::none(),
            RawTraceEventPayload::ThreadEnded {
                thread_id: ctx.thread_id,
                status: RolloutStatus::Completed,
            },
        )?;
        self.summary.interaction_edges += 1;
        Ok(items::agent_message(
            &spawn.agent_path,
            ROOT_PATH,
            &notification,
        ))
    }
}
