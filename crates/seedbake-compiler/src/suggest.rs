//! Did-you-mean suggestions: the closest candidate by edit distance.

/// The candidate closest to `wanted` by edit distance, if it is close enough
/// to be a plausible typo.
pub(crate) fn closest(wanted: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + usize::from(ca != *cb))
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }
    candidates
        .map(|c| (distance(wanted, &c), c))
        .filter(|(d, c)| *d <= 3.max(c.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn a_typo_finds_its_key_and_nonsense_finds_none() {
        let keys = || ["BKFD", "LKNW", "LKBY"].into_iter().map(String::from);
        assert_eq!(closest("LKNV", keys()).as_deref(), Some("LKNW"));
        assert_eq!(closest("Schwimmverein Hamburg", keys()), None);
    }
}
