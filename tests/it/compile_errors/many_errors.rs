//! Every bad cell in one build: sorted by file and line, each field of a row,
//! no second error for a reference to a refused row, and a cap on how many.

use super::*;

#[test]
fn every_bad_cell_is_reported_in_one_build_sorted_by_file_and_line() {
    let e = fails(|d| {
        append(d, "verband.csv", "Zu lang,ABCDEF\n");
        replace(d, "kind.csv", "LKNW", "LKNV");
        replace(d, "kind.csv", "W,140,", "W,groß,");
    });
    let kinds: Vec<ErrorKind> = e.errors().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [ErrorKind::Type, ErrorKind::Reference, ErrorKind::Type],
        "{e}"
    );
    assert_eq!(
        all_errors(&e),
        [
            "seed-data/kind.csv:2: kind.groesse: \"groß\" is not an integer",
            "seed-data/kind.csv:3: kind.verband_id: no verband row has the key abkuerzung = \"LKNV\" \
             (keys are in seed-data/verband.csv); did you mean \"LKNW\"?",
            "seed-data/verband.csv:4: verband.abkuerzung: \"ABCDEF\" is 6 characters long, the column allows 5",
        ]
    );
    // The first is the error itself, as a single error would be.
    assert_eq!(e.origin.to_string(), "seed-data/kind.csv:2");
    assert_eq!(e.field.as_deref(), Some("kind.groesse"));
    assert_eq!(e.left_out(), 0);
    assert_eq!(e.to_string(), all_errors(&e).join("\n"));
}

#[test]
fn bad_cells_of_one_row_are_all_reported_by_field() {
    let e = fails(|d| {
        replace(
            d,
            "kind.csv",
            "Mia,2012-03-04,W,140,",
            "Mia,04.03.2012,W,groß,",
        )
    });
    let fields: Vec<&str> = e.errors().map(|e| e.field.as_deref().unwrap()).collect();
    assert_eq!(fields, ["kind.geburtsdatum", "kind.groesse"], "{e}");
    assert!(
        e.errors()
            .all(|e| e.origin.to_string() == "seed-data/kind.csv:2")
    );
}

#[test]
fn a_reference_to_a_refused_row_is_not_a_second_error() {
    // The row is refused for its own cell; the kind that names it finds it.
    let e = fails(|d| {
        append(d, "verband.csv", "Zu lang,ABCDEF\n");
        replace(d, "kind.csv", "LKNW", "ABCDEF");
    });
    assert_eq!(e.errors().count(), 1, "{e}");
    assert_error(
        &e,
        ErrorKind::Type,
        "seed-data/verband.csv:4: verband.abkuerzung: \"ABCDEF\" is 6 characters long",
    );
}

#[test]
fn errors_beyond_the_cap_are_counted() {
    let bad_rows = compiler::error::MAX_ERRORS + 12;
    let e = fails(|d| {
        let rows: String = (0..bad_rows)
            .map(|i| format!("Verband {i},ZULANG{i}\n"))
            .collect();
        append(d, "verband.csv", &rows);
    });
    assert_eq!(e.errors().count(), compiler::error::MAX_ERRORS);
    assert_eq!(e.left_out(), 12);
    // The first lines of the file are the ones kept.
    let lines: Vec<String> = e.errors().map(|e| e.origin.to_string()).collect();
    assert_eq!(lines[0], "seed-data/verband.csv:4");
    assert_eq!(
        lines[compiler::error::MAX_ERRORS - 1],
        format!("seed-data/verband.csv:{}", 3 + compiler::error::MAX_ERRORS)
    );
    assert!(e.to_string().ends_with("\nand 12 more"), "{e}");
}
