//! The outputs of a run as one transaction, through the binary: clashing targets are refused,
//! nothing is left behind by an error, a full disk or a signal, modes follow the umask, special
//! files are written through, and an input that changes while read is an error.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::workdir::Workdir;

fn example() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/claims.csv"))
        .unwrap()
}

/// The example's header and `copies` × its data rows.
fn big_example(copies: usize) -> String {
    let text = example();
    let (header, rows) = text.split_once('\n').unwrap();
    let mut out = String::with_capacity(text.len() * copies);
    out.push_str(header);
    out.push('\n');
    for _ in 0..copies {
        out.push_str(rows);
        if !rows.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The names in the work directory, sorted.
fn listing(wd: &Workdir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(wd.path("."))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn clashing_targets_are_usage_errors_and_touch_nothing() {
    let wd = Workdir::new();
    wd.write("in.csv", example());
    wd.write("out.csv", "old\n");
    std::fs::create_dir(wd.path("sub")).unwrap();
    std::fs::hard_link(wd.path("in.csv"), wd.path("link.csv")).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["-o", "out.csv", "--audit", "./out.csv"],
            "--output out.csv and --audit ./out.csv are the same file",
        ),
        (
            &["-o", "new.csv", "--audit", "sub/../new.csv"],
            "--output new.csv and --audit sub/../new.csv are the same file",
        ),
        (
            &["--audit", "-"],
            "--output and --audit would both write to standard output",
        ),
        (
            &["-o", "-", "--summary", "-", "--report", "r.html"],
            "--output and --summary would both write to standard output",
        ),
        (&["-o", "in.csv"], "--output in.csv is the input file"),
        (&["-o", "link.csv"], "--output link.csv is the input file"),
        (
            &["-o", "x.csv", "--report", "sub/../in.csv"],
            "--report sub/../in.csv is the input file",
        ),
    ];
    let before = listing(&wd);
    for (args, message) in cases {
        let run = wd
            .run(&[&["convert", "in.csv", "-q"][..], args].concat())
            .expect_exit(2);
        assert!(
            run.stderr.contains(message),
            "{message:?}\n{}",
            run.describe()
        );
        assert_eq!(run.stdout, "", "{}", run.describe());
        assert_eq!(listing(&wd), before, "{}", run.describe());
    }
    assert_eq!(wd.read("out.csv"), "old\n");
    assert_eq!(wd.read("in.csv"), example());
    // Any number of outputs may be thrown away.
    wd.run(&[
        "convert",
        "in.csv",
        "-q",
        "-o",
        "/dev/null",
        "--audit",
        "/dev/null",
    ])
    .expect_exit(0);
    assert!(!Path::new("/dev/null").is_file());
}

#[cfg(unix)]
#[test]
fn new_files_take_the_umask_and_replaced_files_keep_their_mode() {
    use std::os::unix::fs::PermissionsExt;
    let wd = Workdir::new();
    wd.write("in.csv", example());
    wd.write("kept.csv", "old\n");
    std::fs::set_permissions(wd.path("kept.csv"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let sh = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077 && {} convert in.csv -q -o o.csv --audit a.csv --summary s.json \
             --report r.html && umask 022 && {} convert in.csv -q -o kept.csv",
            env!("CARGO_BIN_EXE_crosswalk"),
            env!("CARGO_BIN_EXE_crosswalk")
        ))
        .current_dir(wd.path("."))
        .status()
        .unwrap();
    assert!(sh.success());
    let mode = |name: &str| {
        std::fs::metadata(wd.path(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    for name in ["o.csv", "a.csv", "s.json", "r.html"] {
        assert_eq!(mode(name), 0o600, "{name}");
    }
    assert_eq!(mode("kept.csv"), 0o640);
    assert_ne!(wd.read("kept.csv"), "old\n");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_written_through_not_replaced() {
    let wd = Workdir::new();
    wd.write("in.csv", example());
    let fifo = wd.path("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            let mut text = String::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        }
    });
    let run = wd
        .run(&["convert", "in.csv", "-q", "-o", "pipe"])
        .expect_exit(0);
    let through = reader.join().unwrap();
    let direct = wd.run(&["convert", "in.csv", "-q"]).expect_exit(0);
    assert_eq!(through, direct.stdout, "{}", run.describe());
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

/// An input cut short while it is read is an error, with no output left: the run is held by a
/// standard output nobody reads until the file is truncated.
#[test]
fn an_input_truncated_while_read_is_an_error() {
    let wd = Workdir::new();
    wd.write("big.csv", big_example(4000));
    wd.write("out.csv", "old\n");
    let mut child = wd
        .command(&["convert", "big.csv", "-q", "--audit", "a.csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The pipe fills and the run stops well before the end of the 12 MB file.
    std::thread::sleep(Duration::from_millis(500));
    let size = std::fs::metadata(wd.path("big.csv")).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(wd.path("big.csv"))
        .unwrap()
        .set_len(size / 3)
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("big.csv: the file had") && stderr.contains("truncated or changed"),
        "{stderr}"
    );
    assert_eq!(listing(&wd), ["big.csv", "out.csv"]);
}

/// SIGINT, SIGTERM or SIGHUP in the middle of a run removes every staged output: the directory
/// is as it was.
#[cfg(unix)]
#[test]
fn a_signal_mid_run_leaves_the_directory_as_it_was() {
    // More than the rows a run reads ahead before it stages its outputs, in the first half.
    let text = big_example(3000);
    for (signal, number) in [("INT", 2), ("TERM", 15), ("HUP", 1)] {
        let wd = Workdir::new();
        wd.write("out.csv", "old\n");
        let before = listing(&wd);
        let mut child = wd
            .command(&[
                "convert",
                "-",
                "-q",
                "-o",
                "out.csv",
                "--audit",
                "a.csv",
                "--summary",
                "s.json",
                "--report",
                "r.html",
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&text.as_bytes()[..text.len() / 2]).unwrap();
        stdin.flush().unwrap();
        // The run now waits for the rest of its input, its outputs staged.
        let staged = (0..250).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            listing(&wd).len() > before.len()
        });
        assert!(staged, "SIG{signal}: the run staged its outputs");
        let kill = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let out = child.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(out.status.code(), Some(128 + number), "SIG{signal}");
        assert_eq!(listing(&wd), before, "SIG{signal}");
        assert_eq!(wd.read("out.csv"), "old\n", "SIG{signal}");
    }
}

/// A run commits its outputs under a lock on their directory: while another holds it, nothing is
/// moved into place; once it is released, every output is.
#[cfg(unix)]
#[test]
fn outputs_are_committed_under_a_lock_on_their_directory() {
    let wd = Workdir::new();
    wd.write("in.csv", example());
    wd.write("out.csv", "old\n");
    let held = std::fs::File::open(wd.path(".")).unwrap();
    held.lock().unwrap();
    let mut child = wd
        .command(&[
            "convert", "in.csv", "-q", "-o", "out.csv", "--audit", "a.csv",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The run stages both outputs, converts, then waits for the lock (a run of this file
    // takes well under a second).
    let ended = (0..150).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        child.try_wait().unwrap().is_some()
    });
    assert!(!ended, "the run waits for the lock");
    let staged = listing(&wd).iter().filter(|n| n.ends_with(".tmp")).count();
    assert_eq!(staged, 2, "both outputs staged: {:?}", listing(&wd));
    assert_eq!(
        wd.read("out.csv"),
        "old\n",
        "nothing moved while the lock is held"
    );
    assert!(!wd.path("a.csv").exists());
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(listing(&wd), ["a.csv", "in.csv", "out.csv"]);
    assert!(wd.read("out.csv").contains("CLM_ID"));
}

/// Runs writing the same files at the same time: afterwards the claims and the audit are always
/// those of one run.
#[test]
fn concurrent_runs_never_mix_their_outputs() {
    let wd = Workdir::new();
    let text = big_example(20);
    for name in ["A", "B"] {
        // Each input's claim ids say which run wrote a file.
        wd.write(
            &format!("{name}.csv"),
            text.replace(",900000", &format!(",{name}00000")),
        );
    }
    for attempt in 0..12 {
        let children: Vec<_> = ["A", "B"]
            .iter()
            .map(|name| {
                wd.command(&[
                    "convert",
                    &format!("{name}.csv"),
                    "-q",
                    "-o",
                    "out.csv",
                    "--audit",
                    "a.csv",
                ])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let first_claim = |file: &str| {
            let text = wd.read(file);
            let row = text
                .lines()
                .skip(1)
                .find(|l| !l.starts_with("code,"))
                .unwrap()
                .to_string();
            row.split(',')
                .nth(if file == "a.csv" { 3 } else { 1 })
                .unwrap()[..1]
                .to_string()
        };
        assert_eq!(
            first_claim("out.csv"),
            first_claim("a.csv"),
            "attempt {attempt}: the claims and the audit of different runs"
        );
    }
}

/// A full file system at the last output: no output is moved into place, no staged file stays.
/// Needs a small tmpfs (mount, as root); skipped with the reason where that is not allowed.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_at_the_last_output_leaves_no_new_file() {
    let wd = Workdir::new();
    wd.write("in.csv", example());
    let small = wd.path("small");
    std::fs::create_dir(&small).unwrap();
    let mount = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=24k", "tmpfs"])
        .arg(&small)
        .stderr(Stdio::null())
        .status();
    if !mount.is_ok_and(|s| s.success()) {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: cannot mount a small tmpfs here (needs root), so a full disk is not tested"
        );
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&small);
    std::fs::write(small.join("out.csv"), "old\n").unwrap();
    // The claims (4 KiB) and the audit (9 KiB) fit; the 30 KiB page does not.
    let run = wd
        .run(&[
            "convert",
            "in.csv",
            "-q",
            "-o",
            "small/out.csv",
            "--audit",
            "small/a.csv",
            "--report",
            "small/r.html",
        ])
        .expect_exit(1);
    assert!(
        run.stderr.contains("small/r.html: No space left on device"),
        "{}",
        run.describe()
    );
    let mut left: Vec<String> = std::fs::read_dir(&small)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["out.csv"], "{}", run.describe());
    assert_eq!(
        std::fs::read_to_string(small.join("out.csv")).unwrap(),
        "old\n"
    );
}

/// `-o /dev/stdout` writes through to whatever standard output is (here a file), a symbolic link
/// to a file replaces the file it points to and stays a link, and `/dev/stdout` beside
/// `--audit -` is two outputs on standard output.
#[cfg(unix)]
#[test]
fn links_and_dev_stdout_are_followed() {
    let wd = Workdir::new();
    wd.write("in.csv", example());
    let direct = wd.run(&["convert", "in.csv", "-q"]).expect_exit(0).stdout;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} convert in.csv -q -o /dev/stdout > via.csv",
            env!("CARGO_BIN_EXE_crosswalk")
        ))
        .current_dir(wd.path("."))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(wd.read("via.csv"), direct);
    std::fs::create_dir(wd.path("data")).unwrap();
    wd.write("data/target.csv", "old\n");
    std::os::unix::fs::symlink(wd.path("data/target.csv"), wd.path("link.csv")).unwrap();
    wd.run(&["convert", "in.csv", "-q", "-o", "link.csv"])
        .expect_exit(0);
    assert!(
        std::fs::symlink_metadata(wd.path("link.csv"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(wd.read("data/target.csv"), direct);
    let run = wd
        .run(&[
            "convert",
            "in.csv",
            "-q",
            "-o",
            "/dev/stdout",
            "--audit",
            "-",
        ])
        .expect_exit(2);
    assert!(
        run.stderr
            .contains("--output /dev/stdout and --audit - (standard output) are the same file"),
        "{}",
        run.describe()
    );
    let run = wd
        .run(&["convert", "in.csv", "-q", "-o", "x.csv", "--audit", "data/"])
        .expect_exit(2);
    assert!(
        run.stderr.contains("--audit data/ is a directory"),
        "{}",
        run.describe()
    );
}

/// A closed standard output (`| head`) ends a plain run quietly, but a run that was also to write
/// an audit says that it did not, and fails.
#[cfg(unix)]
#[test]
fn a_closed_stdout_with_other_outputs_is_an_error() {
    // With one thread and with two (each writes in turn): the failed write ends the run.
    for threads in ["1", "2"] {
        a_closed_stdout_with_other_outputs_is_an_error_with(threads);
    }
}

fn a_closed_stdout_with_other_outputs_is_an_error_with(threads: &str) {
    let wd = Workdir::new();
    wd.write("big.csv", big_example(3000));
    let mut child = wd
        .command(&[
            "convert", "big.csv", "-q", "-j", threads, "--audit", "a.csv",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "standard output was closed before the conversion ended, so the files of \
                         --audit were not written"
        ),
        "{stderr}"
    );
    assert!(!wd.path("a.csv").exists());
    wd.expect_quiet_broken_pipe(&["convert", "big.csv", "-q", "-j", threads], Vec::new());
}

/// Every output is the same byte for byte whatever the number of converting threads: the
/// converted file, the summary (counts, the most-often list, decisions used, warnings), stderr,
/// and the audit. The inputs span many batches and hold what depends on order: decisions, more
/// than 10,000 distinct malformed texts (which of them are ranked), a zero-led value after the
/// read-ahead, and the real DE-SynPUF sample when present.
#[test]
fn every_output_is_the_same_whatever_the_thread_count() {
    let wd = Workdir::new();
    wd.write("big.csv", big_example(100));
    let mut texts = String::from("CLM_ID,DX1,DX2\n1,389,4019\n");
    for i in 0..10_500 {
        texts.push_str(&format!("{},X{i:05},4019\n", i + 2));
    }
    texts.push_str("99999,0389,99681\n");
    wd.write("texts.csv", texts);
    wd.write(
        "d.csv",
        "system,code,decision\nicd9-dx,401.9,I16.9\nicd9-dx,996.81,T86.12\n",
    );
    let mut inputs = vec![
        (wd.path("big.csv"), vec!["--decisions", "d.csv"]),
        (wd.path("texts.csv"), vec!["--choose", "first-billable"]),
    ];
    let sample = format!("claims/{}", crate::workdir::DESYNPUF_SAMPLE);
    if let Some(sample) = crate::workdir::shared_data(&sample) {
        inputs.push((sample, vec![]));
    }
    for (input, extra) in &inputs {
        let input = input.to_str().unwrap();
        let mut first: Option<(Vec<u8>, String, String, Vec<u8>)> = None;
        for j in ["1", "2", "3", "8"] {
            let mut args = vec![
                "convert",
                input,
                "-j",
                j,
                "-o",
                "out.csv",
                "--summary",
                "s.json",
            ];
            args.extend(extra.iter().copied());
            let run = wd.run(&args).expect_exit(0);
            let mut with_audit = vec!["convert", input, "-j", j, "-o", "out2.csv", "-q"];
            with_audit.extend(["--audit", "a.csv"]);
            with_audit.extend(extra.iter().copied());
            wd.run(&with_audit).expect_exit(0);
            let got = (
                std::fs::read(wd.path("out.csv")).unwrap(),
                wd.read("s.json"),
                run.stderr.clone(),
                std::fs::read(wd.path("a.csv")).unwrap(),
            );
            match &first {
                None => first = Some(got),
                Some(want) => {
                    assert!(got.0 == want.0, "{input}: -j {j} wrote another file");
                    assert_eq!(got.1, want.1, "{input}: -j {j} summary");
                    assert_eq!(got.2, want.2, "{input}: -j {j} stderr");
                    assert!(got.3 == want.3, "{input}: -j {j} wrote another audit");
                }
            }
            assert_eq!(
                std::fs::read(wd.path("out.csv")).unwrap(),
                std::fs::read(wd.path("out2.csv")).unwrap(),
                "{input}: -j {j}: the same file with and without the audit"
            );
        }
        let summary: serde_json::Value = serde_json::from_str(&first.unwrap().1).unwrap();
        assert!(summary["rows_in"].as_u64().unwrap() >= 122, "{summary}");
    }
}
