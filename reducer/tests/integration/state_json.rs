//! The streamed `state.json` writer and the in-memory one give the same bytes.

#[test]
fn streamed_state_json_is_the_same_bytes() -> Result<(), Box<dyn std::error::Error>> {
    for case in [
        "../corpus/ok/0490_example_code_mode_turn",
        "../corpus/ok/0491_example_multi_agent",
    ] {
        let reduction = rollout_trace::reduce_bundle(case)?;
        let mut streamed = Vec::new();
        rollout_trace::write_state_json(&reduction.trace, &mut streamed)?;
        assert_eq!(
            String::from_utf8(streamed)?,
            rollout_trace::state_json(&reduction.trace),
            "{case}"
        );
    }
    Ok(())
}
