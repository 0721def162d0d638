//! Haskell's `show` of characters and strings, as PostgREST's messages
//! print them (parser details, quoted error descriptions): ASCII control
//! characters by name, non-ASCII by decimal code, `\&` where an escape
//! would otherwise run into the next character.

/// `show c` of a `Char`: `'x'`, `'\NUL'`, `'\233'`.
pub(crate) fn char(c: char) -> String {
    let mut out = String::from('\'');
    escape(c, '\'', None, &mut out);
    out.push('\'');
    out
}

/// `show s` of a `String`: `"x"`, `"\NUL"`, `"a\"b"`.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        escape(c, '"', chars.peek().copied(), &mut out);
    }
    out.push('"');
    out
}

const NAMES: [&str; 32] = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "a", "b", "t", "n", "v", "f", "r", "SO", "SI",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS",
    "RS", "US",
];

/// Appends `c` as it appears between `quote`s; `next` is the character
/// after it in a string.
fn escape(c: char, quote: char, next: Option<char>, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        _ if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\u{7f}' => out.push_str("\\DEL"),
        _ if c.is_ascii_control() => {
            out.push('\\');
            out.push_str(NAMES.get(c as usize).copied().unwrap_or_default());
            // `"\SO" ++ "H"` would read back as `"\SOH"`.
            if c == '\u{e}' && next == Some('H') {
                out.push_str("\\&");
            }
        }
        _ if !c.is_ascii() => {
            out.push('\\');
            out.push_str(&u32::from(c).to_string());
            // A digit after a decimal escape would extend it.
            if next.is_some_and(|n| n.is_ascii_digit()) {
                out.push_str("\\&");
            }
        }
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_and_strings_as_haskell_shows_them() {
        assert_eq!(char('x'), "'x'");
        assert_eq!(char('\''), "'\\''");
        assert_eq!(char('"'), "'\"'");
        assert_eq!(char('\0'), "'\\NUL'");
        assert_eq!(char('\u{7f}'), "'\\DEL'");
        assert_eq!(char('é'), "'\\233'");
        assert_eq!(
            string("JWT couldn't be decoded"),
            "\"JWT couldn't be decoded\""
        );
        assert_eq!(string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(string("\t\n\u{1}"), "\"\\t\\n\\SOH\"");
        assert_eq!(string("\u{e}H"), "\"\\SO\\&H\"");
        assert_eq!(string("é1"), "\"\\233\\&1\"");
    }
}
