//! End-to-end tests of the `crosswalk` binary, one module per subcommand.

mod codesets;
mod compressed;
mod convert;
mod decisions;
mod export;
mod fy2018;
mod map;
mod outputs;
mod parquet;
mod records;
mod report;
mod shape;
mod stats;
mod workbook;
mod workdir;
