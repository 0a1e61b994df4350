//! The generating session: one `TraceWriter`, the root thread's history, the
//! id counters, and the turn loop. The other files add `impl Session`
//! blocks by domain: `tools.rs` (terminal commands), `code_mode.rs`,
//! `agents.rs`, `compaction.rs`.
//!
//! The root history is the list of model items the next full-snapshot
//! request sends. Every item is pushed exactly once, in the order the
//! provider and the runtime produced it, and never changed afterwards:
//! that is what makes each request's input a prefix-extension of the
//! previous one, so the reducer reuses items positionally (reduction.md
//! §7.1), as it does on real sessions.

use std::path::Path;

use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RawPayloadKind;
use rollout_trace::model::RawPayloadRef;
use rollout_trace::model::RolloutStatus;
use rollout_trace::raw::RawTraceEventPayload;
use rollout_trace::writer::BundleIdentity;
use rollout_trace::writer::EventContext;
use rollout_trace::writer::FlushPolicy;
use rollout_trace::writer::InferenceResponse;
use rollout_trace::writer::ResponseTokenUsage;
use rollout_trace::writer::SessionMetadata;
use rollout_trace::writer::SteppingClock;
use rollout_trace::writer::TracePayload;
use rollout_trace::writer::TraceWriter;
use rollout_trace::writer::WriterOptions;
use serde_json::Value;

use crate::GenError;
use crate::GenOptions;
use crate::GenSummary;
use crate::budget::BudgetedDisk;
use crate::budget::ByteBudget;
use crate::items;
use crate::items::RequestBody;
use crate::rng::Rng;
use crate::text;

/// `started_at_unix_ms` of every bundle; each event is `CLOCK_STEP_MS` later.
const CLOCK_START_MS: i64 = 1_760_000_000_000;
const CLOCK_STEP_MS: i64 = 250;

/// Streams of the per-turn generators (`Rng::derived`).
pub(crate) const STREAM_SETUP: u64 = 1;
const STREAM_TURN: u64 = 2;

pub(crate) const ROOT_PATH: &str = "/root";

/// The canonical UUID-shaped thread id of thread `n` (the root is 1).
pub(crate) fn thread_id(n: u64) -> String {
    format!("019d0000-0000-7000-8000-{n:012x}")
}

/// Where an event belongs: its envelope context.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub thread_id: String,
    pub turn_id: String,
}

impl Ctx {
    pub fn envelope(&self) -> EventContext {
        EventContext::turn(&self.thread_id, &self.turn_id)
    }
}

/// Counters behind every generated id: the same options give the same ids.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    inference: u64,
    response: u64,
    item: u64,
    call: u64,
    pub process: u64,
    pub runtime_tool: u64,
    pub cell: u64,
    pub compaction: u64,
    pub child: u64,
    pub child_turn: u64,
}

impl Ids {
    /// A provider item id such as `rs_…`, `msg_…`, `fc_…`.
    pub fn item(&mut self, prefix: &str) -> String {
        self.item += 1;
        format!(
            "{prefix}_{:016x}",
            self.item.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        )
    }

    /// A model-visible call id.
    pub fn call(&mut self) -> String {
        self.call += 1;
        format!(
            "call_{:08}{:016x}",
            self.call,
            self.call.wrapping_mul(0xD6E8_FEB8_6659_FD93)
        )
    }
}

/// The token estimate of an item or text: a quarter of its JSON bytes,
/// history metadata left out (it is not shown to the model).
pub(crate) fn tokens_of(value: &Value) -> u64 {
    let bytes = match value.get(items::HISTORY_METADATA) {
        Some(_) => {
            let mut visible = value.clone();
            if let Value::Object(members) = &mut visible {
                members.shift_remove(items::HISTORY_METADATA);
            }
            serde_json::to_vec(&visible)
        }
        None => serde_json::to_vec(value),
    };
    bytes.map_or(0, |bytes| bytes.len() as u64 / 4)
}

pub(crate) struct Session {
    writer: TraceWriter,
    budget: ByteBudget,
    pub options: GenOptions,
    pub instructions: String,
    pub tools: Value,
    /// Tokens of the instructions and tool definitions, sent with every request.
    fixed_tokens: u64,
    pub root: String,
    /// What the next full-snapshot request of the root sends.
    pub history: Vec<Value>,
    /// Sum of `tokens_of` over `history`.
    pub history_tokens: u64,
    /// Input tokens of the root's last request: the prefix the provider has cached.
    pub cached_tokens: u64,
    /// The root turn running now: the turn id stamped on items entering the
    /// history (`GenOptions::history_metadata`).
    pub turn_id: String,
    /// Items stamped so far: their creation times advance with it.
    stamped: u64,
    pub ids: Ids,
    pub summary: GenSummary,
}

