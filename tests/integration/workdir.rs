//! A fresh directory per test, the binary under test, and assertions that print the whole run on
//! failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Workdir {
    dir: tempfile::TempDir,
}

/// What one run of the binary did.
pub struct Run {
    pub cmdline: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panic, showing the run, unless it exited with `code`.
    pub fn expect_exit(self, code: i32) -> Run {
        if self.code != code {
            panic!("expected exit {code}\n{}", self.describe());
        }
        self
    }

    /// Panic, showing the run, unless it exited with one of `codes`.
    pub fn expect_exit_in(self, codes: &[i32]) -> Run {
        if !codes.contains(&self.code) {
            panic!("expected exit in {codes:?}\n{}", self.describe());
        }
        self
    }

    pub fn describe(&self) -> String {
        format!(
            "command: {}\nexit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmdline,
            self.code,
            truncate(&self.stdout),
            truncate(&self.stderr)
        )
    }

    /// stdout parsed as JSON Lines.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}\n{}", self.describe()))
            })
            .collect()
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(4000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_crosswalk"));
        cmd.args(args).current_dir(self.dir.path());
        cmd
    }

    /// Run with the given stdin (empty when `None`).
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the crosswalk binary starts");
        let mut pipe = child.stdin.take().unwrap();
        let input = stdin.unwrap_or(b"").to_vec();
        // Feed stdin from a thread so a large output cannot dead-lock against a large input.
        let feeder = std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
        let output = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        Run {
            cmdline: format!("crosswalk {}", shell_words(args)),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Run, read a little of stdout, close it, and check the command then exits 0 in silence,
    /// as `crosswalk … | head` needs.
    pub fn expect_quiet_broken_pipe(&self, args: &[&str], stdin: Vec<u8>) {
        use std::io::Read;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let _ = pipe.write_all(&stdin);
        });
        let mut first = [0u8; 64];
        let out = child.stdout.as_mut().unwrap();
        out.read_exact(&mut first).unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", shell_words(args));
        assert!(
            output.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }
}

fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'') {
                format!("{a:?}")
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A path under `../shared/data/`, or `None` (with the reason printed) when that data is absent,
/// as on a fresh clone: such tests are skipped, not failed.
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        // Written to the stderr handle directly: the test harness captures eprintln!, and a skip
        // must be visible in a plain `cargo test`.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {} is absent (the official reference data lives beside the project, not in it)",
            path.display()
        );
        None
    }
}

/// The DE-SynPUF inpatient sample (the first 122 claims of sample 1), relative to `claims/`.
pub const DESYNPUF_SAMPLE: &str =
    "desynpuf-inpatient-sample1-head/DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.first122.csv";

/// A work directory holding a copy of the DE-SynPUF inpatient sample as `sample.csv`, or `None`
/// (with the reason printed) when `../shared/data` is absent.
pub fn with_desynpuf_sample() -> Option<Workdir> {
    let sample = shared_data(&format!("claims/{DESYNPUF_SAMPLE}"))?;
    let wd = Workdir::new();
    wd.write("sample.csv", std::fs::read(sample).unwrap());
    Some(wd)
}

/// The official FY2018 GEM directory, if present.
pub fn fy2018_gems() -> Option<PathBuf> {
    shared_data("reference/gems/fy2018")
}
