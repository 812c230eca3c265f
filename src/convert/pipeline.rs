//! Moving records through `convert` in batches: read, convert, write. With one thread the three
//! steps take turns; with two or more, reading and writing run on threads of their own, joined to
//! the converting thread by bounded channels. Batches travel in order through single queues, so
//! the output is the same byte for byte whatever the thread count; full batches are handed back
//! for reuse, so memory stays flat however long the input.

use std::io::{Read, Write};
use std::sync::mpsc;

use crate::batch::Batch;
use crate::csvio::Records;
use crate::error::{Error, Result};

/// Records per batch: large enough that a channel hand-over costs nothing per record, small enough
/// that the batches in flight take well under a MiB.
const BATCH: usize = 128;

/// Batches that may wait between two stages before the earlier one blocks.
const DEPTH: usize = 2;

/// The records of the input, after the header.
pub(crate) struct Source<R> {
    reader: Records<R>,
    /// Records already read (the first ones, to learn the width and judge the columns).
    pending: std::collections::VecDeque<csv::ByteRecord>,
}

impl<R: Read> Source<R> {
    pub(crate) fn new(
        reader: Records<R>,
        pending: std::collections::VecDeque<csv::ByteRecord>,
    ) -> Source<R> {
        Source { reader, pending }
    }

    /// Fill `batch` with up to [`BATCH`] records; an empty batch means the input has ended.
    fn fill(&mut self, batch: &mut Batch) -> Result<()> {
        batch.clear();
        while batch.len() < BATCH
            && let Some(first) = self.pending.pop_front()
        {
            *batch.push() = first;
        }
        while batch.len() < BATCH {
            if !self.reader.read(batch.push())? {
                batch.truncate(batch.len() - 1);
                break;
            }
        }
        Ok(())
    }
}

/// What converting one input batch makes: the output records, encoded, and the audit records.
#[derive(Default)]
pub(crate) struct Converted {
    pub(crate) rows: Vec<u8>,
    pub(crate) audit: Batch,
    /// Malformed texts needing review, in input order, for the whole file's summary (see
    /// [`crate::summary::Summary::part`]).
    pub(crate) texts: Vec<crate::summary::ReviewKey>,
}

/// Where converted batches go: the output file and, with `--audit`, the audit file.
pub(crate) struct Writers<W: Write> {
    pub(crate) rows: W,
    pub(crate) audit: Option<csv::Writer<W>>,
}

impl<W: Write> Writers<W> {
    fn write(&mut self, converted: &Converted) -> Result<()> {
        self.rows
            .write_all(&converted.rows)
            .map_err(|e| Error::io(None, e))?;
        if let Some(audit) = &mut self.audit {
            converted.audit.write_to(audit).map_err(Error::from_csv)?;
        }
        Ok(())
    }
}

/// Run every record of `source` through `convert` (which turns one input batch into output and
/// audit records) and write the results to `writers`, on `threads` threads. Returns the writers
/// for the caller to finish.
pub(crate) fn run<R, W, F>(
    threads: usize,
    mut source: Source<R>,
    mut writers: Writers<W>,
    mut convert: F,
) -> Result<Writers<W>>
where
    R: Read + Send,
    W: Write + Send,
    F: FnMut(&Batch, &mut Converted) -> Result<()>,
{
    if threads <= 1 {
        let (mut input, mut output) = (Batch::default(), Converted::default());
        loop {
            source.fill(&mut input)?;
            if input.is_empty() {
                return Ok(writers);
            }
            convert(&input, &mut output)?;
            writers.write(&output)?;
        }
    }

    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Batch>>(DEPTH);
        let (spent_in_tx, spent_in_rx) = mpsc::channel::<Batch>();
        let reading = scope.spawn(move || {
            loop {
                let mut batch = spent_in_rx.try_recv().unwrap_or_default();
                let filled = source.fill(&mut batch).map(|()| batch);
                let last = filled.as_ref().map_or(true, Batch::is_empty);
                // A closed channel means the converting side stopped; so do we.
                if full_tx.send(filled).is_err() || last {
                    return;
                }
            }
        });

        let (out_tx, out_rx) = mpsc::sync_channel::<Converted>(DEPTH);
        let (spent_out_tx, spent_out_rx) = mpsc::channel::<Converted>();
        let writing = scope.spawn(move || -> Result<Writers<W>> {
            for converted in out_rx {
                writers.write(&converted)?;
                let _ = spent_out_tx.send(converted);
            }
            Ok(writers)
        });

        let converted = (|| -> Result<()> {
            for filled in &full_rx {
                let input = filled?;
                if input.is_empty() {
                    break;
                }
                let mut output = spent_out_rx.try_recv().unwrap_or_default();
                convert(&input, &mut output)?;
                let _ = spent_in_tx.send(input);
                if out_tx.send(output).is_err() {
                    // The writer failed; its error is reported below.
                    break;
                }
            }
            Ok(())
        })();
        // Let both threads end: the reader sees its queue closed, the writer its input end.
        drop(full_rx);
        drop(out_tx);
        let written = writing.join().expect("the writing thread does not panic");
        reading.join().expect("the reading thread does not panic");
        converted?;
        written
    })
}