impl Session {
    pub fn create(out: &Path, options: &GenOptions) -> Result<Session, GenError> {
        let root = thread_id(1);
        let trace_id = format!(
            "7d1c0d43-86f5-4b3e-9a55-{:012x}",
            options.seed & 0xFFFF_FFFF_FFFF
        );
        let budget = ByteBudget::new(options.max_bundle_bytes);
        let writer = TraceWriter::create(
            out,
            BundleIdentity::new(trace_id, &root),
            WriterOptions::default()
                .with_clock(SteppingClock::new(CLOCK_START_MS, CLOCK_STEP_MS))
                .with_flush(FlushPolicy::Buffered {
                    capacity_bytes: 1 << 20,
                })
                .with_storage(BudgetedDisk {
                    budget: budget.clone(),
                }),
        )?;
        let mut rng = Rng::derived(options.seed, STREAM_SETUP, 0);
        let instructions = format!(
            "You are Codex, a coding agent working in {}.\n\n{}",
            text::WORKDIR,
            text::prose(&mut rng, 600, 700)
        );
        let tools = items::tool_definitions();
        let fixed_tokens = (instructions.len() as u64) / 4 + tokens_of(&tools);
        Ok(Session {
            writer,
            budget,
            options: options.clone(),
            instructions,
            tools,
            fixed_tokens,
            root,
            history: Vec::new(),
            history_tokens: 0,
            cached_tokens: 0,
            turn_id: String::new(),
            stamped: 0,
            ids: Ids::default(),
            summary: GenSummary::default(),
        })
    }

    pub fn run(mut self) -> Result<GenSummary, GenError> {
        self.start()?;
        for turn in 1..=self.options.turns {
            self.root_turn(turn)?;
        }
        let none = EventContext::none();
        self.append(
            none.clone(),
            RawTraceEventPayload::ThreadEnded {
                thread_id: self.root.clone(),
                status: RolloutStatus::Completed,
            },
        )?;
        self.append(
            none,
            RawTraceEventPayload::RolloutEnded {
                status: RolloutStatus::Completed,
            },
        )?;
        self.writer.flush()?;
        let mut summary = self.summary.clone();
        summary.events = self.writer.next_seq() - 1;
        summary.payload_files = self.writer.next_payload_ordinal() - 1;
        summary.bundle_bytes = self.budget.written();
        Ok(summary)
    }

    /// The rollout and its root thread, and the context items every
    /// session starts with.
    fn start(&mut self) -> Result<(), GenError> {
        let trace_id = self.writer.manifest().trace_id.clone();
        self.append(
            EventContext::none(),
            RawTraceEventPayload::RolloutStarted {
                trace_id,
                root_thread_id: self.root.clone(),
            },
        )?;
        let metadata = self.payload(
            RawPayloadKind::SessionMetadata,
            &SessionMetadata {
                thread_id: self.root.clone(),
                agent_path: Some(ROOT_PATH.to_string()),
                session_source: Value::from("cli"),
                cwd: Some(text::WORKDIR.to_string()),
                model: Some(items::MODEL.to_string()),
                provider_name: Some(items::PROVIDER.to_string()),
                approval_policy: Some("on-request".to_string()),
                sandbox_policy: Some("WorkspaceWrite".to_string()),
                ..SessionMetadata::default()
            },
        )?;
        self.append(
            EventContext::none(),
            RawTraceEventPayload::ThreadStarted {
                thread_id: self.root.clone(),
                agent_path: ROOT_PATH.to_string(),
                metadata_payload: Some(metadata),
            },
        )?;
        self.summary.threads += 1;
        let mut rng = Rng::derived(self.options.seed, STREAM_SETUP, 1);
        let permissions = format!(
            "<permissions instructions>\nApprovals are on-request; the sandbox is workspace-write.\n{}\n</permissions instructions>",
            text::prose(&mut rng, 80, 120)
        );
        let environment = format!(
            "<environment_context>\n  <cwd>{}</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>bash</shell>\n</environment_context>",
            text::WORKDIR
        );
        self.push(items::developer_message(&permissions));
        self.push(items::user_message(&environment));
        Ok(())
    }

