//! Java properties syntax (`java.util.Properties.load`), the format of Kafka's
//! `server.properties` and of the data dir's `meta.properties`. Small and hand-written: the
//! rules below are Java's, each one has a test.
//!
//! - A *natural line* ends at `\n`, `\r` or `\r\n`. A *logical line* is a natural line plus
//!   its continuations: a line ending in an odd number of backslashes continues on the next
//!   natural line, whose leading whitespace is dropped.
//! - Blank lines and comment lines (first non-whitespace character `#` or `!`) are skipped. A
//!   comment is one natural line: a backslash at its end does not continue it.
//! - Whitespace is space, tab and form feed. Leading whitespace of a line is dropped.
//! - The key runs up to the first unescaped `=`, `:` or whitespace. Then whitespace, at most
//!   one `=` or `:`, and whitespace again are skipped; the rest of the line is the value,
//!   trailing whitespace included (as in Java: callers that want it trimmed trim it).
//! - Escapes in keys and values: `\t \n \r \f`, `\uXXXX` (four hex digits), and a backslash
//!   before any other character stands for that character (`\\`, `\=`, `\:`, `\ `, `\#`).
//!   A malformed `\u` escape is an error, as in Java.
//! - A key given twice keeps its last value (Java's `put` semantics).
//!
//! Unlike `Properties.load(InputStream)`, which reads ISO-8859-1, the text is UTF-8 (`\u`
//! escapes still reach any character).

/// Longest logical line accepted: a config line longer than this is a broken file, not a
/// setting (Kafka's longest values, e.g. a JAAS config, are a few KiB).
pub const LOGICAL_LINE_BYTES_MAX: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct PropertiesError {
    /// 1-based natural line where the logical line with the problem starts.
    pub line: usize,
    pub reason: String,
}

/// The `key=value` pairs of `text` in file order, each key once (its last value, at the
/// position of its first occurrence).
pub fn parse(text: &str) -> Result<Vec<(String, String)>, PropertiesError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (line, logical) in logical_lines(text)? {
        let (key, value) =
            split_key_value(&logical).map_err(|reason| PropertiesError { line, reason })?;
        match pairs.iter_mut().find(|(known, _)| *known == key) {
            Some(pair) => pair.1 = value,
            None => pairs.push((key, value)),
        }
    }
    Ok(pairs)
}

/// `key=value` lines for `pairs`, escaped so that [`parse`] gives them back.
pub fn format(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        out.push_str(&escape(key, true));
        out.push('=');
        out.push_str(&escape(value, false));
        out.push('\n');
    }
    out
}

fn is_whitespace(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{000C}'
}

/// Natural lines of `text`, split at `\n`, `\r\n` or a lone `\r` (old Mac files).
fn natural_lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\n' => {
                lines.push(&text[start..at]);
                start = at + 1;
            }
            b'\r' => {
                lines.push(&text[start..at]);
                if bytes.get(at + 1) == Some(&b'\n') {
                    at += 1;
                }
                start = at + 1;
            }
            _ => {}
        }
        at += 1;
    }
    lines.push(&text[start..]);
    lines
}

/// Logical lines (still escaped, continuations joined) with the natural line each starts on;
/// blank and comment lines are left out.
fn logical_lines(text: &str) -> Result<Vec<(usize, String)>, PropertiesError> {
    let natural = natural_lines(text);
    let mut logical_lines = Vec::new();
    let mut next = 0;
    while next < natural.len() {
        let line_number = next + 1;
        let mut piece = natural[next].trim_start_matches(is_whitespace);
        next += 1;
        if piece.is_empty() || piece.starts_with('#') || piece.starts_with('!') {
            continue;
        }
        let mut logical = String::new();
        loop {
            let backslashes = piece.chars().rev().take_while(|c| *c == '\\').count();
            let continued = backslashes % 2 == 1;
            logical.push_str(if continued {
                &piece[..piece.len() - 1]
            } else {
                piece
            });
            if logical.len() > LOGICAL_LINE_BYTES_MAX {
                return Err(PropertiesError {
                    line: line_number,
                    reason: format!("line longer than {LOGICAL_LINE_BYTES_MAX} bytes"),
                });
            }
            // A continuation on the last line continues into nothing.
            if !continued || next >= natural.len() {
                break;
            }
            piece = natural[next].trim_start_matches(is_whitespace);
            next += 1;
        }
        logical_lines.push((line_number, logical));
    }
    Ok(logical_lines)
}

/// Splits one logical line (leading whitespace already dropped) into unescaped key and value.
fn split_key_value(line: &str) -> Result<(String, String), String> {
    let mut key_end = line.len();
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || is_whitespace(c) {
            key_end = at;
            break;
        }
    }
    let key = &line[..key_end];
    let mut rest = line[key_end..].trim_start_matches(is_whitespace);
    if let Some(after) = rest.strip_prefix(['=', ':']) {
        rest = after.trim_start_matches(is_whitespace);
    }
    Ok((unescape(key)?, unescape(rest)?))
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{000C}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("malformed \\uXXXX escape: \\u{hex}"))?;
                // A surrogate half alone is not a character; pairs are not joined (config
                // files have no business spelling emoji as UTF-16).
                let c = char::from_u32(code)
                    .ok_or_else(|| format!("\\u{hex} is not a character (surrogate half)"))?;
                out.push(c);
            }
            Some(other) => out.push(other),
            // A trailing lone backslash was a line continuation, removed before.
            None => {}
        }
    }
    Ok(out)
}

