//! `cargo xtask fuzz-seeds`: writes the seed corpus of the `reduce_bundle`
//! fuzz target (every corpus case and a few generated sessions).

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use harness::fuzz_seeds;

/// Write fuzz seeds: one file per corpus case and per generated shape, in
/// the fuzz target's input layout (trace, then 0xFF and each payload).
#[derive(Args)]
pub struct FuzzSeedsArgs {
    /// The seed folder (created if missing; relative paths from the workspace root).
    #[arg(default_value = "reducer/fuzz/corpus/reduce_bundle")]
    out: PathBuf,
}

pub fn run(args: &FuzzSeedsArgs) -> anyhow::Result<ExitCode> {
    let out = crate::project_root()?.join(&args.out);
    fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    let mut written = 0usize;
    let corpus = harness::Corpus::of_workspace().map_err(anyhow::Error::msg)?;
    for case in corpus.discover().context("list the corpus")? {
        let Some(seed) = fuzz_seeds::seed_of_bundle(&case.dir)
            .with_context(|| format!("read {}", case.dir.display()))?
        else {
            continue;
        };
        let name = format!("{}_{}", case.kind.folder(), case.folder_name());
        rollout_trace::write_atomically(&out.join(name), &seed)?;
        written += 1;
    }
    // Generated bundles are written beside the seeds, then removed.
    let scratch = out.join(".generating");
    for (name, options) in fuzz_seeds::generated_shapes() {
        let bundle = scratch.join(name);
        if bundle.exists() {
            fs::remove_dir_all(&bundle)?;
        }
        tracegen::generate(&bundle, &options).with_context(|| format!("generate {name}"))?;
        let seed = fuzz_seeds::seed_of_bundle(&bundle)?.unwrap_or_default();
        rollout_trace::write_atomically(&out.join(name), &seed)?;
        fs::remove_dir_all(&bundle)?;
        written += 1;
    }
    fs::remove_dir_all(&scratch).ok();
    println!("{written} seeds in {}", out.display());
    Ok(ExitCode::SUCCESS)
}
