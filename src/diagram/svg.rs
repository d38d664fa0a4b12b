//! A standalone SVG image, laid out by [`super::layout`]: a box per table
//! (its name and row count, then a row per column: key, name, type, NOT
//! NULL), an arrow per foreign key from its column's row to the row of the
//! column it references. Boxes are sized from the text in monospace
//! metrics, so no text needs measuring by a browser.

use super::layout::{Layout, Link, Node, layout};
use super::{Model, NOT_IN_BUILD, drift_lines, is_foreign, not_null, relations, rows_label};
use crate::schema::Table;

/// Width of one character of the 12px monospace font, with some room for
/// the wider of the usual ones.
const CHAR: f64 = 7.4;
const ROW: f64 = 18.0;
const HEADER: f64 = 26.0;
const PAD: f64 = 10.0;
/// Between a row's fields, in characters.
const FIELD_GAP: f64 = 2.0;
/// The title's baseline, and the first legend line's.
const TITLE_Y: f64 = 28.0;
const LEGEND_Y: f64 = 48.0;
const LEGEND_LINE: f64 = 16.0;
/// The most characters on a legend line.
const LEGEND_CHARS: usize = 150;
/// What marks the build's absence: a table's header, a column's name.
const DRIFT_COLOUR: &str = "#b34700";

const FONT: &str =
    "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";

/// The widths of a box's fields, in characters.
struct Fields {
    key: usize,
    name: usize,
    ty: usize,
    not_null: usize,
}

