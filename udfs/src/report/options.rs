//! The options string of `drift_report` / `drift_summary`: `'method=psi, threshold=0.2, bins=20'`.

use datafusion::common::Result;

use crate::common::histogram::DEFAULT_BINS;
use crate::error::invalid_argument;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Ks,
    Chi2,
    Wasserstein,
    JensenShannon,
    Psi,
    Kl,
}

impl Method {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Ks => "ks",
            Method::Chi2 => "chi2",
            Method::Wasserstein => "wasserstein",
            Method::JensenShannon => "jensenshannon",
            Method::Psi => "psi",
            Method::Kl => "kl",
        }
    }

    /// p-value tests drift below the threshold; distances drift at or above it.
    pub(crate) fn is_test(self) -> bool {
        matches!(self, Method::Ks | Method::Chi2)
    }

    pub(crate) fn default_threshold(self) -> f64 {
        if self.is_test() { 0.05 } else { 0.1 }
    }

    fn parse(function: &str, text: &str) -> Result<Self> {
        [
            Method::Ks,
            Method::Chi2,
            Method::Wasserstein,
            Method::JensenShannon,
            Method::Psi,
            Method::Kl,
        ]
        .into_iter()
        .find(|method| method.name() == text)
        .ok_or_else(|| {
            invalid_argument(
                function,
                format!(
                    "unknown method '{text}'; use ks, chi2, wasserstein, jensenshannon, psi or kl"
                ),
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReportOptions {
    /// `None`: Evidently's choice per column.
    pub method: Option<Method>,
    pub threshold: Option<f64>,
    pub bins: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            method: None,
            threshold: None,
            bins: DEFAULT_BINS,
        }
    }
}

impl ReportOptions {
    pub(crate) fn parse(function: &str, text: &str) -> Result<Self> {
        let mut options = Self::default();
        for item in text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let Some((key, value)) = item.split_once('=') else {
                return Err(invalid_argument(
                    function,
                    format!("option '{item}' must look like key=value"),
                ));
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            let number = || {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| {
                        invalid_argument(
                            function,
                            format!("option {key} needs a number, got '{value}'"),
                        )
                    })
            };
            match key.as_str() {
                "method" => options.method = Some(Method::parse(function, value)?),
                "threshold" => options.threshold = Some(number()?),
                "bins" => {
                    let bins = number()?;
                    if bins.fract() != 0.0 || !(2.0..=10_000.0).contains(&bins) {
                        return Err(invalid_argument(
                            function,
                            format!("bins must be an integer between 2 and 10000, got {value}"),
                        ));
                    }
                    options.bins = bins as usize;
                }
                other => {
                    return Err(invalid_argument(
                        function,
                        format!("unknown option '{other}'; use method, threshold or bins"),
                    ));
                }
            }
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let options = ReportOptions::parse("f", "method=psi, threshold=0.2 ,bins=20").expect("ok");
        assert_eq!(options.method, Some(Method::Psi));
        assert_eq!(options.threshold, Some(0.2));
        assert_eq!(options.bins, 20);
        assert_eq!(
            ReportOptions::parse("f", "").expect("ok"),
            ReportOptions::default()
        );
        assert!(ReportOptions::parse("f", "method=magic").is_err());
        assert!(ReportOptions::parse("f", "bins=1").is_err());
        assert!(ReportOptions::parse("f", "colour=red").is_err());
        assert!(ReportOptions::parse("f", "threshold").is_err());
    }
}
