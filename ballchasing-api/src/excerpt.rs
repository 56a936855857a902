//! Short, readable excerpts of server bodies for error messages: the JSON `error` field when
//! there is one, otherwise the text of the page without tags, styles or scripts, cut short.

/// The longest excerpt kept in an error, in bytes.
pub(crate) const SNIPPET_LEN: usize = 200;

/// The `error` field of a JSON body, else a short excerpt of whatever the body is.
pub(crate) fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => truncate(parsed.error.trim()),
        Err(_) if body.iter().all(u8::is_ascii_whitespace) => "(empty body)".to_owned(),
        Err(_) => snippet(body),
    }
}

/// A one-line excerpt of a body: HTML tags dropped with the contents of `<style>` and
/// `<script>`, whitespace folded, cut short.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * SNIPPET_LEN)]);
    let folded = strip_html(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if folded.is_empty() {
        "(empty body)".to_owned()
    } else {
        truncate(&folded)
    }
}

/// Drops tags (each becomes a space) and everything between `<style>`/`<script>` and their
/// closing tag. Text without tags is returned as it is.
fn strip_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4 * SNIPPET_LEN));
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tag = &rest[open + 1..];
        if !tag.starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?')) {
            // `a < b` is text, not a tag.
            out.push('<');
            rest = tag;
            continue;
        }
        let Some(close) = tag.find('>') else {
            // An unclosed `<` is text, not a tag.
            out.push_str(&rest[open..]);
            return out;
        };
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        rest = &tag[close + 1..];
        if name == "style" || name == "script" {
            let end = format!("</{name}");
            rest = match find_ascii_ci(rest, &end) {
                Some(at) => match rest[at..].find('>') {
                    Some(gt) => &rest[at + gt + 1..],
                    None => "",
                },
                // An unclosed script hides everything after it, as a browser would.
                None => "",
            };
        }
        out.push(' ');
        if out.len() > 16 * SNIPPET_LEN {
            return out;
        }
    }
    out.push_str(rest);
    out
}

/// The byte offset of `needle` (ASCII) in `haystack`, ignoring ASCII case.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    (0..h.len().saturating_sub(n.len()) + 1)
        .find(|&i| h.len() >= i + n.len() && h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Cuts `text` to [`SNIPPET_LEN`] bytes on a character boundary, marking the cut with `…`.
pub(crate) fn truncate(text: &str) -> String {
    if text.len() <= SNIPPET_LEN {
        return text.to_owned();
    }
    let mut end = SNIPPET_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_become_short_readable_messages() {
        let page = "<html>\n<head><title>504 Gateway Time-out</title></head>\n<body>\n<center><h1>504 Gateway Time-out</h1></center>\n<hr><center>nginx</center></body></html>";
        assert_eq!(
            error_message(page.as_bytes()),
            "504 Gateway Time-out 504 Gateway Time-out nginx"
        );
        let long = "x".repeat(5000);
        assert!(snippet(long.as_bytes()).chars().count() <= SNIPPET_LEN + 1);
        assert_eq!(error_message(b"  "), "(empty body)");
        assert_eq!(error_message(br#"{"error":" quota "}"#), "quota");
    }

    #[test]
    fn styles_and_scripts_are_dropped_with_their_contents() {
        let cases = [
            ("<style>a{b:c}</style>Hi", "Hi"),
            ("<STYLE type=x>a{}</STYLE >Hi <b>there</b>", "Hi there"),
            ("<script>if (a < b) {}</script>Down", "Down"),
            ("Up<script>never closed", "Up"),
            ("a < b and c > d", "a < b and c > d"),
            ("<p>x</p><scriptx>y</scriptx>", "x y"),
        ];
        for (page, expected) in cases {
            assert_eq!(snippet(page.as_bytes()), expected, "{page}");
        }
    }
}
