//! `cargo xtask mutants`: mutation testing of the reducer core with
//! cargo-mutants, with the project's settings (`.cargo/mutants.toml`: which
//! files, the whole workspace's tests, the equivalent mutants left out and
//! why), then the kill rate.
//!
//! The kill rate counts a mutant as killed when the tests failed on it
//! (`caught`) or never finished (`timeout`: a mutant that makes the reducer
//! loop is found, not missed); unviable mutants (they do not build) are not
//! counted. Shards are round-robin, so every shard is a sample of the whole
//! core rather than a run of one file.

use std::fs;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::ExitCode;

use anyhow::Context;
use anyhow::bail;
use clap::Args;
use serde_json::Value;

/// The version installed when cargo-mutants is missing (the one the
/// project's settings and the README's timings were made with).
const CARGO_MUTANTS_VERSION: &str = "27.1.0";

/// Run cargo-mutants over the reducer core and print the kill rate.
///
/// Installs cargo-mutants first when `cargo mutants` is missing. A full run
/// takes hours on two cores (see the README); `--shard k/n` runs every n-th
/// mutant, starting at the k-th (from 0).
#[derive(Args)]
pub struct MutantsArgs {
    /// Only shard K of N (round-robin: mutant i belongs to shard i mod N).
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Where cargo-mutants writes `mutants.out/` (relative paths from the
    /// workspace root).
    #[arg(long, value_name = "DIR", default_value = "target/mutants")]
    out: PathBuf,
    /// Exit with status 1 when the kill rate is below this percentage.
    #[arg(long, value_name = "PERCENT", default_value_t = 90.0)]
    min_kill_rate: f64,
    /// List the mutants the settings select, and test nothing.
    #[arg(long)]
    list: bool,
    /// Further arguments for `cargo mutants` (after `--`), e.g. `-- -j 2`.
    #[arg(last = true, value_name = "ARGS")]
    extra: Vec<String>,
}

pub fn run(args: &MutantsArgs) -> anyhow::Result<ExitCode> {
    if let Some(shard) = &args.shard {
        parse_shard(shard)?;
    }
    let root = crate::project_root()?;
    ensure_installed()?;
    let mut command = Command::new(cargo());
    command.current_dir(&root).arg("mutants");
    if let Some(shard) = &args.shard {
        command.args(["--sharding", "round-robin", "--shard", shard]);
    }
    if args.list {
        let status = command
            .arg("--list")
            .args(&args.extra)
            .status()
            .context("run cargo mutants")?;
        return Ok(if status.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let out = root.join(&args.out);
    fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    command.arg("--output").arg(&out).args(&args.extra);
    let status = command.status().context("run cargo mutants")?;
    // 0: all caught, 2: some missed, 3: some timed out. Anything else means
    // the run itself failed (usage, a failing unmutated tree).
    if !matches!(status.code(), Some(0 | 2 | 3)) {
        bail!(
            "cargo mutants failed ({status}); its logs are in {}",
            out.join("mutants.out").display()
        );
    }
    let report = out.join("mutants.out");
    let tally = Tally::read(&report)?;
    print!("{}", tally.render(&report));
    Ok(match tally.kill_rate() {
        Some(rate) if rate < args.min_kill_rate => {
            eprintln!(
                "error: kill rate {rate:.1}% is below {:.1}%",
                args.min_kill_rate
            );
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    })
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Installs cargo-mutants when `cargo mutants --version` does not answer.
fn ensure_installed() -> anyhow::Result<()> {
    let present = Command::new(cargo())
        .args(["mutants", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if present {
        return Ok(());
    }
    eprintln!("cargo-mutants is missing: installing cargo-mutants {CARGO_MUTANTS_VERSION}");
    let status = Command::new(cargo())
        .args(["install", "--locked", "cargo-mutants", "--version"])
        .arg(CARGO_MUTANTS_VERSION)
        .status()
        .context("run cargo install cargo-mutants")?;
    if !status.success() {
        bail!("cargo install cargo-mutants failed ({status})");
    }
    Ok(())
}

/// Checks `K/N` (0 <= K < N) before hours are spent on a typo.
fn parse_shard(shard: &str) -> anyhow::Result<(u64, u64)> {
    let parsed = shard
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if k < n => Ok((k, n)),
        _ => bail!("--shard takes K/N with 0 <= K < N (e.g. 3/16), not {shard:?}"),
    }
}

/// The counts of `outcomes.json` and the names in `missed.txt`.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    caught: u64,
    timeout: u64,
    missed: u64,
    unviable: u64,
    missed_names: Vec<String>,
}

impl Tally {
    fn read(report: &Path) -> anyhow::Result<Tally> {
        let outcomes = report.join("outcomes.json");
        let text = fs::read_to_string(&outcomes)
            .with_context(|| format!("read {}", outcomes.display()))?;
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("decode {}", outcomes.display()))?;
        let count = |key: &str| value[key].as_u64().unwrap_or_default();
        let missed = report.join("missed.txt");
        let missed_names = fs::read_to_string(&missed)
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Tally {
            caught: count("caught"),
            timeout: count("timeout"),
            missed: count("missed"),
            unviable: count("unviable"),
            missed_names,
        })
    }

    /// Killed (caught or timed out) per hundred viable mutants; `None`
    /// when no mutant was viable.
    fn kill_rate(&self) -> Option<f64> {
        let killed = self.caught + self.timeout;
        let viable = killed + self.missed;
        (viable > 0).then(|| 100.0 * killed as f64 / viable as f64)
    }

    fn render(&self, report: &Path) -> String {
        let mut text = String::new();
        for name in &self.missed_names {
            text.push_str(&format!("missed: {name}\n"));
        }
        let rate = self.kill_rate().map_or_else(
            || "no viable mutant".to_owned(),
            |rate| format!("{rate:.1}%"),
        );
        text.push_str(&format!(
            "kill rate {rate}: {} caught, {} timed out, {} missed ({} unviable, not counted); report in {}\n",
            self.caught,
            self.timeout,
            self.missed,
            self.unviable,
            report.display()
        ));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_checked_before_anything_runs() {
        assert_eq!(parse_shard("3/16").ok(), Some((3, 16)));
        assert_eq!(parse_shard("0/1").ok(), Some((0, 1)));
        for bad in ["16/16", "3", "a/4", "3/0", "-1/4"] {
            let refused = parse_shard(bad).map_err(|error| error.to_string());
            assert_eq!(
                refused,
                Err(format!(
                    "--shard takes K/N with 0 <= K < N (e.g. 3/16), not {bad:?}"
                ))
            );
        }
    }

    #[test]
    fn the_kill_rate_counts_timeouts_as_killed_and_leaves_unviable_out() {
        let tally = Tally {
            caught: 40,
            timeout: 5,
            missed: 5,
            unviable: 7,
            missed_names: vec!["reducer/src/reduce/mod.rs:1:1: replace x with y".to_owned()],
        };
        assert_eq!(tally.kill_rate(), Some(90.0));
        assert_eq!(
            tally.render(Path::new("target/mutants/mutants.out")),
            "missed: reducer/src/reduce/mod.rs:1:1: replace x with y\n\
             kill rate 90.0%: 40 caught, 5 timed out, 5 missed (7 unviable, not counted); report in target/mutants/mutants.out\n"
        );
        assert_eq!(Tally::default().kill_rate(), None);
    }

    #[test]
    fn outcomes_are_read_from_the_report_folder() -> anyhow::Result<()> {
        let temp = tempfile::tempdir()?;
        fs::write(
            temp.path().join("outcomes.json"),
            r#"{"outcomes":[],"total_mutants":12,"missed":1,"caught":9,"timeout":1,"unviable":1,"success":0}"#,
        )?;
        fs::write(
            temp.path().join("missed.txt"),
            "a.rs:1:1: replace f with g\n",
        )?;
        let tally = Tally::read(temp.path())?;
        assert_eq!(
            tally,
            Tally {
                caught: 9,
                timeout: 1,
                missed: 1,
                unviable: 1,
                missed_names: vec!["a.rs:1:1: replace f with g".to_owned()],
            }
        );
        Ok(())
    }
}
