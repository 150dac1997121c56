//! The one dense solve training needs: a symmetric positive semi-definite system `A x = b`
//! (normal equations), by Cholesky with redundant columns dropped.

/// Solves `a x = b` for symmetric positive semi-definite `a` (row-major, `n × n`). A column that
/// is a linear combination of earlier ones (a one-hot column beside an intercept, a duplicated
/// feature) gets coefficient 0, which leaves the fitted values those of the least-squares fit.
pub fn solve_semidefinite(a: &[f64], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut lower = vec![0.0f64; n * n];
    let mut kept = vec![true; n];
    let scale = (0..n)
        .map(|i| a[i * n + i].abs())
        .fold(0.0, f64::max)
        .max(1.0);
    for j in 0..n {
        let pivot = a[j * n + j]
            - (0..j)
                .map(|k| lower[j * n + k] * lower[j * n + k])
                .sum::<f64>();
        if pivot <= 1e-11 * scale {
            kept[j] = false;
            continue;
        }
        let root = pivot.sqrt();
        lower[j * n + j] = root;
        for i in j + 1..n {
            let dot: f64 = (0..j).map(|k| lower[i * n + k] * lower[j * n + k]).sum();
            lower[i * n + j] = (a[i * n + j] - dot) / root;
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        if kept[i] {
            let dot: f64 = (0..i).map(|k| lower[i * n + k] * y[k]).sum();
            y[i] = (b[i] - dot) / lower[i * n + i];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        if kept[i] {
            let dot: f64 = (i + 1..n).map(|k| lower[k * n + i] * x[k]).sum();
            x[i] = (y[i] - dot) / lower[i * n + i];
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_positive_definite_system() {
        // [[4, 2], [2, 3]] x = [2, 5]  →  x = [-0.5, 2]
        let x = solve_semidefinite(&[4.0, 2.0, 2.0, 3.0], &[2.0, 5.0]);
        assert!(
            (x[0] + 0.5).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12,
            "{x:?}"
        );
    }

    #[test]
    fn drops_a_column_that_repeats_another() {
        // Columns 0 and 1 equal: the system is singular; the solution puts all weight on 0.
        let x = solve_semidefinite(
            &[2.0, 2.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0],
            &[3.0, 3.0, 3.0],
        );
        assert_eq!(x[1], 0.0);
        // Rows of A·x equal b on the kept columns.
        assert!((2.0 * x[0] + x[2] - 3.0).abs() < 1e-12);
        assert!((x[0] + 2.0 * x[2] - 3.0).abs() < 1e-12);
    }
}