fn escape(text: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{000C}' => out.push_str("\\f"),
            '=' | ':' if is_key => {
                out.push('\\');
                out.push(c);
            }
            ' ' if is_key || at == 0 => out.push_str("\\ "),
            '#' | '!' if at == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
// A failed unwrap is a failed test, with the value in the message.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap()
    }

    fn one(text: &str) -> (String, String) {
        let mut all = pairs(text);
        assert_eq!(all.len(), 1, "{text:?} gave {all:?}");
        all.remove(0)
    }

    fn kv(key: &str, value: &str) -> (String, String) {
        (key.to_string(), value.to_string())
    }

    #[test]
    fn separators_are_equals_colon_or_whitespace() {
        assert_eq!(one("a=b"), kv("a", "b"));
        assert_eq!(one("a:b"), kv("a", "b"));
        assert_eq!(one("a b"), kv("a", "b"));
        assert_eq!(one("a \t = \t b"), kv("a", "b"));
        assert_eq!(one("a : b"), kv("a", "b"));
        // Only the first separator counts: the second `=` belongs to the value.
        assert_eq!(one("a==b"), kv("a", "=b"));
        assert_eq!(one("a = = b"), kv("a", "= b"));
        assert_eq!(one("a"), kv("a", ""));
        assert_eq!(one("a="), kv("a", ""));
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let text = "# hash comment\n! bang comment\n   # indented comment\n\n  \t\na=1\n";
        assert_eq!(pairs(text), vec![kv("a", "1")]);
        // `#` inside a value is not a comment.
        assert_eq!(one("a=b # not a comment"), kv("a", "b # not a comment"));
    }

    #[test]
    fn leading_whitespace_is_dropped_trailing_whitespace_is_kept() {
        assert_eq!(one("   key=value  \t"), kv("key", "value  \t"));
    }

    #[test]
    fn backslash_continues_a_line_and_drops_the_next_lines_indent() {
        let text = "fruits = apple, \\\n    banana, \\\n\tpear\nnext=1";
        assert_eq!(
            pairs(text),
            vec![kv("fruits", "apple, banana, pear"), kv("next", "1")]
        );
        // An even number of backslashes is an escaped backslash, not a continuation.
        assert_eq!(pairs("a=b\\\\\nc=d"), vec![kv("a", "b\\"), kv("c", "d")]);
        // A continuation on the last line continues into nothing.
        assert_eq!(one("a=b\\"), kv("a", "b"));
    }

    #[test]
    fn a_comment_does_not_continue() {
        assert_eq!(pairs("# comment \\\na=1"), vec![kv("a", "1")]);
    }

    #[test]
    fn line_endings_are_lf_crlf_or_cr() {
        assert_eq!(
            pairs("a=1\r\nb=2\rc=3\nd=4"),
            vec![kv("a", "1"), kv("b", "2"), kv("c", "3"), kv("d", "4")]
        );
        assert_eq!(one("a=x\\\r\n  y"), kv("a", "xy"));
    }

    #[test]
    fn escapes_are_unescaped_in_keys_and_values() {
        assert_eq!(one("a=tab\\there"), kv("a", "tab\there"));
        assert_eq!(one("a=x\\ny"), kv("a", "x\ny"));
        assert_eq!(one("a=back\\\\slash"), kv("a", "back\\slash"));
        assert_eq!(one("a=\\u00e9t\\u00C9"), kv("a", "étÉ"));
        assert_eq!(one("a=\\q"), kv("a", "q"));
        assert_eq!(
            one("key\\=with\\:seps\\ and\\ space=v"),
            kv("key=with:seps and space", "v")
        );
        assert_eq!(one("a=\\ leading"), kv("a", " leading"));
    }

    #[test]
    fn a_malformed_unicode_escape_names_its_line() {
        let err = parse("ok=1\nbad=\\u12").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.reason.contains("\\u"), "{err}");
        assert!(parse("bad=\\uZZZZ").is_err());
        assert!(parse("bad=\\uD800").is_err());
    }

    #[test]
    fn the_last_value_of_a_repeated_key_wins() {
        assert_eq!(pairs("a=1\nb=2\na=3"), vec![kv("a", "3"), kv("b", "2")]);
    }

    #[test]
    fn format_then_parse_gives_the_pairs_back() {
        let original = [
            ("plain.key", "value"),
            ("key with=odd:chars", " leading space, trailing \t"),
            ("#hash", "!bang\nnewline\\backslash é"),
            ("empty", ""),
        ];
        let parsed = pairs(&format(&original));
        let expected: Vec<(String, String)> = original.iter().map(|(k, v)| kv(k, v)).collect();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn an_overlong_line_is_refused() {
        let text = format!("a={}", "x".repeat(LOGICAL_LINE_BYTES_MAX + 1));
        assert!(parse(&text).is_err());
    }
}
