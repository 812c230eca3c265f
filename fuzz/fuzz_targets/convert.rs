//! Any bytes as a claim file (the first byte picks the options): every record comes out with
//! its fields plus the flags column, columns that hold no codes untouched, the flags column
//! empty exactly when no code needs review; the audit records it makes group into a review page.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use crosswalk::Crosswalk;
use crosswalk::audit::AuditRows;
use crosswalk::batch::Batch;
use crosswalk::columns::{ColumnOptions, Plan};
use crosswalk::convert::{Choose, Dots, Options, OwnedEvent, Rewriter, Unmapped};
use crosswalk::report::{Review, html};
use libfuzzer_sys::fuzz_target;

// Loaded once: the built-in tables are the same for every input.
static CROSSWALK: LazyLock<Crosswalk> = LazyLock::new(Crosswalk::builtin);

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let crosswalk = &*CROSSWALK;
    let headers = mode & 1 == 0;
    let columns = if mode & 2 == 0 {
        // Detected from the header's names.
        ColumnOptions::default()
    } else {
        ColumnOptions {
            dx: vec!["1-3".to_string()],
            proc: vec!["4".to_string(), "5".to_string()],
            ..ColumnOptions::default()
        }
    };
    let options = Options {
        choose: [
            Choose::First,
            Choose::Keep,
            Choose::Fail,
            Choose::FirstBillable,
        ][usize::from(mode >> 2) % 4],
        unmapped: if mode & 16 == 0 {
            Unmapped::Keep
        } else {
            Unmapped::Blank
        },
        dots: [Dots::AsInput, Dots::Dotted, Dots::Undotted][usize::from(mode >> 5) % 3],
        flags_column: true,
    };
    let delimiter = if mode & 128 == 0 { b',' } else { b'|' };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(data);
    let mut records = reader.byte_records();
    let header = if headers {
        match records.next() {
            Some(Ok(h)) => Some(h),
            _ => return,
        }
    } else {
        None
    };
    let rest: Vec<csv::ByteRecord> = records.map_while(Result::ok).collect();
    let width = header
        .as_ref()
        .map_or_else(|| rest.first().map_or(0, csv::ByteRecord::len), |h| h.len());
    let Ok(plan) = Plan::new(header.as_ref(), width, &columns) else {
        return;
    };
    let code_columns: Vec<usize> = plan.columns.iter().map(|c| c.index).collect();
    let keys = plan.keys.clone();
    let mut rewriter = Rewriter::new(crosswalk, plan, options, "fuzz.csv".to_string());
    let mut audit = AuditRows::new(crosswalk, &keys, "fuzz.csv");
    let mut output = csv::ByteRecord::new();
    for (i, input) in rest.iter().enumerate() {
        let row = i as u64 + 1;
        let mut events: Vec<OwnedEvent> = Vec::new();
        let mut sink = (&mut events, &mut audit);
        if let Err(e) = rewriter.rewrite(row, row + 1, input, &mut output, None, &mut sink) {
            assert!(options.choose == Choose::Fail, "{e}");
            assert!(e.to_string().starts_with("fuzz.csv:"), "{e}");
            return;
        }
        assert_eq!(output.len(), input.len() + 1);
        for (index, (a, b)) in input.iter().zip(output.iter()).enumerate() {
            if !code_columns.contains(&index) {
                assert_eq!(a, b, "column {index} holds no codes");
            }
        }
        let flagged = events.iter().any(|e| e.statuses.flagged());
        assert_eq!(output[input.len()].is_empty(), !flagged, "{events:?}");
    }
    let mut batch = Batch::default();
    audit.take(&mut batch);
    let path = Path::new("audit.csv");
    let mut review = Review::new(&AuditRows::header(&keys), path).expect("our own audit header");
    for (i, record) in batch.records().iter().enumerate() {
        review
            .add(record, path, i as u64 + 2)
            .expect("our own audit rows read back");
    }
    let about = html::About {
        source: "fuzz.csv".to_string(),
        audit_file: None,
        totals: None,
        max_groups: html::DEFAULT_MAX_GROUPS,
    };
    let page = html::render(&review, crosswalk, &about);
    assert!(page.ends_with("</html>\n"));
});
