//! Moving records through `convert` in batches: read, convert, put in order, write. With one
//! thread the steps take turns; with two or more, each thread does all of them in turn: it cuts
//! the next chunk from the input (one thread at a time), splits and converts it, and writes the
//! converted chunks whose turn has come when no other thread is writing, so the output is the
//! same byte for byte whatever the thread count. Buffers are handed back for reuse and a fixed
//! number of chunks is in flight, so memory stays flat however long the input.

use std::io::{Read, Write};

use crate::chunk::{self, Chunk, Cutter};
use crate::error::{Error, Result};
use crate::rows::Rows;

/// Chunks in flight beyond one per converting thread: read, converted or waiting to be written.
/// A thread busy writing holds back none of the others' progress until this many wait behind
/// it. Four measured faster than two on two cores (the audit by about a tenth, medians of five
/// alternating runs) at the same peak memory; eight was no faster and added 3 MiB.
const DEPTH: usize = 4;

/// The records of the input, after the header: chunks cut from the input and split into
/// records, by the one thread or (see [`run`]) by each converting thread for the chunk it cut.
pub(crate) struct Source<R> {
    cutter: Cutter<R>,
    /// Batches already split (the first ones, read to learn the width and judge the columns).
    pending: std::collections::VecDeque<Rows>,
    delimiter: u8,
    core: chunk::Core,
    chunk: Chunk,
    /// The input holds a header record before the data rows.
    header: bool,
}

/// One stretch of input for a converting thread: cut but not yet split, or split already.
enum Input {
    Cut(Chunk),
    Split(Rows),
}

impl<R: Read> Source<R> {
    pub(crate) fn new(
        cutter: Cutter<R>,
        pending: std::collections::VecDeque<Rows>,
        delimiter: u8,
        header: bool,
    ) -> Source<R> {
        Source {
            cutter,
            pending,
            delimiter,
            core: chunk::core_reader(delimiter),
            chunk: Chunk::default(),
            header,
        }
    }

    /// Fill `batch` with the next chunk's records; false when the input has ended.
    fn fill(&mut self, batch: &mut Rows) -> Result<bool> {
        loop {
            if let Some(first) = self.pending.pop_front() {
                *batch = first;
            } else if self.cutter.next_chunk(&mut self.chunk)? {
                chunk::split(&mut self.chunk, self.delimiter, &mut self.core, batch);
            } else {
                return Ok(false);
            }
            if !batch.is_empty() {
                return Ok(true);
            }
        }
    }

    /// The next stretch of input, cut but not split (unless it was split already), in `spare`'s
    /// buffers; `None` when the input has ended.
    fn next(&mut self, spare: Chunk) -> Result<Option<Input>> {
        if let Some(first) = self.pending.pop_front() {
            return Ok(Some(Input::Split(first)));
        }
        let mut chunk = spare;
        Ok(self
            .cutter
            .next_chunk(&mut chunk)?
            .then_some(Input::Cut(chunk)))
    }
}

/// The data row number of `rows`' first record (`header`: the input starts with a header).
fn first_row(rows: &Rows, header: bool) -> u64 {
    rows.first_record() + 1 - u64::from(header)
}

/// What converting one input batch makes: the output records, encoded, and the audit's
/// occurrences.
#[derive(Default)]
pub(crate) struct Converted {
    pub(crate) rows: Vec<u8>,
    /// The batch's audit occurrences, from its converting thread.
    pub(crate) part: crate::audit::Part,
    /// Malformed texts needing review, in input order, for the whole file's summary (see
    /// [`crate::summary::Summary::part`]).
    pub(crate) texts: Vec<crate::summary::ReviewKey>,
}

/// Where converted batches go: the output file and, with `--audit`, the audit file.
pub(crate) struct Writers<W: Write> {
    pub(crate) rows: W,
    pub(crate) audit: Option<W>,
}

impl<W: Write> Writers<W> {
    /// Write a batch's output records and the audit `lines` it completed.
    fn write(&mut self, converted: &Converted, lines: &[u8]) -> Result<()> {
        self.rows
            .write_all(&converted.rows)
            .map_err(|e| Error::io(None, e))?;
        if let Some(audit) = &mut self.audit {
            audit.write_all(lines).map_err(|e| Error::io(None, e))?;
        }
        Ok(())
    }
}

/// A converted stretch of input waiting for its turn to be written: its output (or the error
/// that converting or reading it ended in) and the batch its records were in.
type Done = (Result<Converted>, Rows);

/// What the converting threads share about order: the stretches converted and not yet written,
/// and the buffers handed back by those written.
struct Queue {
    waiting: std::collections::BTreeMap<u64, Done>,
    /// The next stretch to write, in input order.
    next: u64,
    /// Stretches a thread has set out to read: never more than `in_flight` ahead of `next`.
    reserved: u64,
    /// A thread is writing (only one writes at a time, in order).
    writing: bool,
    /// Writing has failed, an earlier stretch held an error, or a thread panicked: the run is
    /// ending.
    stopped: bool,
    spare_rows: Vec<Rows>,
    spare_out: Vec<Converted>,
}

