//! A tiny deterministic PRNG (SplitMix64): the only source of variety in a
//! generated bundle, so the same seed always gives the same bytes.
//!
//! Every turn draws from its own generator seeded from `(seed, stream, n)`,
//! so the text of turn 7 does not depend on which options made earlier
//! turns draw more or fewer numbers.

/// SplitMix64 (Steele, Lea, Flood 2014): 64 bits of state, good enough
/// statistics for text, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator for element `n` of stream `stream` of a bundle with `seed`.
    pub fn derived(seed: u64, stream: u64, n: u64) -> Self {
        let mut mixer = Rng(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        let base = mixer.next_u64();
        Rng(base ^ n.wrapping_mul(0xE703_7ED1_A0B4_28DB))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high` (`low` when the range is empty).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low + 1)
    }

    /// An index below `len` (0 for an empty range).
    pub fn index(&mut self, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        (self.next_u64() % len as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let first: Vec<u64> = (0..4).map(|_| Rng::new(7).next_u64()).collect();
        assert!(first.iter().all(|n| *n == first[0]));
        let mut a = Rng::derived(1, 2, 3);
        let mut b = Rng::derived(1, 2, 3);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(
            Rng::derived(1, 2, 3).next_u64(),
            Rng::derived(1, 2, 4).next_u64()
        );
    }

    #[test]
    fn range_stays_inside() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let n = rng.range(3, 5);
            assert!((3..=5).contains(&n));
        }
        assert_eq!(rng.range(5, 5), 5);
        assert_eq!(rng.range(6, 5), 6);
    }
}