fn key_text(table: &Table, column: &crate::schema::Column) -> &'static str {
    match (column.pk > 0, is_foreign(table, &column.name)) {
        (true, true) => "PK FK",
        (true, false) => "PK",
        (false, true) => "FK",
        (false, false) => "",
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn fields(table: &Table) -> Fields {
    let widest = |f: &dyn Fn(&crate::schema::Column) -> usize| {
        table.columns.iter().map(f).max().unwrap_or(0)
    };
    Fields {
        key: widest(&|c| chars(key_text(table, c))),
        name: widest(&|c| chars(&c.name)),
        ty: widest(&|c| chars(&c.declared_type)),
        not_null: if table.columns.iter().any(|c| not_null(table, c)) {
            chars("NOT NULL")
        } else {
            0
        },
    }
}

/// The x offsets of the fields inside a box, and the box's width.
fn columns_x(f: &Fields, header_chars: usize) -> ([f64; 4], f64) {
    let gap = |w: usize| if w > 0 { w as f64 + FIELD_GAP } else { 0.0 };
    let key = PAD;
    let name = key + gap(f.key) * CHAR;
    let ty = name + gap(f.name) * CHAR;
    let nn = ty + gap(f.ty) * CHAR;
    let rows_width = nn + f.not_null as f64 * CHAR + PAD;
    let header_width = 2.0 * PAD + header_chars as f64 * CHAR;
    ([key, name, ty, nn], rows_width.max(header_width))
}

fn header(model: &Model, i: usize) -> (String, String) {
    let e = &model.tables[i];
    let mut rows = rows_label(e.rows);
    if e.drift.new_table {
        rows = format!("{rows}, {NOT_IN_BUILD}");
    }
    (e.table.name.clone(), rows)
}

/// The lines under the title: the notation, and what differs from the
/// build (wrapped).
fn legend(model: &Model) -> Vec<String> {
    let mut lines = vec![
        "PK primary key · FK foreign key · each arrow runs from a foreign key's column \
         to the column it references"
            .to_owned(),
    ];
    let drift = drift_lines(model);
    if drift.is_empty() {
        return lines;
    }
    let mut line = "Differs from the build (marked in orange):".to_owned();
    for (i, sentence) in drift.iter().enumerate() {
        let piece = format!(
            " {sentence}{}",
            if i + 1 == drift.len() { "." } else { ";" }
        );
        if chars(&line) + chars(&piece) > LEGEND_CHARS {
            lines.push(std::mem::take(&mut line));
        }
        line.push_str(&piece);
    }
    lines.push(line);
    lines
}

/// Where the boxes start: below the legend.
fn top(model: &Model) -> f64 {
    LEGEND_Y + legend(model).len() as f64 * LEGEND_LINE
}

/// The row a column's text sits in, as a height below the box's top.
fn row_y(table: &Table, column: &str) -> f64 {
    match table.columns.iter().position(|c| c.name == column) {
        Some(i) => HEADER + i as f64 * ROW + ROW / 2.0,
        None => HEADER / 2.0,
    }
}

/// The boxes' sizes and the edges, as the layout takes them.
fn plan(model: &Model) -> Layout {
    let nodes: Vec<Node> = (0..model.tables.len())
        .map(|i| {
            let table = &model.tables[i].table;
            let (name, rows) = header(model, i);
            let (_, width) = columns_x(&fields(table), chars(&name) + 3 + chars(&rows));
            Node {
                width: width.ceil(),
                height: HEADER + table.columns.len() as f64 * ROW + PAD / 2.0,
            }
        })
        .collect();
    let links: Vec<Link> = relations(model)
        .iter()
        .map(|r| Link {
            from: r.child,
            from_y: row_y(&model.tables[r.child].table, &r.columns[0]),
            to: r.parent,
            to_y: row_y(&model.tables[r.parent].table, &r.parent_columns[0]),
        })
        .collect();
    layout(&nodes, &links, top(model))
}

pub fn render(model: &Model) -> String {
    let l = plan(model);
    let mut out = String::new();
    out.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"{FONT}\" font-size=\"12\">\n",
        w = n(l.width),
        h = n(l.height)
    ));
    out.push_str(&format!("<title>{}</title>\n", xml(&model.title)));
    out.push_str(
        "<defs>\n\
         <marker id=\"to\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto\">\
         <path d=\"M0,1 L10,5 L0,9 z\" fill=\"#44607a\"/></marker>\n\
         <marker id=\"from\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\">\
         <circle cx=\"5\" cy=\"5\" r=\"4\" fill=\"#44607a\"/></marker>\n\
         </defs>\n",
    );
    out.push_str(&format!(
        "<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n",
        n(l.width),
        n(l.height)
    ));
    out.push_str(&format!(
        "<text x=\"24\" y=\"{}\" font-size=\"15\" font-weight=\"bold\" fill=\"#1d2b38\">{}</text>\n",
        n(TITLE_Y),
        xml(&model.title)
    ));
    for (i, line) in legend(model).iter().enumerate() {
        let fill = if i == 0 { "#50606e" } else { DRIFT_COLOUR };
        out.push_str(&format!(
            "<text x=\"24\" y=\"{}\" fill=\"{fill}\">{}</text>\n",
            n(LEGEND_Y + i as f64 * LEGEND_LINE),
            xml(line)
        ));
    }
    // Edges first, so that boxes are drawn over their ends' markers' tails.
    for path in &l.paths {
        let points: Vec<String> = path
            .iter()
            .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
            .collect();
        out.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#44607a\" stroke-width=\"1.4\" \
             marker-start=\"url(#from)\" marker-end=\"url(#to)\"/>\n",
            points.join(" ")
        ));
    }
    for (i, b) in l.boxes.iter().enumerate() {
        let entity = &model.tables[i];
        let table = &entity.table;
        let (name, rows) = header(model, i);
        let f = fields(table);
        let (header_fill, header_text) = if entity.drift.new_table {
            ("#fbe1c6", DRIFT_COLOUR)
        } else {
            ("#dde8f3", "#1d2b38")
        };
        let (xs, _) = columns_x(&f, 0);
        out.push_str(&format!(
            "<g transform=\"translate({},{})\">\n",
            n(b.x),
            n(b.y)
        ));
        out.push_str(&format!(
            "<rect width=\"{w}\" height=\"{h}\" rx=\"4\" fill=\"#ffffff\" stroke=\"#44607a\"/>\n\
             <path d=\"M0,{hd} V4 Q0,0 4,0 H{w4} Q{w},0 {w},4 V{hd} Z\" fill=\"{header_fill}\" stroke=\"#44607a\"/>\n",
            w = n(b.w),
            h = n(b.h),
            hd = n(HEADER),
            w4 = n(b.w - 4.0)
        ));
        out.push_str(&format!(
            "<text x=\"{}\" y=\"17\" font-weight=\"bold\" fill=\"{header_text}\">{}</text>\n\
             <text x=\"{}\" y=\"17\" text-anchor=\"end\" fill=\"{}\">{}</text>\n",
            n(PAD),
            xml(&name),
            n(b.w - PAD),
            if entity.drift.new_table {
                DRIFT_COLOUR
            } else {
                "#50606e"
            },
            xml(&rows)
        ));
        for (r, c) in table.columns.iter().enumerate() {
            let y = HEADER + r as f64 * ROW + ROW / 2.0 + 4.0;
            let key = key_text(table, c);
            let weight = if c.pk > 0 {
                " font-weight=\"bold\""
            } else {
                ""
            };
            if !key.is_empty() {
                out.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" fill=\"#8a5a00\">{key}</text>\n",
                    n(xs[0]),
                    n(y)
                ));
            }
            let fill = if !entity.drift.new_table && entity.drift.is_new(&c.name) {
                DRIFT_COLOUR
            } else {
                "#1d2b38"
            };
            out.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" fill=\"{fill}\"{weight}>{}</text>\n",
                n(xs[1]),
                n(y),
                xml(&c.name)
            ));
            if !c.declared_type.is_empty() {
                out.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" fill=\"#3c6e47\">{}</text>\n",
                    n(xs[2]),
                    n(y),
                    xml(&c.declared_type)
                ));
            }
            if not_null(table, c) {
                out.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" fill=\"#7a4a7a\">NOT NULL</text>\n",
                    n(xs[3]),
                    n(y)
                ));
            }
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