/// What the writing thread of the moment holds: the outputs, what makes audit lines, and the
/// first error in input order.
struct Outlet<W: Write, M> {
    writers: Writers<W>,
    merged: M,
    lines: Vec<u8>,
    error: Option<Error>,
}

impl<W: Write, M: FnMut(&Rows, &mut Converted, &mut Vec<u8>) -> Result<()>> Outlet<W, M> {
    /// Write the next batch in input order, `converted` from `batch`: its records, then the
    /// audit lines `merged` makes of it.
    fn put(&mut self, batch: &Rows, converted: &mut Converted) -> Result<()> {
        // The end of the input, or a stretch of blank lines, has nothing to write.
        if batch.is_empty() {
            return Ok(());
        }
        self.lines.clear();
        (self.merged)(batch, converted, &mut self.lines)?;
        self.writers.write(converted, &self.lines)
    }

    /// Write the next stretch in input order, unless the run has `stopped`; the first error
    /// (of the stretch, or in writing it) is kept. Returns the output's buffers for reuse.
    fn take(
        &mut self,
        result: Result<Converted>,
        batch: &Rows,
        stopped: bool,
    ) -> Option<Converted> {
        if stopped {
            return result.ok();
        }
        match result.and_then(|mut converted| self.put(batch, &mut converted).map(|()| converted)) {
            Ok(converted) => Some(converted),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

/// Convert the records of `source` on as many threads as there are `states` (one state each:
/// `convert` turns a batch whose first record is data row `first_row` into output with it, in
/// buffers reused from an earlier batch, which it clears before it fills them), and
/// write the results to `writers` in input order, handing each to `merged` first (which may
/// make audit lines of it, written after its records; one buffer serves every batch). With one
/// state, all of it happens on this thread, in turn. Otherwise there is one thread per state,
/// this one among them, and each does every step: it reads the next chunk of input (one thread
/// at a time), splits and converts it, and then, if no other thread is writing, writes every
/// converted chunk whose turn has come, its own or another's. No thread is set apart to read or
/// to write, so the reading and writing are spread over the threads too. A fixed
/// number of chunks is in flight, so memory stays flat; the output is the same byte for byte
/// whatever the number of threads. The first error in input order is returned.
pub(crate) fn run<R, W, S, F, M>(
    mut source: Source<R>,
    writers: Writers<W>,
    states: &mut [S],
    convert: F,
    merged: M,
) -> Result<Writers<W>>
where
    R: Read + Send,
    W: Write + Send,
    S: Send,
    F: Fn(&mut S, u64, &Rows, &mut Converted) -> Result<()> + Sync,
    M: FnMut(&Rows, &mut Converted, &mut Vec<u8>) -> Result<()> + Send,
{
    use std::sync::{Condvar, Mutex};

    let mut outlet = Outlet {
        writers,
        merged,
        lines: Vec::new(),
        error: None,
    };
    if let [state] = states {
        let (mut input, mut output) = (Rows::default(), Converted::default());
        while source.fill(&mut input)? {
            convert(state, first_row(&input, source.header), &input, &mut output)?;
            outlet.put(&input, &mut output)?;
        }
        return Ok(outlet.writers);
    }
    let in_flight = (states.len() + DEPTH) as u64;
    let (delimiter, header) = (source.delimiter, source.header);
    // The input and the next stretch's place in it; `None` once it has ended.
    let intake = Mutex::new(Some((source, 0u64)));
    let queue = Mutex::new(Queue {
        waiting: Default::default(),
        next: 0,
        reserved: 0,
        writing: false,
        stopped: false,
        spare_rows: Vec::new(),
        spare_out: Vec::new(),
    });
    let turn = Condvar::new();
    let outlet = Mutex::new(outlet);
    let work = |state: &mut S| {
        // A thread that panics stops the others, rather than leave them waiting for its chunk.
        let _stop_on_panic = OnPanic(|| {
            lock(&queue).stopped = true;
            turn.notify_all();
        });
        let mut core = chunk::core_reader(delimiter);
        let mut cut = Chunk::default();
        loop {
            // Wait until the chunk to read is within `in_flight` of the next to write.
            let (mut batch, mut out) = {
                let mut q = lock(&queue);
                while !q.stopped && q.reserved >= q.next + in_flight {
                    q = turn.wait(q).unwrap_or_else(|e| e.into_inner());
                }
                if q.stopped {
                    return;
                }
                q.reserved += 1;
                let batch = q.spare_rows.pop().unwrap_or_default();
                (batch, q.spare_out.pop().unwrap_or_default())
            };
            let (seq, input) = {
                let mut intake = intake.lock().unwrap_or_else(|e| e.into_inner());
                let Some((source, seq)) = intake.as_mut() else {
                    return;
                };
                let at = *seq;
                *seq += 1;
                let input = source.next(std::mem::take(&mut cut));
                if !matches!(input, Ok(Some(_))) {
                    *intake = None;
                }
                (at, input)
            };
            let result = match input {
                Ok(None) => return,
                // An earlier chunk failed: this one is not written, so it is not converted.
                Ok(Some(_)) if lock(&queue).stopped => return,
                Err(e) => Err(e),
                Ok(Some(input)) => {
                    match input {
                        Input::Split(split) => batch = split,
                        Input::Cut(mut chunk) => {
                            chunk::split(&mut chunk, delimiter, &mut core, &mut batch);
                            cut = chunk;
                        }
                    }
                    convert(state, first_row(&batch, header), &batch, &mut out).map(|()| out)
                }
            };
            let mut q = lock(&queue);
            q.waiting.insert(seq, (result, batch));
            if q.writing {
                continue;
            }
            // Write every stretch whose turn has come, this thread's or another's.
            q.writing = true;
            loop {
                let next = q.next;
                let Some((result, batch)) = q.waiting.remove(&next) else {
                    break;
                };
                let stopped = q.stopped;
                drop(q);
                let (spare, failed) = {
                    let mut o = outlet.lock().unwrap_or_else(|e| e.into_inner());
                    (o.take(result, &batch, stopped), o.error.is_some())
                };
                q = lock(&queue);
                q.next += 1;
                q.stopped |= failed;
                q.spare_rows.push(batch);
                q.spare_out.extend(spare);
                turn.notify_all();
            }
            q.writing = false;
        }
    };
    std::thread::scope(|scope| {
        let (first, rest) = states.split_first_mut().expect("at least one state");
        for state in rest {
            let work = &work;
            scope.spawn(move || work(state));
        }
        work(first);
    });
    let outlet = outlet.into_inner().unwrap_or_else(|e| e.into_inner());
    match outlet.error {
        Some(e) => Err(e),
        None => Ok(outlet.writers),
    }
}

/// Runs its closure when dropped while the thread panics.
struct OnPanic<F: Fn()>(F);

impl<F: Fn()> Drop for OnPanic<F> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.0)();
        }
    }
}

