//! A reduced rollout shaped like `cargo xtask gen-trace --turns N` (which
//! lives in a crate this one cannot depend on): per turn a user message, a
//! full-snapshot request answered with reasoning, a commentary message and
//! an `exec_command` call whose command prints 1-8 KB, then a follow-up
//! request answered with the final message. At 200 turns its `state.json`
//! is about 15 MB, most of it the request lists that repeat the history.

use rollout_trace::model::AgentOrigin;
use rollout_trace::model::AgentThread;
use rollout_trace::model::CodexTurn;
use rollout_trace::model::ConversationBody;
use rollout_trace::model::ConversationChannel;
use rollout_trace::model::ConversationItem;
use rollout_trace::model::ConversationItemKind;
use rollout_trace::model::ConversationPart;
use rollout_trace::model::ConversationRole;
use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::ExecutionWindow;
use rollout_trace::model::InferenceCall;
use rollout_trace::model::ProducerRef;
use rollout_trace::model::RolloutStatus;
use rollout_trace::model::RolloutTrace;
use rollout_trace::model::TerminalModelObservation;
use rollout_trace::model::TerminalObservationSource;
use rollout_trace::model::TerminalOperation;
use rollout_trace::model::TerminalOperationKind;
use rollout_trace::model::TerminalRequest;
use rollout_trace::model::TerminalResult;
use rollout_trace::model::TokenUsage;
use rollout_trace::model::ToolCall;
use rollout_trace::model::ToolCallKind;
use rollout_trace::model::ToolCallRequester;
use rollout_trace::model::ToolCallSummary;

pub const ROOT: &str = "019d0000-0000-7000-8000-000000000001";
const START: i64 = 1_760_000_000_000;

struct Builder {
    trace: RolloutTrace,
    seq: u64,
    now: i64,
    random: u64,
    history: Vec<String>,
}

impl Builder {
    fn tick(&mut self, ms: i64) -> (i64, u64) {
        self.now += ms;
        self.seq += 1;
        (self.now, self.seq)
    }

    fn window(&mut self, ms: i64) -> ExecutionWindow {
        let (started, started_seq) = self.tick(1);
        let (ended, ended_seq) = self.tick(ms);
        ExecutionWindow {
            started_at_unix_ms: started,
            started_seq,
            ended_at_unix_ms: Some(ended),
            ended_seq: Some(ended_seq),
            status: ExecutionStatus::Completed,
        }
    }

