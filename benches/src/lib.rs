//! Criterion benches live in `benches/`; results in `results/`.
