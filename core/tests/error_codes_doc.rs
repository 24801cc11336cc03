//! `docs/ERRORS.md` lists every `ErrorCode`, once, in the order of the core's list,
//! with the meaning written there. When this test fails it prints the rows to paste.

use idb_sync_core::ErrorCode;

const DOC: &str = include_str!("../../docs/ERRORS.md");

/// The table rows of the doc: `| `code` | meaning |` lines, in order.
fn doc_rows() -> Vec<String> {
    DOC.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim().to_owned())
        .collect()
}

fn expected_rows() -> Vec<String> {
    ErrorCode::ALL
        .iter()
        .map(|c| format!("| `{}` | {} |", c.as_str(), c.meaning()))
        .collect()
}

#[test]
fn the_doc_table_is_the_list_of_codes() {
    let (doc, expected) = (doc_rows(), expected_rows());
    if doc != expected {
        for (i, (d, e)) in doc.iter().zip(&expected).enumerate() {
            if d != e {
                eprintln!("first difference at row {i}:\n  doc:      {d}\n  expected: {e}");
                break;
            }
        }
        eprintln!("docs/ERRORS.md rows, in order:\n{}", expected.join("\n"));
        panic!(
            "docs/ERRORS.md lists {} codes, ErrorCode {}: update the doc (rows printed above)",
            doc.len(),
            expected.len()
        );
    }
}

#[test]
fn every_code_has_a_meaning() {
    for code in ErrorCode::ALL {
        assert!(!code.meaning().is_empty(), "{code} has no meaning");
    }
}