    fn root_turn(&mut self, turn: u64) -> Result<(), GenError> {
        let mut rng = Rng::derived(self.options.seed, STREAM_TURN, turn);
        let ctx = Ctx {
            thread_id: self.root.clone(),
            turn_id: format!("019d0000-0b1e-7c00-8000-{turn:012x}"),
        };
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CodexTurnStarted {
                codex_turn_id: ctx.turn_id.clone(),
                thread_id: ctx.thread_id.clone(),
            },
        )?;
        self.summary.turns += 1;
        self.turn_id.clone_from(&ctx.turn_id);
        if every(self.options.compact_every, turn.saturating_sub(1)) {
            self.compact(&ctx, &mut rng)?;
        }
        self.push(items::user_message(&text::prose(&mut rng, 12, 60)));

        // The first response: think, say what comes next, call the tools.
        let mut output = vec![
            self.reasoning(&mut rng),
            items::assistant_message(
                &self.ids.item("msg"),
                &text::prose(&mut rng, 15, 50),
                "commentary",
            ),
        ];
        let cell = every(self.options.code_mode_every, turn).then(|| self.plan_cell(&mut rng));
        let exec = match &cell {
            Some(cell) => {
                output.push(cell.call_item.clone());
                None
            }
            None => {
                let exec = self.plan_exec(&mut rng);
                output.push(exec.call_item.clone());
                Some(exec)
            }
        };
        let spawn = every(self.options.spawn_every, turn).then(|| self.plan_spawn(&mut rng));
        if let Some(spawn) = &spawn {
            output.push(spawn.call_item.clone());
        }
        let mut previous = self.root_request(&ctx, &mut rng, None, output)?;

        // The tools run; their outputs (and a sub-agent's answer) join the history.
        let mut new_items_from = self.history.len();
        let mut yielded = None;
        if let Some(exec) = exec {
            let output = self.run_exec(&ctx, &mut rng, exec.call)?;
            self.push(items::function_call_output(&exec.call_id, &output));
        }
        if let Some(cell) = cell {
            let (output, pending) = self.run_cell(&ctx, &mut rng, cell)?;
            self.push(output);
            yielded = pending;
        }
        if let Some(spawn) = spawn {
            let output = self.run_spawn_tool(&ctx, &spawn)?;
            self.push(output);
            let notification = self.run_child(&spawn)?;
            self.push(notification);
        }

        // A yielded cell: the model waits for it, in a request of its own.
        if let Some(pending) = yielded {
            let wait = self.plan_wait(&mut rng, &pending);
            let output = vec![self.reasoning(&mut rng), wait.call_item.clone()];
            let incremental = self
                .options
                .incremental
                .then_some((previous.as_str(), new_items_from));
            previous = self.root_request(&ctx, &mut rng, incremental, output)?;
            new_items_from = self.history.len();
            let output = self.run_wait(&ctx, &mut rng, pending, &wait)?;
            self.push(output);
        }

