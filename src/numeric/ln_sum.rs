//! Sums of logarithms by products.

/// Accumulates `Σ ln xᵢ` of positive numbers with one logarithm per block of terms
/// instead of one per term.
///
/// A logarithm costs as much as the rest of a spline evaluation; multiplying first
/// turns `n` of them into `n/16`. Terms within `2^±60` are multiplied in blocks of 16
/// (so a block's product stays within `2^±960`, far from overflow and underflow); any
/// other term has its logarithm added on its own. Each block adds one rounding of
/// about `16 · 1.1e-16` relative, about `2e-15` absolute to the sum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LnSum {
    product: f64,
    count: u32,
    sum: f64,
}

impl Default for LnSum {
    fn default() -> Self {
        Self { product: 1.0, count: 0, sum: 0.0 }
    }
}

const BLOCK: u32 = 16;
const LOW: f64 = 1.0 / (1u64 << 60) as f64;
const HIGH: f64 = (1u64 << 60) as f64;

impl LnSum {
    /// Adds `ln x`.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) {
        if x > LOW && x < HIGH {
            self.product *= x;
            self.count += 1;
            if self.count == BLOCK {
                self.flush();
            }
        } else {
            self.sum += x.ln();
        }
    }

    #[inline]
    fn flush(&mut self) {
        self.sum += self.product.ln();
        self.product = 1.0;
        self.count = 0;
    }

    /// The sum of the logarithms pushed so far.
    #[inline]
    pub(crate) fn total(mut self) -> f64 {
        self.flush();
        self.sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_sum_of_logarithms() {
        let xs: Vec<f64> =
            (0..1000).map(|i| ((i as f64 * 0.37).sin() * 40.0).exp()).chain([1e-300, 1e300, 2.0]).collect();
        let mut acc = LnSum::default();
        xs.iter().for_each(|&x| acc.push(x));
        let direct: f64 = xs.iter().map(|x| x.ln()).sum();
        assert!((acc.total() - direct).abs() < 1e-11, "{} vs {direct}", acc.total());
        assert_eq!(LnSum::default().total(), 0.0);
    }
}
