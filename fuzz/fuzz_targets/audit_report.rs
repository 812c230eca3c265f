//! Any bytes as an audit file for `crosswalk report`: an error naming the file and line, or a
//! page.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use crosswalk::Crosswalk;
use crosswalk::report::{html, read_audit_from};
use libfuzzer_sys::fuzz_target;

// Loaded once: the built-in tables are the same for every input.
static CROSSWALK: LazyLock<Crosswalk> = LazyLock::new(Crosswalk::builtin);

fuzz_target!(|data: &[u8]| {
    let path = Path::new("audit.csv");
    let review = match read_audit_from(data, path) {
        Ok(review) => review,
        Err(e) => {
            assert!(e.to_string().starts_with("audit.csv:"), "{e}");
            return;
        }
    };
    let about = html::About {
        source: "audit.csv".to_string(),
        audit_file: Some("audit.csv".to_string()),
        totals: None,
        max_groups: 20,
    };
    let page = html::render(&review, &CROSSWALK, &about);
    assert!(page.ends_with("</html>\n"));
});
