//! Claim files are untrusted input: their text must stay inert wherever it is shown. A cell is a
//! value, never a spreadsheet formula, a terminal escape sequence, or a bidi override that makes
//! `4272` behind a right-to-left override (U+202E) read as `2724` on the review page.
//!
//! - [`guard`] / [`unguard`]: the spreadsheet formula guard of every audit cell, exact both ways
//!   (a cell that starts with `'` on its own reads back as it was);
//! - [`for_terminal`]: control characters and escape sequences shown escaped on stderr;
//! - [`is_invisible`]: the format characters the review page shows by name instead of applying.

use std::borrow::Cow;

/// True when a spreadsheet would take `field` as something other than text: a formula (`=`,
/// `+`, `-`, `@` first), a control character first (NUL, TAB, CR, LF … before `=HYPERLINK(…)`;
/// some spreadsheets skip them), or a `'` that a reader would take for the guard.
pub fn needs_guard(field: &[u8]) -> bool {
    match field.first() {
        Some(b'=' | b'+' | b'-' | b'@') => true,
        Some(&b) if b < 0x20 || b == 0x7f => true,
        Some(b'\'') => needs_guard(&field[1..]),
        _ => false,
    }
}

/// `field` as written to an audit: with a `'` before it when [`needs_guard`].
pub fn guard(field: &[u8]) -> Cow<'_, [u8]> {
    if needs_guard(field) {
        let mut safe = Vec::with_capacity(field.len() + 1);
        safe.push(b'\'');
        safe.extend_from_slice(field);
        Cow::Owned(safe)
    } else {
        Cow::Borrowed(field)
    }
}

/// A field read back from an audit: the guard [`guard`] added is removed, nothing else, so that
/// `unguard(guard(x)) == x` for every `x` (a claim key `'77` stays `'77`).
pub fn unguard(field: &[u8]) -> &[u8] {
    match field {
        [b'\'', rest @ ..] if needs_guard(rest) => rest,
        _ => field,
    }
}

/// Characters that change how text around them is shown without being seen: bidi embeddings,
/// overrides and isolates, zero-width characters, the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `text` for a terminal: control characters (C0, DEL, C1, so every escape sequence) and
/// invisible format characters written as `\x1B` / `\u{202E}`, so that a claim file can neither
/// drive the terminal nor hide what a message says.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02X}", c as u32));
        } else if c.is_control() || is_invisible(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_behind_control_characters_are_guarded() {
        for field in [
            &b"=SUM(A1)"[..],
            b"+1",
            b"-2",
            b"@x",
            b"\0=HYPERLINK(\"x\")",
            b"\t=1",
            b"\r=1",
            b"\n=1",
            b"'=1",
        ] {
            assert!(needs_guard(field), "{field:?}");
            assert_eq!(guard(field)[0], b'\'');
        }
        for field in [&b"2731"[..], b"", b"'77", b"a=b", b"V10.51"] {
            assert_eq!(&*guard(field), field, "{field:?}");
        }
        assert_eq!(unguard(b"'77"), b"'77");
        assert_eq!(unguard(b"'=1"), b"=1");
        assert_eq!(unguard(b"''=1"), b"'=1");
    }

    #[test]
    fn terminal_text_shows_escapes() {
        assert_eq!(for_terminal("428.0"), "428.0");
        assert_eq!(for_terminal("\u{1b}[2Jx\u{7}"), "\\x1B[2Jx\\x07");
        assert_eq!(for_terminal("\u{202E}4272"), "\\u{202E}4272");
        assert_eq!(for_terminal("a\u{9B}b"), "a\\u{009B}b");
    }

    proptest! {
        #[test]
        fn guard_round_trips(field in proptest::collection::vec(any::<u8>(), 0..12)) {
            let guarded = guard(&field);
            prop_assert_eq!(unguard(&guarded), &field[..]);
            // What a spreadsheet sees first is the text marker or a harmless character.
            let first = guarded.first().copied();
            prop_assert!(
                first == Some(b'\'')
                    || first.is_none_or(|b| !b"=+-@".contains(&b) && b >= 0x20 && b != 0x7f)
            );
        }
    }
}
