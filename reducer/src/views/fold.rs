//! Folding of repetition: runs of the same block of one to three entries
//! (by a caller-given shape) shown once, then counted.
//!
//! Invariants:
//! - Groups cover the input exactly once, in order.
//! - A run is folded only when folding saves at least two lines, so a fold
//!   line never stands for a single line it could have shown.

/// Longest repeated block that is recognized (e.g. inference, tool, tool).
const MAX_BLOCK: usize = 3;

/// A block of `len` entries starting at `start`, repeated `repeats` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) repeats: usize,
}

impl Group {
    /// The indices of the entries behind the first block.
    pub(crate) fn folded(&self) -> std::ops::Range<usize> {
        self.start + self.len..self.start + self.len * self.repeats
    }

    pub(crate) fn end(&self) -> usize {
        self.start + self.len * self.repeats
    }
}

/// Groups of `shapes`, greedily from the left: at each position the block
/// length that covers the most entries wins, the shortest on a tie.
pub(crate) fn fold<S: PartialEq>(shapes: &[S]) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut start = 0;
    while start < shapes.len() {
        let mut best = Group {
            start,
            len: 1,
            repeats: 1,
        };
        for len in 1..=MAX_BLOCK {
            let block = match shapes.get(start..start + len) {
                Some(block) => block,
                None => break,
            };
            let mut repeats = 1;
            while shapes.get(start + len * repeats..start + len * (repeats + 1)) == Some(block) {
                repeats += 1;
            }
            let saves = len * (repeats - 1);
            if saves >= 2 && len * repeats > best.len * best.repeats {
                best = Group {
                    start,
                    len,
                    repeats,
                };
            }
        }
        start = best.end();
        groups.push(best);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(shapes: &str) -> Vec<(usize, usize, usize)> {
        let shapes: Vec<char> = shapes.chars().collect();
        fold(&shapes)
            .into_iter()
            .map(|group| (group.start, group.len, group.repeats))
            .collect()
    }

    #[test]
    fn single_entries_and_pairs_fold_when_it_saves_lines() {
        assert_eq!(shown("abc"), [(0, 1, 1), (1, 1, 1), (2, 1, 1)]);
        assert_eq!(shown("aab"), [(0, 1, 1), (1, 1, 1), (2, 1, 1)]);
        assert_eq!(shown("aaab"), [(0, 1, 3), (3, 1, 1)]);
        assert_eq!(shown("ababab"), [(0, 2, 3)]);
        assert_eq!(shown("abab"), [(0, 2, 2)]);
        assert_eq!(shown("xabcabcabcy"), [(0, 1, 1), (1, 3, 3), (10, 1, 1)]);
    }

    #[test]
    fn the_longest_coverage_wins() {
        // "aaaa" as four single entries covers as much as "aa" twice: shortest wins.
        assert_eq!(shown("aaaa"), [(0, 1, 4)]);
        assert_eq!(shown("abababa"), [(0, 2, 3), (6, 1, 1)]);
    }
}