        // The final answer.
        let output = vec![
            self.reasoning(&mut rng),
            items::assistant_message(
                &self.ids.item("msg"),
                &text::prose(&mut rng, 50, 200),
                "final_answer",
            ),
        ];
        let incremental = self
            .options
            .incremental
            .then_some((previous.as_str(), new_items_from));
        self.root_request(&ctx, &mut rng, incremental, output)?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CodexTurnEnded {
                codex_turn_id: ctx.turn_id.clone(),
                status: ExecutionStatus::Completed,
            },
        )?;
        Ok(())
    }

    /// One request of the root and its response, whose `output` then joins
    /// the history. Full snapshot unless `incremental` gives the previous
    /// response id and where the new items start. Returns the response id.
    fn root_request(
        &mut self,
        ctx: &Ctx,
        rng: &mut Rng,
        incremental: Option<(&str, usize)>,
        output: Vec<Value>,
    ) -> Result<String, GenError> {
        let (input, previous_response_id) = match incremental {
            Some((previous, from)) => (&self.history[from..], Some(previous)),
            None => (&self.history[..], None),
        };
        let request = RequestBody::new(
            &self.instructions,
            &self.tools,
            input,
            previous_response_id,
            &self.root,
        );
        let request = self
            .writer
            .write_payload(RawPayloadKind::InferenceRequest, &request)?;
        let input_tokens = self.fixed_tokens + self.history_tokens;
        let cached = self.cached_tokens.min(input_tokens) / 256 * 256;
        let response_id = self.inference(ctx, rng, request, input_tokens, cached, &output)?;
        self.cached_tokens = input_tokens;
        for item in output {
            self.push(item);
        }
        Ok(response_id)
    }

    /// `inference_started` with a written request, then the response
    /// payload and `inference_completed`. Returns the response id.
    pub fn inference(
        &mut self,
        ctx: &Ctx,
        rng: &mut Rng,
        request: RawPayloadRef,
        input_tokens: u64,
        cached_tokens: u64,
        output: &[Value],
    ) -> Result<String, GenError> {
        self.ids.inference += 1;
        let inference_call_id = format!("0f4d2b7a-61c3-4e8f-9a25-{:012x}", self.ids.inference);
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::InferenceStarted {
                inference_call_id: inference_call_id.clone(),
                thread_id: ctx.thread_id.clone(),
                codex_turn_id: ctx.turn_id.clone(),
                model: items::MODEL.to_string(),
                provider_name: items::PROVIDER.to_string(),

                request_payload: request,
            },
        )?;
        self.ids.response += 1;
        let response_id = format!(
            "resp_{:032x}",
            u128::from(self.ids.response) * 0x2545_F491_4F6C_DD1D
        );
        let upstream_request_id =
            format!("req_{:024x}", u128::from(self.ids.response) * 0x9E37_79B9);
        let output_tokens: u64 = output.iter().map(tokens_of).sum();
        let reasoning_tokens = rng.range(64, 1024);
        let total = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let response = self.payload(
            RawPayloadKind::InferenceResponse,
            &InferenceResponse {
                response_id: Some(response_id.clone()),
                upstream_request_id: Some(upstream_request_id.clone()),
                token_usage: Some(ResponseTokenUsage {
                    input_tokens: total(input_tokens),
                    cached_input_tokens: total(cached_tokens),
                    cache_write_input_tokens: 0,
                    output_tokens: total(output_tokens + reasoning_tokens),
                    reasoning_output_tokens: total(reasoning_tokens),
                    total_tokens: total(input_tokens + output_tokens + reasoning_tokens),
                }),
                output_items: output.to_vec(),
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::InferenceCompleted {
                inference_call_id,
                response_id: Some(response_id.clone()),
                upstream_request_id: Some(upstream_request_id),
                response_payload: response,
            },
        )?;
        self.summary.inference_calls += 1;
        Ok(response_id)
    }

    /// A reasoning item: a titled summary and ~1 KB of encrypted content.
    pub fn reasoning(&mut self, rng: &mut Rng) -> Value {
        let summary = format!(
            "**{}**\n\n{}",
            text::sentence(rng, 2, 5).trim_end_matches('.'),
            text::prose(rng, 25, 70)
        );
        let bytes = if self.options.small_payloads {
            rng.range(16, 48)
        } else {
            rng.range(640, 900)
        } as usize;
        items::reasoning(&self.ids.item("rs"), &summary, &text::blob(rng, bytes))
    }

    /// Appends `item` to the root history (stamped with history metadata
    /// when the options ask for it).
    pub fn push(&mut self, item: Value) {
        let item = self.entering_history(item);
        self.history_tokens += tokens_of(&item);
        self.history.push(item);
    }

    /// `item` as it enters a history: stamped when `history_metadata` is set.
    pub fn entering_history(&mut self, item: Value) -> Value {
        if !self.options.history_metadata {
            return item;
        }
        self.stamped += 1;
        let create_time_ms =
            CLOCK_START_MS.saturating_add_unsigned(self.stamped.saturating_mul(250));
        items::with_history_metadata(item, &self.turn_id, create_time_ms)
    }

    pub fn payload(
        &self,
        kind: RawPayloadKind,
        value: &dyn TracePayload,
    ) -> Result<RawPayloadRef, GenError> {
        Ok(self.writer.write_payload(kind, value)?)
    }

    pub fn append(
        &self,
        context: EventContext,
        payload: RawTraceEventPayload,
    ) -> Result<(), GenError> {
        self.writer.append(context, payload)?;
        Ok(())
    }
}

/// Whether `n` is a positive multiple of `every` (never when unset or 0).
fn every(every: Option<u64>, n: u64) -> bool {
    matches!(every, Some(k) if k > 0 && n > 0 && n.is_multiple_of(k))
}
