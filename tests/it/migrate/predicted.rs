//! What `status` predicts of the reference sync where the engine alone
//! can compare (NOCASE, expression and partial unique indexes), and the
//! values of columns pending migrations add.

use super::*;

/// Version 1 plus two UNIQUE indexes on verband that the sync cannot
/// compare by itself: names under NOCASE, and towns by `lower(ort)` among
/// German rows only (a partial index over an expression).
fn with_engine_indexes(d: &Path) {
    let sql = "CREATE UNIQUE INDEX ix_verband_name_ci ON verband (name COLLATE NOCASE);\n\
               CREATE UNIQUE INDEX ix_verband_ort_de ON verband (lower(ort)) WHERE land = 'Deutschland';\n";
    std::fs::write(d.join("migrations/0002_engine_indexes.sql"), sql).unwrap();
    let path = d.join("schema.sql");
    let mut schema = std::fs::read_to_string(&path).unwrap();
    schema.push_str(sql);
    std::fs::write(path, schema).unwrap();
}

/// A version 1 database with the app's work, migrated to
/// [`with_engine_indexes`].
fn with_engine_indexes_applied(dir: &Path) -> PathBuf {
    let path = v1_with_app_work(dir);
    let report = rt()
        .block_on(migrate_local(&path, &compile(with_engine_indexes)))
        .unwrap();
    assert_eq!(report.to, Some(2), "{report:?}");
    path
}

#[test]
fn clashes_on_partial_expression_and_nocase_unique_indexes_are_refused_beforehand() {
    // The seed's own rows are checked against its indexes when it is
    // compiled; a row of the app's that stays is not: a new seed row
    // named as it is in other letters' case, or in its German town, clashes
    // only as the engine compares.
    let joined = compile(|d| {
        with_engine_indexes(d);
        let path = d.join("verbaende.csv");
        let mut v = std::fs::read_to_string(&path).unwrap();
        v.push_str("Neuer Verband,NEUV,Deutschland,Leipzig\n");
        std::fs::write(path, v).unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let path = with_engine_indexes_applied(dir.path());
    let rt = rt();
    rt.block_on(common::execute(
        &path,
        "INSERT INTO verband (name, abkuerzung, land, ort) VALUES ('NEUER VERBAND', 'EIGEN', 'Deutschland', 'Halle');
         INSERT INTO verband (name, abkuerzung, land, ort) VALUES ('Eigener Kreis', 'EIGDE', 'Deutschland', 'LEIPZIG');
         INSERT INTO verband (name, abkuerzung, land, ort) VALUES ('Zuger Kreis', 'EIGCH', 'Schweiz', 'ZUG');
         UPDATE kind SET verband_id = (SELECT id FROM verband WHERE abkuerzung = 'EIGEN') WHERE id = (SELECT min(id) FROM kind);
         UPDATE kind SET verband_id = (SELECT id FROM verband WHERE abkuerzung = 'EIGDE') WHERE id = (SELECT max(id) FROM kind);
         UPDATE kind SET verband_id = (SELECT id FROM verband WHERE abkuerzung = 'EIGCH')
             WHERE id = (SELECT min(id) FROM kind WHERE id > (SELECT min(id) FROM kind))",
    ));
    let before = rt.block_on(common::dump(&path));
    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &joined).await.unwrap()
    });
    let e = rt.block_on(migrate_local(&path, &joined)).unwrap_err();
    assert!(matches!(e, seedbake::Error::Unmigratable { .. }), "{e}");
    let e = e.to_string();
    for expected in [
        "the seed's verband row \"NEUV\" would have the same name COLLATE NOCASE, which the row \"EIGEN\" has, and it stays \
         (the seed does not have it, but 1 kind row refers to it): the UNIQUE index ix_verband_name_ci allows one such row",
        "the seed's verband row \"NEUV\" would have the same lower(ort), which the row \"EIGDE\" has, and it stays \
         (the seed does not have it, but 1 kind row refers to it): the UNIQUE index ix_verband_ort_de allows one such row",
    ] {
        assert!(e.contains(expected), "{expected}\nnot in: {e}");
    }
    // Zug in Switzerland is outside the partial index: no clash.
    assert!(!e.contains("EIGCH"), "{e}");
    assert_eq!(rt.block_on(common::dump(&path)), before);
    assert!(!status.in_step, "{status:?}");
    assert_eq!(status.refusals.len(), 1, "{status:?}");
    assert!(e.contains(&status.refusals[0]), "{status:?}\n{e}");
}

#[test]
fn a_swap_under_a_partial_expression_index_is_staged_not_refused() {
    // BKFD and LKNW trade towns: each takes a value of ix_verband_ort_de
    // the other gives up, which only a row moved aside first allows.
    let swapped = compile(|d| {
        with_engine_indexes(d);
        replace(
            d,
            "verbaende.csv",
            "BKFD,Deutschland,Kassel",
            "BKFD,Deutschland,Dortmund",
        );
        replace(
            d,
            "verbaende.csv",
            "LKNW,Deutschland,Dortmund",
            "LKNW,Deutschland,kassel",
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let path = with_engine_indexes_applied(dir.path());
    let rt = rt();
    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &swapped).await.unwrap()
    });
    assert!(status.refusals.is_empty(), "{status:?}");
    let verband = status
        .reference
        .iter()
        .find(|t| t.table == "verband")
        .unwrap();
    assert_eq!(verband.updated.len(), 2, "{verband:?}");
    assert_eq!(verband.staged.len(), 2, "{verband:?}");
    let report = rt.block_on(migrate_local(&path, &swapped)).unwrap();
    assert!(report.changes, "{report:?}");
    assert_eq!(
        rt.block_on(rows(
            &path,
            "SELECT abkuerzung, ort FROM verband WHERE abkuerzung IN ('BKFD', 'LKNW') ORDER BY 1"
        )),
        [
            "Text(\"BKFD\") | Text(\"Dortmund\")",
            "Text(\"LKNW\") | Text(\"kassel\")"
        ]
    );
}

#[test]
fn status_shows_the_values_of_columns_the_pending_migrations_add() {
    // Version 2 adds figur.video, and gives F01 one: the sync sets it after
    // the migrations, so status counts F01 as changed, with the value.
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let v2 = v2();
    let status = rt().block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &v2).await.unwrap()
    });
    let figur = status
        .reference
        .iter()
        .find(|t| t.table == "figur")
        .unwrap();
    // F01 is keyed by its name and category.
    let f01 = figur
        .updated
        .iter()
        .find(|u| u.key == "\"Ballettbein\" / \"Ballettbein\"")
        .unwrap_or_else(|| panic!("F01 not among the changed rows: {figur:?}"));
    let video = f01
        .changes
        .iter()
        .find(|c| c.column == "video")
        .unwrap_or_else(|| panic!("no video in {f01:?}"));
    assert_eq!(video.database, Shown::Absent);
    assert_eq!(
        video.seed,
        Shown::Value(Value::Text("https://example.org/f01.mp4".into()))
    );
    let f27 = figur
        .inserted_rows
        .iter()
        .find(|r| r.key == "\"Delfin\" / \"Delfin\"")
        .unwrap_or_else(|| panic!("F27 not inserted: {figur:?}"));
    assert!(f27.values.iter().any(|v| v.column == "video"), "{f27:?}");
    // As JSON: a value the database does not have yet says so.
    let json = serde_json::to_value(&status).unwrap();
    assert!(
        json.to_string().contains(
            r#"{"column":"video","database":{"absent":true},"seed":"https://example.org/f01.mp4"}"#
        ),
        "{json}"
    );
}
