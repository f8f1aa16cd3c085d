//! How exported rows are written: CSV cells that a spreadsheet cannot mistake for formulas, and the two
//! formats an export may take.

use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, Invalid> {
        match s {
            "csv" => Ok(Format::Csv),
            "ndjson" => Ok(Format::Ndjson),
            other => Err(Invalid::new(format!("format: \"{other}\" is neither csv nor ndjson"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }
}

/// Appends one CSV cell (RFC 4180). A cell a spreadsheet would run as a formula — it begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return — is prefixed with `'`, so it is shown as text; customers write
/// transcripts, and an auditor opens the file.
pub fn push_cell(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    // Bytes, not chars: every byte looked for is ASCII, and a byte scan is several times faster over the
    // long transcript cells.
    let special = value.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    let quote = formula || special || value.starts_with(' ') || value.ends_with(' ');
    if !quote {
        out.push_str(value);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    // Runs between quotes are copied whole; each quote is doubled.
    let mut runs = value.split('"');
    if let Some(first) = runs.next() {
        out.push_str(first);
    }
    for run in runs {
        out.push_str("\"\"");
        out.push_str(run);
    }
    out.push('"');
}

/// Appends a whole CSV record, cells separated by commas, ended by CRLF.
pub fn push_record<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, cell);
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cells: &[&str]) -> String {
        let mut out = String::new();
        push_record(&mut out, cells.iter().copied());
        out
    }

    #[test]
    fn plain_cells_stay_plain() {
        assert_eq!(record(&["a", "129.90", ""]), "a,129.90,\r\n");
    }

    #[test]
    fn commas_quotes_and_newlines_are_quoted() {
        assert_eq!(record(&["a,b", "say \"hi\"", "two\nlines"]), "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
    }

    #[test]
    fn formulas_are_neutralised() {
        for f in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx"] {
            let out = record(&[f]);
            assert!(out.starts_with("\"'"), "{f:?} → {out:?}");
        }
        assert_eq!(record(&["=1+1"]), "\"'=1+1\"\r\n");
    }

    #[test]
    fn formats_are_named() {
        assert_eq!(Format::parse("csv"), Ok(Format::Csv));
        assert!(Format::parse("xlsx").is_err());
    }
}
