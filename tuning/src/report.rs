//! Plain-text tables for `tune check` and `tune apply`.

use crate::apply::{ApplyRow, CheckRow, Outcome};
use crate::tunable::Status;

/// Cells longer than this are cut so one odd value cannot break the table.
const CELL_CHARS_MAX: usize = 60;

fn clip(text: &str) -> String {
    if text.chars().count() <= CELL_CHARS_MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(CELL_CHARS_MAX - 1).collect();
    format!("{cut}…")
}

fn render_table(header: [&str; 4], rows: &[[String; 4]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row.iter()).take(3) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        format!(
            "{:w0$}  {:w1$}  {:w2$}  {}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
    };
    let mut out = line(header);
    for row in rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    out
}

pub fn status_text(status: &Status) -> String {
    match status {
        Status::Ok => "ok".to_string(),
        Status::Differs => "differs".to_string(),
        Status::NotTunable(reason) => format!("not tunable here: {reason}"),
    }
}

/// The `tune check` table: tunable, current, recommended, status.
pub fn render_check(rows: &[CheckRow]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                clip(&r.assessment.current),
                clip(&r.assessment.recommended),
                status_text(&r.assessment.status),
            ]
        })
        .collect();
    render_table(["TUNABLE", "CURRENT", "RECOMMENDED", "STATUS"], &cells)
}

/// The `tune apply` table: tunable, before, after, what happened.
pub fn render_apply(rows: &[ApplyRow]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let (before, after, what) = match &r.outcome {
                Outcome::AlreadyOk { current } => {
                    (current.clone(), current.clone(), "ok".to_string())
                }
                Outcome::Planned { current, writes } => {
                    let plan: Vec<String> = writes
                        .iter()
                        .map(|w| format!("{} <- {}", w.path.display(), w.value))
                        .collect();
                    (
                        current.clone(),
                        "-".to_string(),
                        format!("would write {}", plan.join("; ")),
                    )
                }
                Outcome::Changed { from, to } => (from.clone(), to.clone(), "changed".to_string()),
                Outcome::StillDiffers { from, now, errors } => {
                    let what = if errors.is_empty() {
                        "written, but still differs (irqbalance or the kernel reverted it?)"
                            .to_string()
                    } else {
                        format!("partly applied: {}", errors.join("; "))
                    };
                    (from.clone(), now.clone(), what)
                }
                Outcome::NotTunable { current, reason } => {
                    let current = current.clone().unwrap_or_else(|| "-".to_string());
                    (
                        current.clone(),
                        current,
                        format!("not tunable here: {reason}"),
                    )
                }
            };
            [r.name.clone(), clip(&before), clip(&after), what]
        })
        .collect();
    render_table(["TUNABLE", "BEFORE", "AFTER", "RESULT"], &cells)
}
