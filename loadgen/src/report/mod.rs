//! Output: terminal table, JSON, Markdown report and SVG plots.

pub mod markdown;
pub mod plots;
pub mod table;