/// Lock `queue`, whether or not a thread panicked holding it.
fn lock(queue: &std::sync::Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|e| e.into_inner())
}

/// The thread count used when `--threads` is not given: the cores available.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A headerless input of `rows` one-field records, cut into chunks of a few records.
    fn source(rows: usize) -> Source<std::io::Cursor<Vec<u8>>> {
        let text: String = (0..rows).map(|i| format!("{i}\n")).collect();
        let cutter = Cutter::new(std::io::Cursor::new(text.into_bytes()), "t.csv", b',')
            .with_chunk_bytes(40);
        Source::new(cutter, Default::default(), b',', false)
    }

    /// Run `run` on another thread, giving up after a minute: a run that never ends fails.
    fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the run ended (it hung, or its thread died without an answer)")
    }

    /// Each chunk's records written once, in input order, whatever the thread count, with the
    /// threads converting at uneven speeds.
    #[test]
    fn chunks_are_written_once_in_input_order() {
        for threads in [2, 3, 8] {
            let written = within_a_minute(move || {
                let mut states = vec![0u64; threads];
                let writers = Writers {
                    rows: Vec::new(),
                    audit: None,
                };
                let convert = |calls: &mut u64, _: u64, rows: &Rows, out: &mut Converted| {
                    *calls += 1;
                    out.rows.clear();
                    std::thread::sleep(Duration::from_micros(*calls * 37 % 300));
                    for record in rows.iter() {
                        out.rows
                            .extend_from_slice(record.get(0).unwrap_or_default());
                        out.rows.push(b'\n');
                    }
                    Ok(())
                };
                let merged = |_: &Rows, _: &mut Converted, _: &mut Vec<u8>| Ok(());
                run(source(3000), writers, &mut states, convert, merged).map(|w| w.rows)
            });
            let want: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
            let written = String::from_utf8(written.unwrap()).unwrap();
            let got: Vec<&str> = written.lines().collect();
            assert!(
                got == want,
                "{threads} threads: {} records written",
                got.len()
            );
        }
    }

    /// A converting thread that panics ends the run with its panic: no other thread is left
    /// waiting for the chunk it held.
    #[test]
    fn a_panicking_thread_ends_the_run() {
        for threads in [2, 3, 8] {
            let ended = within_a_minute(move || {
                std::panic::catch_unwind(move || {
                    let mut states = vec![(); threads];
                    let writers = Writers {
                        rows: Vec::new(),
                        audit: None,
                    };
                    // One thread panics, once: the others go on, and must not wait for it.
                    let once = std::sync::atomic::AtomicBool::new(false);
                    let convert = |_: &mut (), first_row: u64, _: &Rows, _: &mut Converted| {
                        use std::sync::atomic::Ordering::Relaxed;
                        if first_row >= 1000 && !once.swap(true, Relaxed) {
                            panic!("a converting thread panics");
                        }
                        Ok(())
                    };
                    let merged = |_: &Rows, _: &mut Converted, _: &mut Vec<u8>| Ok(());
                    let _ = run(source(5000), writers, &mut states, convert, merged);
                })
            });
            assert!(
                ended.is_err(),
                "{threads} threads: the panic reached the caller"
            );
        }
    }
}
