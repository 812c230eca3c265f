//! Any bytes, read as a code of each system: an error or a code whose canonical and dotted
//! spellings (in either case, with blanks around) read back as the same code.
#![no_main]

use crosswalk::{Code, System};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for system in System::ALL {
        let Ok(code) = Code::parse(system, data) else {
            continue;
        };
        assert!(code.len() >= 2 && code.len() <= Code::MAX_LEN, "{code:?}");
        assert!(
            code.as_bytes()
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
            "{code:?}"
        );
        let dotted = code.dotted(system);
        for spelling in [
            code.as_str().to_string(),
            dotted.clone(),
            dotted.to_ascii_lowercase(),
            format!("  {dotted}\t"),
        ] {
            assert_eq!(
                Code::parse_str(system, &spelling),
                Ok(code),
                "{system:?} {spelling:?}"
            );
        }
        // The canonical form is what the input said, without blanks and dot, in upper case.
        let plain: Vec<u8> = data
            .trim_ascii()
            .iter()
            .filter(|&&b| b != b'.')
            .map(u8::to_ascii_uppercase)
            .collect();
        assert_eq!(code.as_bytes(), &plain[..]);
    }
});
