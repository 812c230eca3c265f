//! Moving records through `convert` in batches: read, convert, put in order, write. With one
//! thread the steps take turns; with two or more, one thread cuts the input into chunks, the
//! converting threads split and convert them, and the calling thread puts the results back in
//! input order and writes them, so the output is the same byte for byte whatever the thread
//! count. Buffers are handed back for reuse and a fixed number of chunks is in flight, so memory
//! stays flat however long the input.

use std::io::{Read, Write};
use std::sync::mpsc;

use crate::chunk::{self, Chunk, Cutter};
use crate::error::{Error, Result};
use crate::rows::Rows;

/// Batches that may wait between two stages before the earlier one blocks.
const DEPTH: usize = 2;

/// The records of the input, after the header: chunks cut from the input and split into
/// records, on the thread that reads or (see [`run_parallel`]) on the converting threads.
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

/// A stretch of input for a converting thread, and its place in the input; `None` at the end
/// of the input (or the error that ended it there).
struct Job {
    seq: u64,
    input: Result<Option<Input>>,
}

/// Convert the records of `source` on as many threads as there are `states` (one state each:
/// `convert` turns a batch whose first record is data row `first_row` into output with it), and
/// write the results to `writers` in input order, handing each to `merged` first (which may
/// make audit lines of it, written after its records; one buffer serves every batch). With one
/// state, all of it happens on this thread, in turn. Otherwise one thread cuts the input into chunks; the converting threads split them into records and convert
/// them; this one puts the results back in order and writes them. A fixed number of chunks is
/// in flight, so memory stays flat; the output is the same byte for byte whatever the number
/// of threads. The first error in input order is returned.
pub(crate) fn run<R, W, S, F, M>(
    mut source: Source<R>,
    mut writers: Writers<W>,
    states: &mut [S],
    convert: F,
    mut merged: M,
) -> Result<Writers<W>>
where
    R: Read + Send,
    W: Write,
    S: Send,
    F: Fn(&mut S, u64, &Rows, &mut Converted) -> Result<()> + Sync,
    M: FnMut(&Rows, &mut Converted, &mut Vec<u8>) -> Result<()>,
{
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    if let [state] = states {
        let (mut input, mut output) = (Rows::default(), Converted::default());
        let mut lines = Vec::new();
        while source.fill(&mut input)? {
            convert(state, first_row(&input, source.header), &input, &mut output)?;
            lines.clear();
            merged(&input, &mut output, &mut lines)?;
            writers.write(&output, &lines)?;
        }
        return Ok(writers);
    }
    let workers = states.len().max(1);
    let in_flight = workers + DEPTH;
    let stop = AtomicBool::new(false);
    let (delimiter, header) = (source.delimiter, source.header);
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(in_flight);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (spent_tx, spent_rx) = mpsc::channel::<Chunk>();
        // Per job: the output (or error), and the batch its records were in.
        let (done_tx, done_rx) = mpsc::channel::<(u64, Result<Converted>, Rows)>();
        // One message per job written: jobs not yet written (queued, being converted, or
        // waiting for an earlier one) are never more than `in_flight`, however uneven the
        // threads' progress.
        let (written_tx, written_rx) = mpsc::channel::<()>();
        let stop = &stop;
        scope.spawn(move || {
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if seq >= in_flight as u64 && written_rx.recv().is_err() {
                    return;
                }
                let spare = spent_rx.try_recv().unwrap_or_default();
                let input = source.next(spare);
                let last = !matches!(input, Ok(Some(_)));
                if job_tx.send(Job { seq, input }).is_err() || last {
                    return;
                }
                seq += 1;
            }
        });
        let (convert, spare) = (&convert, Arc::new(Mutex::new(Vec::<Converted>::new())));
        let (batches_tx, batches_rx) = mpsc::channel::<Rows>();
        let batches_rx = Arc::new(Mutex::new(batches_rx));
        for state in states.iter_mut() {
            let (job_rx, done_tx, spare) =
                (Arc::clone(&job_rx), done_tx.clone(), Arc::clone(&spare));
            let (spent_tx, batches_rx) = (spent_tx.clone(), Arc::clone(&batches_rx));
            scope.spawn(move || {
                let mut core = chunk::core_reader(delimiter);
                loop {
                    let job = job_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(Job { seq, input }) = job else {
                        return;
                    };
                    // A batch to split into: one written already, or this thread's own.
                    let mut batch = batches_rx
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .try_recv()
                        .unwrap_or_default();
                    let result = match input {
                        Err(e) => Err(e),
                        Ok(None) => Ok(None),
                        Ok(Some(_)) if stop.load(Ordering::Relaxed) => Ok(None),
                        Ok(Some(input)) => {
                            match input {
                                Input::Split(split) => batch = split,
                                Input::Cut(mut cut) => {
                                    chunk::split(&mut cut, delimiter, &mut core, &mut batch);
                                    let _ = spent_tx.send(cut);
                                }
                            }
                            let mut out = spare
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .pop()
                                .unwrap_or_default();
                            let first_row = first_row(&batch, header);
                            convert(state, first_row, &batch, &mut out).map(|()| Some(out))
                        }
                    };
                    let result = result.map(Option::unwrap_or_default);
                    if done_tx.send((seq, result, batch)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(job_rx);
        drop(spent_tx);
        let mut waiting: BTreeMap<u64, (Result<Converted>, Rows)> = BTreeMap::new();
        let mut next = 0u64;
        let mut lines = Vec::new();
        let outcome = (|| -> Result<()> {
            for (seq, result, batch) in &done_rx {
                waiting.insert(seq, (result, batch));
                while let Some((result, batch)) = waiting.remove(&next) {
                    next += 1;
                    let mut converted = result?;
                    // The end of the input, or a stretch of blank lines, has nothing to write.
                    if !batch.is_empty() {
                        lines.clear();
                        merged(&batch, &mut converted, &mut lines)?;
                        writers.write(&converted, &lines)?;
                    }
                    let _ = written_tx.send(());
                    let _ = batches_tx.send(batch);
                    spare
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(converted);
                }
            }
            Ok(())
        })();
        // Stop the reader and the converting threads, and let them drain and end.
        stop.store(true, Ordering::Relaxed);
        drop(done_rx);
        drop(written_tx);
        outcome.map(|()| writers)
    })
}

/// The thread count used when `--threads` is not given: the cores available.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
