//! `rollout-trace`: the installable command (`cargo install --path reducer`).
//! Everything it does is in `rollout_trace::cli`.

/// The reducer allocates and frees large payload buffers and parsed
/// documents across two threads; mimalloc reuses that memory where glibc's
/// allocator returns it to the kernel and faults it in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rollout_trace::cli::run(std::env::args_os())
}
