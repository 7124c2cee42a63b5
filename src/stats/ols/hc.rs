//! Heteroskedasticity-robust variances HC0–HC3, formed in Q-space: the meat
//! B = Σ ωᵢ qᵢqᵢ' with ωᵢ = eᵢ² (HC0, White 1980; HC1 scales the variance by
//! n/(n−k)), eᵢ²/(1−hᵢᵢ) (HC2) or eᵢ²/(1−hᵢᵢ)² (HC3; MacKinnon & White 1985), and
//! V = T B Tᵀ. For one coefficient only the scalars w'qᵢ are needed.

use nalgebra::{DMatrix, DVector};

use super::fit::{OlsFit, dot};
use super::{BLOCK, CHUNK, SeType};
use crate::stats::{StatsError, StatsResult};

/// Weight of row i in the HC meat.
fn hc_weight(se: SeType, e: f64, h: f64) -> f64 {
    match se {
        SeType::Hc2 => e * e / (1.0 - h),
        SeType::Hc3 => e * e / (1.0 - h).powi(2),
        _ => e * e,
    }
}

/// Leverage at which HC2/HC3 are undefined.
pub(crate) const LEVERAGE_ONE: f64 = 1.0 - 1e-12;

impl OlsFit<'_> {
    /// The HC meat Σ ωᵢ qᵢqᵢ' (k×k), ωᵢ by `se`.
    pub(super) fn hc_meat(&self, se: SeType) -> StatsResult<DMatrix<f64>> {
        let k = self.k;
        let parts = self.row_pass(
            CHUNK,
            true,
            || (DMatrix::zeros(k, k), false, vec![0.0; BLOCK]),
            |(m, lev_one, wq), q, e, h, _| {
                let b = e.len();
                *lev_one |= h.iter().any(|&h| h >= LEVERAGE_ONE);
                let wq = &mut wq[..b];
                for a in 0..k {
                    let qa = &q[a * b..(a + 1) * b];
                    for (((v, &x), &e), &h) in wq.iter_mut().zip(qa).zip(e).zip(h) {
                        *v = hc_weight(se, e, h) * x;
                    }
                    for c in a..k {
                        m[(a, c)] += dot(wq, &q[c * b..(c + 1) * b]);
                    }
                }
            },
        );
        let mut meat = DMatrix::zeros(k, k);
        let mut lev_one = false;
        for (m, l, _) in parts {
            meat += m;
            lev_one |= l;
        }
        self.check_leverage(se, lev_one)?;
        meat.fill_lower_triangle_with_upper_triangle();
        Ok(meat)
    }

    /// Σ ωᵢ (w'qᵢ)², ωᵢ by `se`: the HC variance of the contrast w'(Q'y).
    pub(super) fn hc_contrast(&self, se: SeType, w: &DVector<f64>) -> StatsResult<f64> {
        let parts = self.row_pass(
            CHUNK,
            true,
            || (0.0, false, vec![0.0; BLOCK]),
            |(v, lev_one, psi), q, e, h, _| {
                let b = e.len();
                *lev_one |= h.iter().any(|&h| h >= LEVERAGE_ONE);
                let psi = &mut psi[..b];
                psi.fill(0.0);
                for (qj, &wj) in q.chunks_exact(b).zip(w.iter()) {
                    for (p, x) in psi.iter_mut().zip(qj) {
                        *p += wj * x;
                    }
                }
                for ((p, &e), &h) in psi.iter().zip(e).zip(h) {
                    *v += hc_weight(se, e, h) * p * p;
                }
            },
        );
        let mut v = 0.0;
        let mut lev_one = false;
        for (p, l, _) in parts {
            v += p;
            lev_one |= l;
        }
        self.check_leverage(se, lev_one)?;
        Ok(v)
    }

    fn check_leverage(&self, se: SeType, lev_one: bool) -> StatsResult<()> {
        if lev_one && matches!(se, SeType::Hc2 | SeType::Hc3) {
            return Err(StatsError::Invalid(
                "an observation has leverage 1, so HC2/HC3 are undefined".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_data::toy;
    use super::super::{SeType, fit};

    #[test]
    fn hc_ordering() {
        let (t, x, y) = toy();
        let f = fit(&y, &[&t, &x], true).unwrap();
        let se = |s| {
            f.coef_inference(1, s, None, 0.95)
                .unwrap()
                .inference
                .std_error
        };
        assert!(se(SeType::Hc0) < se(SeType::Hc1));
        assert!(se(SeType::Hc0) < se(SeType::Hc2) && se(SeType::Hc2) < se(SeType::Hc3));
    }
}
