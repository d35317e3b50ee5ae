//! The spec text before it is parsed: a whole spec wrapped in a ```markdown fence (as assistants and
//! generators emit it) is unwrapped, with line numbers kept.

use std::borrow::Cow;

/// `src` with the fence lines of a ```markdown (or ~~~md) wrapper blanked: the wrapper must open
/// before the first heading and, when it is closed, its close is the last fence line of the document.
/// Nested code blocks inside stay as they are.
pub(crate) fn unwrap_markdown_fence(src: &str) -> Cow<'_, str> {
    let lines: Vec<&str> = src.split_inclusive('\n').collect();
    let Some((open, fence)) = opening(&lines) else {
        return Cow::Borrowed(src);
    };
    // After the opening, fences with an info string open blocks that a bare fence closes; a bare
    // fence may also open one (closed by the next). An odd excess of bare fences is the wrapper's close.
    let (mut bare, mut with_info, mut last_bare) = (0usize, 0usize, None);
    for (i, l) in lines.iter().enumerate().skip(open + 1) {
        let t = l.trim();
        let Some(rest) = strip_fence(t, fence.0, fence.1) else {
            continue;
        };
        if rest.trim().is_empty() {
            bare += 1;
            last_bare = Some(i);
        } else {
            with_info += 1;
        }
    }
    let close = last_bare.filter(|_| bare >= with_info && (bare - with_info) % 2 == 1);
    let mut out = String::with_capacity(src.len());
    for (i, l) in lines.iter().enumerate() {
        if i == open || Some(i) == close {
            out.push_str(if l.ends_with("\r\n") { "\r\n" } else { "\n" });
        } else {
            out.push_str(l);
        }
    }
    Cow::Owned(out)
}

/// The wrapper's opening line and its fence (character, length), if the spec has one.
fn opening(lines: &[&str]) -> Option<(usize, (char, usize))> {
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        if t.starts_with('#') {
            return None; // a heading first: the spec is not wrapped
        }
        for c in ['`', '~'] {
            let n = t.chars().take_while(|x| *x == c).count();
            if n >= 3 {
                let info = t[n..].trim().to_lowercase();
                let lang = info.split_whitespace().next().unwrap_or("");
                return matches!(lang, "markdown" | "md").then_some((i, (c, n)));
            }
        }
    }
    None
}

/// The rest of a line that opens or closes a fence of `c` at least `n` long.
fn strip_fence(t: &str, c: char, n: usize) -> Option<&str> {
    let k = t.chars().take_while(|x| *x == c).count();
    (k >= n).then(|| &t[k..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_spec_is_unwrapped_keeping_lines_and_inner_blocks() {
        let src = "Here is the spec:\n\n```markdown\n## Backend Spec: X\n\n```python\nx = 1\n```\n\n```\nart\n```\n\nP99 < 1s.\n```\n";
        let out = unwrap_markdown_fence(src);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), src.lines().count());
        assert_eq!(lines[2], "");
        assert_eq!(lines[5], "```python");
        assert_eq!(lines[9], "```");
        assert_eq!(lines[13], "P99 < 1s.");
        assert_eq!(lines[14], "");
        // Never closed: only the opening goes.
        let open_only = "```markdown\n# X\n```yaml\na: 1\n```\n";
        assert_eq!(
            unwrap_markdown_fence(open_only),
            "\n# X\n```yaml\na: 1\n```\n"
        );
        // Not wrapped: a heading comes first, or the first fence is another language.
        let plain = "# X\n\n```markdown\nexample\n```\n";
        assert!(matches!(unwrap_markdown_fence(plain), Cow::Borrowed(_)));
        assert!(matches!(
            unwrap_markdown_fence("```yaml\na: 1\n```\n"),
            Cow::Borrowed(_)
        ));
    }
}
