//! Null simulations shipped as tables over sample sizes.

/// The null at `n` rows from `nulls`, simulated at the increasing sizes `rows`: the entry
/// itself at a tabulated size, else linear in `ln n` between the two sizes around `n`;
/// `None` outside them. The nulls' means and spreads move smoothly with `ln n`, so over
/// the half octaves the tables use, the straight line departs from them by a few
/// percent, less than the simulations' own noise.
pub(crate) fn between_sizes(rows: &[usize], nulls: &[(f64, f64)], n: usize) -> Option<(f64, f64)> {
    debug_assert_eq!(rows.len(), nulls.len());
    let k = match rows.binary_search(&n) {
        Ok(k) => return nulls.get(k).copied(),
        Err(k) if k == 0 || k == rows.len() => return None,
        Err(k) => k - 1,
    };
    let t = (n as f64 / rows[k] as f64).ln() / (rows[k + 1] as f64 / rows[k] as f64).ln();
    let ((m0, s0), (m1, s1)) = (nulls[k], nulls[k + 1]);
    Some((m0 + t * (m1 - m0), s0 + t * (s1 - s0)))
}

/// What the tests of a shipped table check.
#[cfg(test)]
pub(crate) mod checks {
    /// Prints `simulate(n, d)` for every size of `rows` and 2 to `max_dim` columns, one
    /// row of the source's table per line.
    pub(crate) fn print_table(rows: &[usize], max_dim: usize, simulate: impl Fn(usize, usize) -> (f64, f64)) {
        for d in 2..=max_dim {
            let nulls: Vec<String> = rows.iter().map(|&n| format!("{:?}", simulate(n, d))).collect();
            println!("    [{}],", nulls.join(", "));
        }
    }

    /// A table entry is the simulation it was printed from: the same, but for the last
    /// bits a processor with other vector instructions may round differently.
    pub(crate) fn assert_is_simulation(entry: (f64, f64), simulated: (f64, f64), what: &str) {
        let ((mean, sd), (table_mean, table_sd)) = (simulated, entry);
        assert!((mean - table_mean).abs() <= 1e-9 * sd && (sd - table_sd).abs() <= 1e-9 * sd, "{what}");
    }

    /// Read between sizes, a table agrees with the simulation at that size: two
    /// estimates of one mean from `replicates` replicates each differ by noise of about
    /// `√(sd₁² + sd₂²)/√replicates` (the straight line adds a few percent), and their
    /// spreads within a factor of two.
    pub(crate) fn assert_agrees(read: (f64, f64), simulated: (f64, f64), replicates: usize, what: &str) {
        let ((mean, sd), (table_mean, table_sd)) = (simulated, read);
        let noise = (sd * sd + table_sd * table_sd).sqrt() / (replicates as f64).sqrt();
        assert!((mean - table_mean).abs() < 3.0 * noise, "{what}: {mean} vs {table_mean} ± {noise}");
        assert!(table_sd > 0.5 * sd && table_sd < 2.0 * sd, "{what}: sd {sd} vs {table_sd}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_exactly_and_straight_in_ln_n_between() {
        let (rows, nulls) = ([100, 400, 1600], [(1.0, 0.5), (0.25, 0.125), (-0.5, 0.0625)]);
        for k in 0..3 {
            assert_eq!(between_sizes(&rows, &nulls, rows[k]), Some(nulls[k]));
        }
        // 200 is halfway from 100 to 400 in ln n; 800 halfway from 400 to 1600.
        let (mean, sd) = between_sizes(&rows, &nulls, 200).unwrap();
        assert!((mean - 0.625).abs() < 1e-12 && (sd - 0.3125).abs() < 1e-12);
        let (mean, sd) = between_sizes(&rows, &nulls, 800).unwrap();
        assert!((mean + 0.125).abs() < 1e-12 && (sd - 0.09375).abs() < 1e-12);
        assert_eq!(between_sizes(&rows, &nulls, 99), None);
        assert_eq!(between_sizes(&rows, &nulls, 1601), None);
    }
}
