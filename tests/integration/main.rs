//! End-to-end tests of the `crosswalk` binary, one module per subcommand.

mod convert;
mod decisions;
mod fy2018;
mod map;
mod report;
mod stats;
mod workdir;
