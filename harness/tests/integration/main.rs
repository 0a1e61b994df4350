//! The harness's integration tests, in one test binary: user-visible
//! messages, new-case, and property tests of the reducer on generated
//! sessions. (The corpus itself runs in its own `harness = false` target.)

mod messages;
mod new_case;
mod properties;
mod state_budget;
mod tidy;
