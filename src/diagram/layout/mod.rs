//! Where the SVG's boxes and edges go: a layered layout in which no two
//! boxes overlap and no edge crosses a box.
//!
//! Boxes stand in columns, parents left of their children (a table's layer
//! is the length of the longest foreign-key path above it). A column never
//! holds more than an even share of the total height; a taller layer is
//! split over several columns, and tables with no key either way fill the
//! shortest columns. Between two columns, and after the last, lies a
//! channel holding no box: edges run vertically only there, each in a lane
//! of its own. An edge crossing a column does so through a slot reserved
//! for it among that column's boxes (the classic dummy node), so every
//! segment of every edge lies in a channel, a reserved slot, or beside its
//! own box, never over a box.

mod columns;

use columns::{columns, order};

/// A box to place: its size, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub width: f64,
    pub height: f64,
}

/// An edge from a row of one box (`from_y` below its top) to a row of
/// another, or of the same.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub from: usize,
    pub from_y: f64,
    pub to: usize,
    pub to_y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

#[derive(Debug, Clone)]
pub struct Layout {
    /// One per node, in the nodes' order.
    pub boxes: Vec<Rect>,
    /// One per link: the points of an orthogonal polyline from the `from`
    /// box's side to the `to` box's side.
    pub paths: Vec<Vec<(f64, f64)>>,
    pub width: f64,
    pub height: f64,
}

const MARGIN: f64 = 24.0;
/// Between two boxes of a column.
const BOX_GAP: f64 = 28.0;
/// Around a slot an edge crosses a column through.
const SLOT_GAP: f64 = 12.0;
/// A channel's room on either side of its lanes.
const CHANNEL_PAD: f64 = 22.0;
const LANE_GAP: f64 = 10.0;

/// What stands in a column: a box, or the slot of an edge crossing it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    Box(usize),
    Slot(usize),
}

/// Places the nodes below `top` (room for a title) and routes the links.
pub fn layout(nodes: &[Node], links: &[Link], top: f64) -> Layout {
    let columns_of = columns(nodes, links);
    let column_of_node = {
        let mut c = vec![0; nodes.len()];
        for (k, col) in columns_of.iter().enumerate() {
            for &n in col {
                c[n] = k;
            }
        }
        c
    };

    // Each column's items: its boxes, then a slot per edge crossing it.
    let mut items: Vec<Vec<Item>> = columns_of
        .iter()
        .map(|col| col.iter().map(|&n| Item::Box(n)).collect())
        .collect();
    // Per link, the columns it crosses (exclusive of its ends').
    let mut crossed: Vec<Vec<usize>> = Vec::with_capacity(links.len());
    for (l, link) in links.iter().enumerate() {
        let (a, b) = (column_of_node[link.from], column_of_node[link.to]);
        let (lo, hi) = (a.min(b), a.max(b));
        let between: Vec<usize> = (lo + 1..hi).collect();
        for &k in &between {
            items[k].push(Item::Slot(l));
        }
        crossed.push(between);
    }
    order(&mut items, links, &column_of_node);

    // Vertical positions: each column's items stacked from the top.
    let mut box_y = vec![0.0; nodes.len()];
    let mut slot_y: Vec<Vec<(usize, f64)>> = vec![Vec::new(); links.len()];
    let mut height: f64 = top;
    for (k, column) in items.iter().enumerate() {
        let mut y = top;
        let mut previous: Option<Item> = None;
        for &item in column {
            let gap = match (previous, item) {
                (None, _) => 0.0,
                (Some(Item::Box(_)), Item::Box(_)) => BOX_GAP,
                _ => SLOT_GAP,
            };
            y += gap;
            match item {
                Item::Box(n) => {
                    box_y[n] = y;
                    y += nodes[n].height;
                }
                Item::Slot(l) => {
                    // A slot at the top of a column still needs room above.
                    if previous.is_none() {
                        y += SLOT_GAP;
                    }
                    slot_y[l].push((k, y));
                }
            }
            previous = Some(item);
        }
        if matches!(previous, Some(Item::Slot(_))) {
            y += SLOT_GAP;
        }
        height = height.max(y);
    }

    // Each link's vertical runs, channel by channel (channel k lies right
    // of column k): from the height it enters at to the one it leaves at.
    let ys = |l: usize, k: usize| -> f64 {
        slot_y[l]
            .iter()
            .find(|(c, _)| *c == k)
            .map(|(_, y)| *y)
            .expect("a slot in every crossed column")
    };
    let mut runs: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); columns_of.len()];
    // Per link: its runs' channels and heights, left to right.
    let mut link_runs: Vec<Vec<(usize, f64, f64)>> = Vec::with_capacity(links.len());
    for (l, link) in links.iter().enumerate() {
        let (a, b) = (column_of_node[link.from], column_of_node[link.to]);
        let start = box_y[link.from] + link.from_y;
        let end = box_y[link.to] + link.to_y;
        let mut mine = Vec::new();
        if a == b {
            mine.push((a, start, end));
        } else {
            let (left_y, right_y) = if a < b { (start, end) } else { (end, start) };
            let mut y = left_y;
            for k in a.min(b)..a.max(b) {
                let next = if k + 1 == a.max(b) {
                    right_y
                } else {
                    ys(l, k + 1)
                };
                mine.push((k, y, next));
                y = next;
            }
        }
        for &(k, y1, y2) in &mine {
            runs[k].push((l, y1, y2));
        }
        link_runs.push(mine);
    }
    let lanes: Vec<Vec<(usize, usize)>> = runs.iter().map(|r| assign_lanes(r)).collect();
    let lane_count = |k: usize| lanes[k].iter().map(|(_, lane)| lane + 1).max().unwrap_or(0);

    // Horizontal positions: columns as wide as their widest box, channels
    // as wide as their lanes need.
    let mut column_x = Vec::with_capacity(columns_of.len());
    let mut channel_x = Vec::with_capacity(columns_of.len());
    let mut x = MARGIN;
    for (k, col) in columns_of.iter().enumerate() {
        column_x.push(x);
        x += col.iter().map(|&n| nodes[n].width).fold(0.0, f64::max);
        channel_x.push(x);
        let lanes = lane_count(k);
        x += if lanes == 0 && k + 1 == columns_of.len() {
            0.0
        } else {
            2.0 * CHANNEL_PAD + lanes.saturating_sub(1) as f64 * LANE_GAP
        };
    }
    let width = x + MARGIN;
    let boxes: Vec<Rect> = (0..nodes.len())
        .map(|n| Rect {
            x: column_x[column_of_node[n]],
            y: box_y[n],
            w: nodes[n].width,
            h: nodes[n].height,
        })
        .collect();
    let lane_x = |k: usize, l: usize| -> f64 {
        let lane = lanes[k]
            .iter()
            .find(|(link, _)| *link == l)
            .map_or(0, |(_, lane)| *lane);
        channel_x[k] + CHANNEL_PAD + lane as f64 * LANE_GAP
    };

    let paths = links
        .iter()
        .enumerate()
        .map(|(l, link)| {
            let (a, b) = (column_of_node[link.from], column_of_node[link.to]);
            let (from, to) = (&boxes[link.from], &boxes[link.to]);
            let start_y = from.y + link.from_y;
            let end_y = to.y + link.to_y;
            if a == b {
                let x = lane_x(a, l);
                return vec![
                    (from.x + from.w, start_y),
                    (x, start_y),
                    (x, end_y),
                    (to.x + to.w, end_y),
                ];
            }
            // Built left to right, then turned to run from `from` to `to`.
            let (left, left_y, right, right_y) = if a < b {
                (from, start_y, to, end_y)
            } else {
                (to, end_y, from, start_y)
            };
            let mut points = vec![(left.x + left.w, left_y)];
            for &(k, y1, y2) in &link_runs[l] {
                let x = lane_x(k, l);
                points.push((x, y1));
                points.push((x, y2));
            }
            points.push((right.x, right_y));
            if a > b {
                points.reverse();
            }
            simplify(points)
        })
        .collect();

    Layout {
        boxes,
        paths,
        width,
        height: height + MARGIN,
    }
}