/// A batch of input for a converting thread: its place in the input, the row number of its
/// first record, and the records (or the error that ended the input there).
struct Job {
    seq: u64,
    first_row: u64,
    batch: Result<Batch>,
}

/// Convert the records of `source` on as many threads as there are `states` (one state each:
/// `convert` turns a batch whose first record is data row `first_row` into output with it), and
/// write the results to `writers` in input order, handing each to `merged` first. One thread
/// reads; this one puts the results back in order and writes them. A fixed number of batches
/// is in flight, so memory stays flat; the output is the same byte for byte whatever the number
/// of threads. The first error in input order is returned.
pub(crate) fn run_parallel<R, W, S, F, M>(
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
    F: Fn(&mut S, u64, &Batch, &mut Converted) -> Result<()> + Sync,
    M: FnMut(&Batch, &mut Converted) -> Result<()>,
{
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let workers = states.len().max(1);
    let in_flight = workers * 2 + DEPTH;
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(in_flight);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (spent_tx, spent_rx) = mpsc::channel::<Batch>();
        let (done_tx, done_rx) = mpsc::channel::<(u64, Result<Converted>, Batch)>();
        let stop = &stop;
        scope.spawn(move || {
            let (mut seq, mut row) = (0u64, 1u64);
            while !stop.load(Ordering::Relaxed) {
                let mut batch = spent_rx.try_recv().unwrap_or_default();
                let filled = source.fill(&mut batch).map(|()| batch);
                let (last, len) = match &filled {
                    Ok(b) => (b.is_empty(), b.len() as u64),
                    Err(_) => (true, 0),
                };
                let job = Job {
                    seq,
                    first_row: row,
                    batch: filled,
                };
                if job_tx.send(job).is_err() || last {
                    return;
                }
                seq += 1;
                row += len;
            }
        });
        let (convert, spare) = (&convert, Arc::new(Mutex::new(Vec::<Converted>::new())));
        for state in states.iter_mut() {
            let (job_rx, done_tx, spare) =
                (Arc::clone(&job_rx), done_tx.clone(), Arc::clone(&spare));
            scope.spawn(move || {
                loop {
                    let job = job_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(Job {
                        seq,
                        first_row,
                        batch,
                    }) = job
                    else {
                        return;
                    };
                    let (result, batch) = match batch {
                        Err(e) => (Err(e), Batch::default()),
                        Ok(batch) if stop.load(Ordering::Relaxed) => {
                            (Ok(Converted::default()), batch)
                        }
                        Ok(batch) => {
                            let mut out = spare
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .pop()
                                .unwrap_or_default();
                            let result = convert(state, first_row, &batch, &mut out).map(|()| out);
                            (result, batch)
                        }
                    };
                    if done_tx.send((seq, result, batch)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(job_rx);
        let mut waiting: BTreeMap<u64, (Result<Converted>, Batch)> = BTreeMap::new();
        let mut next = 0u64;
        let outcome = (|| -> Result<()> {
            for (seq, result, batch) in &done_rx {
                waiting.insert(seq, (result, batch));
                while let Some((result, batch)) = waiting.remove(&next) {
                    next += 1;
                    if batch.is_empty() && result.is_ok() {
                        // The end of the input.
                        return Ok(());
                    }
                    let mut converted = result?;
                    merged(&batch, &mut converted)?;
                    writers.write(&converted)?;
                    let _ = spent_tx.send(batch);
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
        drop(spent_tx);
        drop(done_rx);
        outcome.map(|()| writers)
    })
}

/// The thread count used when `--threads` is not given: the cores available.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
