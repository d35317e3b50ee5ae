//! Walks pulldown-cmark events into blocks (headings, prose, list items, tables, code) with 1-based lines.
//!
//! Claim readers never see Markdown syntax: emphasis and links are reduced to their text, every block
//! knows the headings it sits under, and every piece of text can say which source line it came from.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// Text with the source line of every stretch of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Text {
    pub s: String,
    /// (byte offset in `s`, source line) at the start of every piece of source text.
    marks: Vec<(usize, usize)>,
}

impl Text {
    /// Text that all comes from one line (a table row read as prose).
    pub fn single(s: String, line: usize) -> Self {
        Text {
            s,
            marks: vec![(0, line)],
        }
    }

    fn push(&mut self, piece: &str, line: usize) {
        self.marks.push((self.s.len(), line));
        self.s.push_str(piece);
    }

    fn push_space(&mut self) {
        if !self.s.ends_with(' ') && !self.s.is_empty() {
            self.s.push(' ');
        }
    }

    /// The source line of the byte at `pos` in `s`.
    pub fn line_at(&self, pos: usize) -> usize {
        let idx = self.marks.partition_point(|(p, _)| *p <= pos);
        self.marks.get(idx.saturating_sub(1)).map_or(0, |(_, l)| *l)
    }

    pub fn first_line(&self) -> usize {
        self.marks.first().map_or(0, |(_, l)| *l)
    }
}

/// One row of a table: its cells (emphasis removed, trimmed) and its source line.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub cells: Vec<String>,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Heading {
        level: u8,
    },
    Paragraph,
    Item,
    Table {
        header: Row,
        rows: Vec<Row>,
    },
    /// A code block: its info string and its lines, each with its source line.
    Code {
        lang: String,
        lines: Vec<(usize, String)>,
    },
}

/// A heading the block sits under: its text (numbering and emoji removed) and line.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub level: u8,
    pub title: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub kind: Kind,
    /// The text of a heading, paragraph or list item (empty for tables and code).
    pub text: Text,
    pub line: usize,
    /// Headings above this block, outermost first (for a heading: the headings above it).
    pub sections: Vec<Section>,
}

impl Block {
    /// True when this block, or a heading above it, mentions all of `words` (lower case).
    pub fn under(&self, words: &[&str]) -> bool {
        self.sections.iter().any(|s| has_words(&s.title, words))
    }

    /// The nearest heading above the block.
    pub fn heading(&self) -> Option<&Section> {
        self.sections.last()
    }
}

/// True when `text` contains every word in `words` (case-insensitive, prefix match per word so
/// "limit" matches "limiting").
pub(crate) fn has_words(text: &str, words: &[&str]) -> bool {
    let ws = super::names::words(text);
    words.iter().all(|w| ws.iter().any(|x| x.starts_with(w)))
}

/// Byte offset -> 1-based line.
struct Lines(Vec<usize>);

impl Lines {
    fn new(src: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines(starts)
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|s| *s <= offset).max(1)
    }
}

/// What is being collected right now.
enum Open {
    Text {
        kind: Kind,
        text: Text,
        line: usize,
    },
    Table {
        header: Row,
        rows: Vec<Row>,
        line: usize,
        row: Row,
        cell: Option<Text>,
        in_head: bool,
    },
}

/// Reads `src` into blocks in document order.
pub(crate) fn blocks(src: &str) -> Vec<Block> {
    let lines = Lines::new(src);
    let mut w = Walker {
        lines,
        out: Vec::new(),
        open: Vec::new(),
        sections: Vec::new(),
        code: None,
        html: None,
    };
    // Front matter (`---` YAML) is metadata, not a setext heading that would rename the service.
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    for (event, range) in Parser::new_ext(src, opts).into_offset_iter() {
        w.event(event, range);
    }
    w.out
}

struct Walker {
    lines: Lines,
    out: Vec<Block>,
    open: Vec<Open>,
    sections: Vec<Section>,
    /// The open code block: info string, content so far, line of its first content.
    code: Option<(String, String, Option<usize>)>,
    /// An HTML `<table>` being collected (it may span several HTML events), and its first line.
    html: Option<(Text, usize)>,
}

