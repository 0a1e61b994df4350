//! The harness's integration tests, in one test binary: user-visible
//! messages, new-case, minimize, and property tests of the reducer on generated
//! sessions. (The corpus itself runs in its own `harness = false` target.)

mod messages;
mod minimize;
mod new_case;
mod properties;
mod shortcuts;
mod state_budget;
mod tidy;