    /// SplitMix64, so the text is the same on every run.
    fn next(&mut self) -> u64 {
        self.random = self.random.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn words(&mut self, n: usize) -> String {
        const WORDS: [&str; 16] = [
            "reduce", "payload", "thread", "request", "item", "snapshot", "cell", "tool", "output",
            "window", "status", "marker", "queue", "index", "event", "bundle",
        ];
        (0..n)
            .map(|_| WORDS[(self.next() % 16) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn output(&mut self) -> String {
        let lines = 20 + (self.next() % 130) as usize;
        (0..lines)
            .map(|_| {
                let indent = " ".repeat((self.next() % 4) as usize * 4);
                let words = 3 + (self.next() % 6) as usize;
                format!("{indent}let {} = {};", self.words(1), self.words(words))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn item(
        &mut self,
        turn_id: &str,
        (role, channel): (ConversationRole, Option<ConversationChannel>),
        kind: ConversationItemKind,
        parts: Vec<ConversationPart>,
        call_id: Option<String>,
        produced_by: Vec<ProducerRef>,
    ) -> String {
        let item_id = format!(
            "conversation_item:{}",
            self.trace.conversation_items.len() + 1
        );
        self.trace.conversation_items.insert(
            item_id.clone(),
            ConversationItem {
                item_id: item_id.clone(),
                thread_id: ROOT.to_string(),
                codex_turn_id: Some(turn_id.to_string()),
                first_seen_at_unix_ms: self.now,
                role,
                channel,
                kind,
                agent_message: None,
                body: ConversationBody { parts },
                call_id,
                produced_by,
            },
        );
        item_id
    }

    fn inference(&mut self, turn_id: &str, id: String, response: Vec<String>, tool: Option<&str>) {
        let execution = self.window(2_500);
        let input = 3_000 + 40 * self.history.len() as u64;
        let response_id = Some(format!("resp_{:016x}", self.next()));
        let upstream_request_id = Some(format!("req_{:016x}", self.next()));
        let output_tokens = 300 + self.next() % 900;
        self.trace.inference_calls.insert(
            id.clone(),
            InferenceCall {
                inference_call_id: id,
                thread_id: ROOT.to_string(),
                codex_turn_id: turn_id.to_string(),
                execution,
                model: "gpt-5-codex".to_string(),
                provider_name: "openai".to_string(),
                response_id,
                upstream_request_id,
                request_item_ids: item_ids(&self.history),
                response_item_ids: item_ids(&response),
                tool_call_ids_started_by_response: tool.map(str::to_string).into_iter().collect(),
                usage: Some(TokenUsage {
                    input_tokens: input,
                    cached_input_tokens: input - input / 8,
                    cache_write_input_tokens: 0,
                    output_tokens,
                    reasoning_output_tokens: 200,
                }),
                raw_request_payload_id: format!("raw_payload:{}", self.seq),
                raw_response_payload_id: Some(format!("raw_payload:{}", self.seq + 1)),
            },
        );
        self.history.extend(response);
    }

    fn turn(&mut self, index: usize) {
        use ConversationItemKind as Kind;
        use ConversationRole as Role;
        let turn_id = format!("019d0000-0b1e-7c00-8000-{index:012}");
        let turn_start = self.tick(5);
        let text = format!("Turn {index}: {}", self.words(30));
        let user = self.item(
            &turn_id,
            (Role::User, None),
            Kind::Message,
            vec![ConversationPart::Text { text }],
            None,
            vec![],
        );
        self.history.push(user);

        let first = format!("inference-{index}-a");
        let produced = vec![ProducerRef::Inference {
            inference_call_id: first.clone(),
        }];
        let summary = self.words(40);
        let encrypted = "gAAAA".repeat(120);
        let reasoning = self.item(
            &turn_id,
            (Role::Assistant, Some(ConversationChannel::Analysis)),
            Kind::Reasoning,
            vec![
                ConversationPart::Summary { text: summary },
                ConversationPart::Encoded {
                    label: "encrypted_content".to_string(),
                    value: encrypted,
                },
            ],
            None,
            produced.clone(),
        );
        let text = self.words(25);
        let message = self.item(
            &turn_id,
            (Role::Assistant, Some(ConversationChannel::Commentary)),
            Kind::Message,
            vec![ConversationPart::Text { text }],
            None,
            produced.clone(),
        );
        let call_id = format!("call_{index:08}{:016x}", self.next());
        let command = format!(
            "sed -n '{},{}p' src/{}.rs",
            index,
            index + 120,
            self.words(1)
        );
        let arguments =
            serde_json::json!({"cmd": command, "workdir": "/home/dev/src/acme-shop"}).to_string();
        let call = self.item(
            &turn_id,
            (Role::Assistant, Some(ConversationChannel::Commentary)),
            Kind::FunctionCall,
            vec![ConversationPart::Json {
                summary: arguments,
                raw_payload_id: format!("raw_payload:{}", self.seq),
            }],
            Some(call_id.clone()),
            produced,
        );
        self.inference(
            &turn_id,
            first,
            vec![reasoning, message, call.clone()],
            Some(&call_id),
        );

        let stdout = self.output();
        let formatted = format!(
            "Chunk ID: {:06x}\nWall time: 0.2 seconds\nProcess exited with code 0\nOutput:\n{stdout}",
            self.next() % 0xffffff
        );
        let execution = self.window(250);
        let output = self.item(
            &turn_id,
            (Role::Tool, None),
            Kind::FunctionCallOutput,
            vec![ConversationPart::Text {
                text: formatted.clone(),
            }],
            Some(call_id.clone()),
            vec![ProducerRef::Tool {
                tool_call_id: call_id.clone(),
            }],
        );
        self.history.push(output.clone());
        let operation_id = format!("terminal_operation:{}", index + 1);
        self.trace.terminal_operations.insert(
            operation_id.clone(),
            TerminalOperation {
                operation_id: operation_id.clone(),
                terminal_id: Some(format!("{}", 1000 + index)),
                tool_call_id: call_id.clone(),
                kind: TerminalOperationKind::ExecCommand,
                execution,
                request: TerminalRequest::ExecCommand {
                    command: vec!["bash".to_string(), "-lc".to_string(), command.clone()],
                    display_command: format!("bash -lc {command}"),
                    cwd: "/home/dev/src/acme-shop".to_string(),
                    yield_time_ms: None,
                    max_output_tokens: None,
                },
                result: Some(TerminalResult {
                    exit_code: Some(if index % 37 == 5 { 1 } else { 0 }),
                    stdout,
                    stderr: String::new(),
                    formatted_output: Some(formatted),
                    original_token_count: None,
                    chunk_id: None,
                }),
                model_observations: vec![TerminalModelObservation {
                    call_item_ids: vec![call.clone()],
                    output_item_ids: vec![output.clone()],
                    source: TerminalObservationSource::DirectToolCall,
                }],
                raw_payload_ids: vec![],
            },
        );
        self.trace.tool_calls.insert(
            call_id.clone(),
            ToolCall {
                tool_call_id: call_id.clone(),
                mcp_call_id: None,
                model_visible_call_id: Some(call_id),
                code_mode_runtime_tool_id: None,
                thread_id: ROOT.to_string(),
                started_by_codex_turn_id: Some(turn_id.clone()),
                execution,
                requester: ToolCallRequester::Model,
                kind: ToolCallKind::ExecCommand,
                model_visible_call_item_ids: vec![call],
                model_visible_output_item_ids: vec![output],
                terminal_operation_id: Some(operation_id.clone()),
                summary: ToolCallSummary::Terminal { operation_id },
                raw_invocation_payload_id: None,
                raw_result_payload_id: None,
                raw_runtime_payload_ids: vec![],
            },
        );

        let second = format!("inference-{index}-b");
        let text = format!("Done with turn {index}: {}", self.words(40));
        let answer = self.item(
            &turn_id,
            (Role::Assistant, Some(ConversationChannel::Final)),
            Kind::Message,
            vec![ConversationPart::Text { text }],
            None,
            vec![ProducerRef::Inference {
                inference_call_id: second.clone(),
            }],
        );
        self.inference(&turn_id, second, vec![answer], None);
        let (ended, ended_seq) = self.tick(5);
        self.trace.codex_turns.insert(
            turn_id.clone(),
            CodexTurn {
                codex_turn_id: turn_id.clone(),
                thread_id: ROOT.to_string(),
                execution: ExecutionWindow {
                    started_at_unix_ms: turn_start.0,
                    started_seq: turn_start.1,
                    ended_at_unix_ms: Some(ended),
                    ended_seq: Some(ended_seq),
                    status: ExecutionStatus::Completed,
                },
                input_item_ids: vec![],
            },
        );
    }
}

/// A completed single-thread rollout of `turns` turns.
pub fn rollout(turns: usize) -> RolloutTrace {
    let mut builder = Builder {
        trace: RolloutTrace::new(
            "trace-big".to_string(),
            ROOT.to_string(),
            ROOT.to_string(),
            START,
        ),
        seq: 0,
        now: START,
        random: 7,
        history: Vec::new(),
    };
    let thread_start = builder.tick(1);
    for index in 0..turns {
        builder.turn(index);
    }
    let (ended, ended_seq) = builder.tick(1);
    let item_ids = builder
        .trace
        .conversation_items
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    let mut item_ids = item_ids;
    item_ids.sort_by_key(|id| {
        id.trim_start_matches("conversation_item:")
            .parse::<u64>()
            .unwrap_or(0)
    });
    builder.trace.threads.insert(
        ROOT.to_string(),
        AgentThread {
            thread_id: ROOT.to_string(),
            agent_path: "/root".to_string(),
            nickname: None,
            origin: AgentOrigin::Root,
            execution: ExecutionWindow {
                started_at_unix_ms: thread_start.0,
                started_seq: thread_start.1,
                ended_at_unix_ms: Some(ended),
                ended_seq: Some(ended_seq),
                status: ExecutionStatus::Completed,
            },
            default_model: Some("gpt-5-codex".to_string()),
            conversation_item_ids: item_ids,
        },
    );
    builder.trace.ended_at_unix_ms = Some(ended);
    builder.trace.status = RolloutStatus::Completed;
    builder.trace
}

/// The generator's ids as the model's list; they are all `conversation_item:<n>`.
fn item_ids(ids: &[String]) -> rollout_trace::model::ItemIdList {
    match rollout_trace::model::ItemIdList::try_from(ids) {
        Ok(list) => list,
        Err(error) => panic!("generated ids are not item ids: {error:?}"),
    }
}