impl Walker {
    fn event(&mut self, event: Event, range: Range<usize>) {
        let line = self.lines.line(range.start);
        match event {
            Event::Start(tag) => self.start(tag, line),
            Event::End(tag) => self.end(tag),
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                self.text(&t, line)
            }
            Event::SoftBreak | Event::HardBreak => self.space(),
            Event::Html(t) => self.html(&t, line),
            Event::InlineHtml(_) => self.space(),
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag, line: usize) {
        match tag {
            Tag::Heading { level, .. } => {
                self.open_text(Kind::Heading { level: level as u8 }, line)
            }
            // A paragraph inside a list item is the item's text.
            Tag::Paragraph
                if !matches!(
                    self.open.last(),
                    Some(Open::Text {
                        kind: Kind::Item,
                        ..
                    })
                ) =>
            {
                self.open_text(Kind::Paragraph, line)
            }
            Tag::Paragraph => self.space(),
            Tag::Item => self.open_text(Kind::Item, line),
            Tag::Table(_) => self.open.push(Open::Table {
                header: Row {
                    cells: Vec::new(),
                    line,
                },
                rows: Vec::new(),
                line,
                row: Row::default(),
                cell: None,
                in_head: false,
            }),
            Tag::TableHead | Tag::TableRow => {
                self.table_row_start(line, matches!(tag, Tag::TableHead))
            }
            Tag::TableCell => {
                if let Some(Open::Table { cell, .. }) = self.open.last_mut() {
                    *cell = Some(Text::default());
                }
            }
            Tag::CodeBlock(kind) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new(), None));
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(level) => self.close_text(Some(level as u8)),
            TagEnd::Paragraph => {
                if matches!(
                    self.open.last(),
                    Some(Open::Text {
                        kind: Kind::Paragraph,
                        ..
                    })
                ) {
                    self.close_text(None)
                }
            }
            TagEnd::Item => self.close_text(None),
            TagEnd::TableCell => {
                if let Some(Open::Table { row, cell, .. }) = self.open.last_mut() {
                    let text = cell.take().unwrap_or_default();
                    row.cells.push(text.s.trim().to_string());
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => self.table_row_end(),
            TagEnd::Table => self.close_table(),
            TagEnd::CodeBlock => {
                if let Some((lang, content, Some(first))) = self.code.take() {
                    let lines = content
                        .lines()
                        .enumerate()
                        .map(|(k, l)| (first + k, l.to_string()))
                        .collect();
                    self.push_block(Kind::Code { lang, lines }, Text::default(), first);
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, t: &str, line: usize) {
        if let Some((_, content, first)) = &mut self.code {
            first.get_or_insert(line);
            content.push_str(t);
            return;
        }
        match self.open.last_mut() {
            Some(Open::Text { text, .. }) => text.push(t, line),
            Some(Open::Table {
                cell: Some(cell), ..
            }) => cell.push(t, line),
            _ => {}
        }
    }

    /// HTML blocks: a `<table>` is collected until `</table>` and read like a Markdown table.
    fn html(&mut self, t: &str, line: usize) {
        if self.html.is_none() && !t.to_ascii_lowercase().contains("<table") {
            self.space();
            return;
        }
        let (text, _) = self.html.get_or_insert_with(|| (Text::default(), line));
        for (k, piece) in t.split_inclusive('\n').enumerate() {
            text.push(piece, line + k);
        }
        if text.s.to_ascii_lowercase().contains("</table") {
            if let Some((text, first)) = self.html.take() {
                if let Some((header, rows)) = super::html_tables::parse(&text) {
                    self.push_block(Kind::Table { header, rows }, Text::default(), first);
                }
            }
        }
    }

    fn space(&mut self) {
        match self.open.last_mut() {
            Some(Open::Text { text, .. }) => text.push_space(),
            Some(Open::Table {
                cell: Some(cell), ..
            }) => cell.push_space(),
            _ => {}
        }
    }

    fn open_text(&mut self, kind: Kind, line: usize) {
        self.open.push(Open::Text {
            kind,
            text: Text::default(),
            line,
        });
    }

    fn close_text(&mut self, heading_level: Option<u8>) {
        let Some(Open::Text {
            kind,
            mut text,
            line,
        }) = self.open.pop()
        else {
            return;
        };
        text.s = text.s.trim_end().to_string();
        if let Some(level) = heading_level {
            let title = super::names::clean_heading(&text.s);
            self.push_block(kind, text, line);
            self.sections.retain(|s| s.level < level);
            self.sections.push(Section { level, title, line });
        } else {
            self.push_block(kind, text, line);
        }
    }

    fn table_row_start(&mut self, line: usize, head: bool) {
        if let Some(Open::Table { row, in_head, .. }) = self.open.last_mut() {
            *row = Row {
                cells: Vec::new(),
                line,
            };
            *in_head = head;
        }
    }

    fn table_row_end(&mut self) {
        if let Some(Open::Table {
            header,
            rows,
            row,
            in_head,
            ..
        }) = self.open.last_mut()
        {
            let done = std::mem::take(row);
            if *in_head {
                *header = done;
            } else {
                rows.push(done);
            }
        }
    }

    fn close_table(&mut self) {
        if let Some(Open::Table {
            header, rows, line, ..
        }) = self.open.pop()
        {
            self.push_block(Kind::Table { header, rows }, Text::default(), line);
        }
    }

    fn push_block(&mut self, kind: Kind, text: Text, line: usize) {
        let sections = self.sections.clone();
        self.out.push(Block {
            kind,
            text,
            line,
            sections,
        });
    }
}
