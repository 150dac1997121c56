pub mod kolmogorov;
