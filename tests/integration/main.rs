//! End-to-end tests of the `crosswalk` binary, one module per subcommand.

mod convert;
mod fy2018;
mod map;
mod stats;
mod workdir;