/// A coordinate, one decimal.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// Text for an XML text node or attribute.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::layout::flaws;
    use crate::diagram::tests::small;

    #[test]
    fn names_are_escaped_and_every_table_column_and_key_is_drawn() {
        let svg = render(&small());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("<title>test &lt;schema&gt; &amp; &quot;co&quot;</title>"));
        assert!(!svg.contains("<schema>"));
        for text in [
            "person",
            "course run",
            "enrolment",
            "course code",
            "DECIMAL(10, 2)",
        ] {
            assert!(svg.contains(&format!(">{text}<")), "{text}");
        }
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(svg.contains(">3 rows<") && svg.contains(">1 row<"));
        assert_eq!(svg, render(&small()), "the same model draws the same bytes");
    }

    #[test]
    fn the_small_model_is_legible() {
        let l = plan(&small());
        assert_eq!(flaws(&l), Vec::<String>::new());
        // The self-reference is a loop on the box's right side.
        let loop_path = &l.paths[0];
        let person = l.boxes[0];
        assert_eq!(loop_path[0].0, person.x + person.w);
        assert_eq!(loop_path[loop_path.len() - 1].0, person.x + person.w);
        assert!(loop_path.iter().all(|p| p.0 >= person.x + person.w));
    }

    #[test]
    fn a_database_that_drifted_is_marked_and_still_legible() {
        let model = crate::diagram::tests::drifted();
        let svg = render(&model);
        assert!(
            svg.contains(&format!("fill=\"{DRIFT_COLOUR}\">nickname<")),
            "{svg}"
        );
        assert!(svg.contains(">1 row, not in the build<"), "{svg}");
        assert!(
            svg.contains("the build&apos;s table room is missing here."),
            "{svg}"
        );
        assert_eq!(flaws(&plan(&model)), Vec::<String>::new());
        assert!(plan(&model).boxes.iter().all(|b| b.y >= top(&model)));
    }

    #[test]
    fn long_legends_wrap() {
        let mut model = crate::diagram::tests::drifted();
        model.missing_tables = (0..40).map(|i| format!("table_{i}")).collect();
        let lines = legend(&model);
        assert!(lines.len() > 3, "{lines:?}");
        assert!(lines.iter().all(|l| chars(l) <= LEGEND_CHARS + 60));
    }

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(xml("a<b>&'\"\u{1}"), "a&lt;b&gt;&amp;&apos;&quot;\u{fffd}");
    }

    /// The embedded schema (Aquarius'), read as `seedbake schema` reads
    /// it, laid out without a box overlapping another or an edge over one.
    #[test]
    fn the_embedded_schema_is_legible() {
        let model = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(crate::ops::diagram_of_build(
                crate::seed::get().default_profile(),
            ))
            .unwrap();
        assert!(model.tables.len() >= 2);
        let l = plan(&model);
        assert_eq!(l.paths.len(), relations(&model).len());
        assert!(!l.paths.is_empty());
        assert_eq!(flaws(&l), Vec::<String>::new());
    }
}
