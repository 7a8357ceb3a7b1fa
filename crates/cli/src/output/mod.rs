//! Output formats of plans and fetch summaries (text, markdown, JSON); "render"
//! is reserved for templates becoming requests.

pub mod fetch_summary;
pub mod plan_markdown;
pub mod plan_text;
