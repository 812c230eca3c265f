//! A progress bar on stderr, in bytes read, shown only for files when stderr is a terminal.

use indicatif::{ProgressBar, ProgressStyle};

pub fn bar(total_bytes: u64) -> ProgressBar {
    let bar = ProgressBar::new(total_bytes);
    bar.set_style(
        ProgressStyle::with_template(
            "crosswalk: {bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .expect("a valid progress template"),
    );
    bar
}