/// Lanes for a channel's vertical runs `(link, y1, y2)`: runs that would
/// touch or overlap get different lanes. Returns `(link, lane)`.
fn assign_lanes(runs: &[(usize, f64, f64)]) -> Vec<(usize, usize)> {
    let mut sorted: Vec<(f64, f64, usize)> = runs
        .iter()
        .map(|&(l, a, b)| (a.min(b), a.max(b), l))
        .collect();
    sorted.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    // The lowest point each lane has reached.
    let mut lane_end: Vec<f64> = Vec::new();
    let mut out = Vec::new();
    for (top, bottom, l) in sorted {
        let lane = match lane_end.iter().position(|&end| end + LANE_GAP < top) {
            Some(lane) => lane,
            None => {
                lane_end.push(f64::NEG_INFINITY);
                lane_end.len() - 1
            }
        };
        lane_end[lane] = bottom;
        out.push((l, lane));
    }
    out
}

/// Drops the points a straight line passes through anyway.
fn simplify(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for p in points {
        if out.last() == Some(&p) {
            continue;
        }
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            if (a.0 == b.0 && b.0 == p.0) || (a.1 == b.1 && b.1 == p.1) {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}

/// What makes a diagram illegible, each as a sentence; empty when none:
/// overlapping boxes, an edge segment that is not horizontal or vertical,
/// or one that passes over a box (its own boxes included: an edge only
/// touches their sides).
#[cfg(test)]
pub fn flaws(layout: &Layout) -> Vec<String> {
    let mut out = Vec::new();
    let b = &layout.boxes;
    for i in 0..b.len() {
        for j in i + 1..b.len() {
            let (p, q) = (b[i], b[j]);
            if p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h {
                out.push(format!("boxes {i} and {j} overlap"));
            }
        }
    }
    for (l, path) in layout.paths.iter().enumerate() {
        for w in path.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
            if x1 != x2 && y1 != y2 {
                out.push(format!("edge {l} has a slanted segment"));
            }
            let (xa, xb) = (x1.min(x2), x1.max(x2));
            let (ya, yb) = (y1.min(y2), y1.max(y2));
            for (i, r) in b.iter().enumerate() {
                let across_x = xb > r.x && xa < r.x + r.w;
                let across_y = yb > r.y && ya < r.y + r.h;
                let inside_x = xa > r.x && xa < r.x + r.w;
                let inside_y = ya > r.y && ya < r.y + r.h;
                let hits = if y1 == y2 {
                    inside_y && across_x
                } else {
                    inside_x && across_y
                };
                if hits {
                    out.push(format!("edge {l} passes over box {i}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(h: f64) -> Node {
        Node {
            width: 120.0,
            height: h,
        }
    }

    fn link(from: usize, to: usize) -> Link {
        Link {
            from,
            from_y: 30.0,
            to,
            to_y: 20.0,
        }
    }

    #[test]
    fn long_edges_cycles_and_self_loops_pass_no_box() {
        // 0 <- 1 <- 2 <- 3, a long edge 3 -> 0 across two columns, a cycle
        // 4 <-> 5, a self-reference on 6, a lone 7, and a wide fan-in.
        let nodes: Vec<Node> = (0..12).map(|i| node(60.0 + 15.0 * i as f64)).collect();
        let links = vec![
            link(1, 0),
            link(2, 1),
            link(3, 2),
            link(3, 0),
            link(4, 5),
            link(5, 4),
            link(6, 6),
            link(8, 0),
            link(9, 0),
            link(10, 1),
            link(11, 0),
            link(11, 9),
        ];
        let l = layout(&nodes, &links, 40.0);
        assert_eq!(flaws(&l), Vec::<String>::new());
        assert!(l.paths.iter().all(|p| p.len() >= 2));
        // Each path starts on its `from` box's side and ends on its `to`
        // box's side.
        for (path, link) in l.paths.iter().zip(&links) {
            let (f, t) = (l.boxes[link.from], l.boxes[link.to]);
            let (s, e) = (path[0], path[path.len() - 1]);
            assert!(s.0 == f.x || s.0 == f.x + f.w, "{link:?} {s:?} {f:?}");
            assert_eq!(s.1, f.y + link.from_y);
            assert!(e.0 == t.x || e.0 == t.x + t.w, "{link:?} {e:?} {t:?}");
            assert_eq!(e.1, t.y + link.to_y);
        }
        // Parents stand left of their children.
        assert!(l.boxes[0].x < l.boxes[1].x && l.boxes[1].x < l.boxes[2].x);
    }

    /// Schemas far larger and more tangled than Aquarius' (keys in every
    /// direction, cycles, self-references, several keys between the same
    /// two tables), drawn from a fixed pseudo-random sequence.
    #[test]
    fn larger_tangled_schemas_pass_no_box_either() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        for round in 0..20 {
            let n = 5 + next(40);
            let nodes: Vec<Node> = (0..n)
                .map(|_| Node {
                    width: 80.0 + next(200) as f64,
                    height: 40.0 + 18.0 * next(20) as f64,
                })
                .collect();
            let links: Vec<Link> = (0..next(2 * n))
                .map(|_| {
                    let (from, to) = (next(n), next(n));
                    Link {
                        from,
                        from_y: 20.0 + next((nodes[from].height - 30.0) as usize) as f64,
                        to,
                        to_y: 20.0 + next((nodes[to].height - 30.0) as usize) as f64,
                    }
                })
                .collect();
            let l = layout(&nodes, &links, 10.0);
            assert_eq!(flaws(&l), Vec::<String>::new(), "round {round}");
            assert!(
                l.boxes
                    .iter()
                    .all(|b| b.x + b.w <= l.width && b.y + b.h <= l.height)
            );
        }
    }

    #[test]
    fn the_check_sees_an_edge_over_a_box_and_overlapping_boxes() {
        let r = |x: f64, y: f64| Rect {
            x,
            y,
            w: 100.0,
            h: 50.0,
        };
        let bad = Layout {
            boxes: vec![r(0.0, 0.0), r(50.0, 25.0), r(300.0, 0.0)],
            paths: vec![
                vec![(100.0, 40.0), (300.0, 40.0)],
                vec![(0.0, 0.0), (5.0, 5.0)],
            ],
            width: 400.0,
            height: 100.0,
        };
        let flaws = flaws(&bad);
        assert!(
            flaws.contains(&"boxes 0 and 1 overlap".to_owned()),
            "{flaws:?}"
        );
        assert!(
            flaws.contains(&"edge 0 passes over box 1".to_owned()),
            "{flaws:?}"
        );
        assert!(
            flaws.contains(&"edge 1 has a slanted segment".to_owned()),
            "{flaws:?}"
        );
    }

    #[test]
    fn the_same_input_gives_the_same_layout() {
        let nodes: Vec<Node> = (0..6).map(|i| node(50.0 + i as f64)).collect();
        let links = vec![link(1, 0), link(2, 0), link(3, 1), link(4, 2), link(5, 0)];
        let a = layout(&nodes, &links, 0.0);
        let b = layout(&nodes, &links, 0.0);
        assert_eq!(a.boxes, b.boxes);
        assert_eq!(a.paths, b.paths);
    }
}
