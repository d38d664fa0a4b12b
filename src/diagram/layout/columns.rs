//! Which column each box stands in, and in what order down the column:
//! the layered half of the layout, before anything is measured in pixels.

use super::{BOX_GAP, Item, Link, Node};

/// The nodes' columns, left to right, each top to bottom.
pub(super) fn columns(nodes: &[Node], links: &[Link]) -> Vec<Vec<usize>> {
    let n = nodes.len();
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut linked = vec![false; n];
    for l in links {
        if l.from != l.to {
            parents[l.from].push(l.to);
            linked[l.from] = true;
            linked[l.to] = true;
        }
    }
    let mut layer: Vec<Option<usize>> = vec![None; n];
    for v in 0..n {
        layer_of(v, &parents, &mut layer, &mut vec![false; n]);
    }
    let layers = (0..n)
        .filter(|&v| linked[v])
        .map(|v| layer[v].unwrap_or(0) + 1)
        .max()
        .unwrap_or(0);
    // At least a column per layer; a schema of few layers and many
    // tables gets more, so the picture is not one tall stack.
    let want = layers.max((n as f64 / 2.0).sqrt().ceil() as usize).max(1);
    let total: f64 = nodes.iter().map(|n| n.height + BOX_GAP).sum();
    let tallest = nodes.iter().map(|n| n.height).fold(0.0, f64::max);
    let share = (total / want as f64).max(tallest);

    let mut columns: Vec<Vec<usize>> = Vec::new();
    for depth in 0..layers {
        let mut column: Vec<usize> = Vec::new();
        let mut used = 0.0;
        for v in (0..n).filter(|&v| linked[v] && layer[v] == Some(depth)) {
            if !column.is_empty() && used + nodes[v].height > share {
                columns.push(std::mem::take(&mut column));
                used = 0.0;
            }
            column.push(v);
            used += nodes[v].height + BOX_GAP;
        }
        if !column.is_empty() {
            columns.push(column);
        }
    }
    // Tables without keys either way: into the shortest column each.
    for v in (0..n).filter(|&v| !linked[v]) {
        let height = |c: &Vec<usize>| c.iter().map(|&m| nodes[m].height + BOX_GAP).sum::<f64>();
        let shortest = columns
            .iter()
            .enumerate()
            .min_by(|a, b| height(a.1).total_cmp(&height(b.1)).then(a.0.cmp(&b.0)))
            .map(|(k, c)| (k, height(c)));
        match shortest {
            Some((k, h)) if h + nodes[v].height <= share || columns.len() >= want => {
                columns[k].push(v)
            }
            _ => columns.push(vec![v]),
        }
    }
    columns
}

/// The longest path of parents above `v`; a cycle's closing edge is
/// ignored (`on_path`), so every table gets a layer.
fn layer_of(
    v: usize,
    parents: &[Vec<usize>],
    layer: &mut [Option<usize>],
    on_path: &mut [bool],
) -> usize {
    if let Some(d) = layer[v] {
        return d;
    }
    on_path[v] = true;
    let mut d = 0;
    for &p in &parents[v] {
        if !on_path[p] {
            d = d.max(layer_of(p, parents, layer, on_path) + 1);
        }
    }
    on_path[v] = false;
    layer[v] = Some(d);
    d
}

/// Orders each column's items to shorten the edges and cross fewer of
/// them: a few sweeps of the barycentre heuristic, each item moved to the
/// mean position of its neighbours in the column before (or after).
pub(super) fn order(items: &mut [Vec<Item>], links: &[Link], column_of_node: &[usize]) {
    // The neighbour pairs: consecutive items along each link.
    let mut chains: Vec<Vec<(usize, Item)>> = Vec::new();
    for (l, link) in links.iter().enumerate() {
        let (a, b) = (column_of_node[link.from], column_of_node[link.to]);
        if a == b {
            continue;
        }
        let (left, right) = if a < b {
            (link.from, link.to)
        } else {
            (link.to, link.from)
        };
        let mut chain = vec![(a.min(b), Item::Box(left))];
        for k in a.min(b) + 1..a.max(b) {
            chain.push((k, Item::Slot(l)));
        }
        chain.push((a.max(b), Item::Box(right)));
        chains.push(chain);
    }
    let position = |items: &[Vec<Item>], k: usize, item: Item| -> f64 {
        items[k]
            .iter()
            .position(|&i| i == item)
            .map_or(0.0, |p| p as f64)
    };
    for sweep in 0..8 {
        let forward = sweep % 2 == 0;
        let ks: Vec<usize> = if forward {
            (1..items.len()).collect()
        } else {
            (0..items.len().saturating_sub(1)).rev().collect()
        };
        for k in ks {
            let neighbour = if forward { k - 1 } else { k + 1 };
            let mut keyed: Vec<(f64, usize, Item)> = items[k]
                .iter()
                .enumerate()
                .map(|(i, &item)| {
                    let mut sum = 0.0;
                    let mut count = 0.0;
                    for chain in &chains {
                        for w in chain.windows(2) {
                            let (p, q) = (w[0], w[1]);
                            let other = if p == (k, item) && q.0 == neighbour {
                                Some(q)
                            } else if q == (k, item) && p.0 == neighbour {
                                Some(p)
                            } else {
                                None
                            };
                            if let Some((c, o)) = other {
                                sum += position(items, c, o);
                                count += 1.0;
                            }
                        }
                    }
                    let key = if count > 0.0 { sum / count } else { i as f64 };
                    (key, i, item)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            items[k] = keyed.into_iter().map(|(_, _, item)| item).collect();
        }
    }
}
