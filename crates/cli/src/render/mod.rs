//! Renderings of plans and fetch summaries.

pub mod fetch_summary;
pub mod plan_markdown;
pub mod plan_text;
