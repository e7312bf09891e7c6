//! The report as Markdown: readable in a terminal, a pull request, or a notes app.

use std::fmt::Write;

use super::{BORDERLINE_FROM, HIRE_FROM, Report, STRONG_HIRE_FROM};

fn bar(value: f32, max: f32, width: usize) -> String {
    let filled = ((value / max).clamp(0.0, 1.0) * width as f32).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// Answers are the candidate's words: quote them so Markdown in them cannot restructure the report.
fn quote(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '<' | '>' | '*' | '_' | '`' | '#' | '[' | ']' | '|' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    format!("> {escaped}")
}

pub fn to_markdown(r: &Report) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "# DataReady interview report\n");
    let _ = writeln!(
        w,
        "Session `{}` · {} ({} years) · {} mode · started {} · {} · {} of {} questions answered\n",
        r.session,
        r.role.name,
        r.role.years,
        match r.mode {
            crate::interview::Mode::Practice => "practice",
            crate::interview::Mode::Mock => "mock",
        },
        r.started_at,
        r.status,
        r.questions_answered,
        r.questions_planned
    );
    let _ = writeln!(w, "## Result\n");
    let provisional = if r.verdict_provisional { " (provisional)" } else { "" };
    let _ = writeln!(
        w,
        "**Overall: {}/100 · {}{provisional}**\n",
        r.overall,
        r.verdict.label()
    );
    let _ = writeln!(w, "- Role readiness: {}", r.readiness.summary);
    let _ = writeln!(w, "- Verdict: {}\n", r.verdict_reason);

    let _ = writeln!(w, "## Skills\n");
    if let Some(radar) = &r.radar {
        let _ = writeln!(w, "```text\n{radar}\n```\n");
    }
    if r.skills.is_empty() {
        let _ = writeln!(w, "No questions were answered.\n");
    } else {
        let _ = writeln!(w, "| Skill | Score | | Questions |\n|---|---:|---|---:|");
        for k in &r.skills {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} |",
                k.name,
                k.score,
                bar(f32::from(k.score), 100.0, 20),
                k.questions
            );
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## Dimensions\n\n| Dimension | Score (0-10) | |\n|---|---:|---|");
    for d in &r.dimensions {
        let _ = writeln!(w, "| {} | {:.1} | {} |", d.name, d.score, bar(d.score, 10.0, 20));
    }
    let _ = writeln!(w);

    if let Some(d) = &r.delivery {
        let _ = writeln!(w, "## Delivery\n");
        for o in &d.observations {
            let _ = writeln!(w, "- {o}");
        }
        let _ = writeln!(w);
    }

    if let Some(t) = &r.tailored {
        tailored(w, t);
    }

    let list = |w: &mut String, title: &str, items: &[String]| {
        let _ = writeln!(w, "## {title}\n");
        if items.is_empty() {
            let _ = writeln!(w, "- None noted.");
        }
        for i in items {
            let _ = writeln!(w, "- {i}");
        }
        let _ = writeln!(w);
    };
    list(w, "Strengths", &r.strengths);
    list(w, "Areas to improve", &r.improvements);
    if !r.red_flags.is_empty() {
        list(w, "Red flags", &r.red_flags);
    }
    list(w, "Next steps", &r.next_steps);

    let _ = writeln!(w, "## Study roadmap\n");
    if r.roadmap.is_empty() {
        let _ = writeln!(
            w,
            "Every skill covered scored 70 or more. Go deeper with harder questions: `--role` one level up.\n"
        );
    }
    for (i, item) in r.roadmap.iter().enumerate() {
        let _ = writeln!(w, "{}. **{}** ({}/100)", i + 1, item.skill, item.score);
        for t in &item.topics {
            let _ = writeln!(w, "   - {t}");
        }
    }
    if !r.roadmap.is_empty() {
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## Questions\n");
    for t in &r.turns {
        let _ = writeln!(
            w,
            "### {}. {} · {} · difficulty {} · {}/100\n",
            t.number,
            t.skill,
            t.kind.label(),
            t.difficulty,
            t.score
        );
        match &t.written_by {
            Some(by) => {
                let _ = writeln!(w, "**Q:** {} _(written by {by})_\n", t.question);
            }
            None => {
                let _ = writeln!(w, "**Q:** {}\n", t.question);
            }
        }
        if t.skipped {
            let _ = writeln!(w, "_Skipped._\n");
        } else if t.answer.is_empty() {
            let _ = writeln!(w, "_No answer._\n");
        } else {
            let _ = writeln!(w, "{}\n", quote(&t.answer));
            if t.truncated {
                let _ = writeln!(w, "_The answer was longer than 20,000 characters and was cut there._\n");
            }
        }
        let sc = t.scores.as_array();
        let _ = writeln!(
            w,
            "Correctness {:.1} · depth {:.1} · experience {:.1} · clarity {:.1} · confidence {:.1} · graded by {}\n",
            sc[0], sc[1], sc[2], sc[3], sc[4], t.grader
        );
        if let Some(o) = &t.offline {
            let oc = o.scores.as_array();
            let _ = writeln!(
                w,
                "Offline grade beside it: {}/100 · correctness {:.1} · depth {:.1} · experience {:.1} · clarity {:.1} · confidence {:.1} · graded by {}\n",
                o.score, oc[0], oc[1], oc[2], oc[3], oc[4], o.grader
            );
        }
        if let Some(f) = &t.fallback {
            let _ = writeln!(w, "_{f}_\n");
        }
        if let Some(c) = &t.grade_confidence {
            let _ = writeln!(w, "Grade confidence: {}\n", c.describe());
        }
        if let Some(sp) = &t.speech {
            let _ = writeln!(w, "Delivery: {}\n", sp.describe());
        }
        if let Some(a) = &t.audio {
            let _ = writeln!(w, "Recording: `{a}`\n");
        }
        for (label, items) in [
            ("Went well", &t.what_went_well),
            ("Missing", &t.what_was_missing),
            ("Red flags", &t.red_flags),
            ("Seniority signals", &t.seniority_signals),
        ] {
            for i in items.iter() {
                // "Missing: Not covered: …" says it twice.
                let i = i
                    .strip_prefix("Not covered: ")
                    .filter(|_| label == "Missing")
                    .unwrap_or(i);
                let _ = writeln!(w, "- {label}: {i}");
            }
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(
        w,
        "## How the verdict is decided\n\nThe overall score is the mean of the answers' scores (follow-ups count half). \
         Strong Hire: {STRONG_HIRE_FROM}+ · Hire: {HIRE_FROM}-{} · Borderline: {BORDERLINE_FROM}-{} · Needs Improvement: below {BORDERLINE_FROM}. \
         An attempt to instruct the grader caps the verdict at Borderline.",
        STRONG_HIRE_FROM - 1,
        HIRE_FROM - 1
    );
    s
}

/// Which parts came from the CV and the job description.
fn tailored(w: &mut String, t: &crate::report::Tailored) {
    let _ = writeln!(
        w,
        "## Shaped by your {}
",
        t.sources.join(" and ")
    );
    if t.found.is_empty() {
        let _ = writeln!(
            w,
            "- No technology from the vocabulary was found, so the plan was the role's usual one."
        );
    } else {
        let _ = writeln!(w, "- Found: {}", t.found.join(", "));
    }
    for s in &t.weighted {
        let _ = writeln!(w, "- Weighted toward {s}");
    }
    for q in &t.questions {
        let _ = writeln!(w, "- {q}");
    }
    let _ = writeln!(w);
}
