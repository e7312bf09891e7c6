//! The on-disk TOML shapes of the bank and their checks; turns spans into line numbers.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use super::{BankIssue, FollowUps, KeyPoint, Question, Role, Skill};

/// Most contrast claims a key point may carry (wrong versions of it of different kinds).
pub const MAX_CONTRASTS: usize = 6;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkillsFile {
    skill: Vec<Spanned<RawSkill>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkill {
    id: String,
    name: String,
    summary: String,
    roadmap: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesFile {
    role: Vec<Spanned<RawRole>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    id: String,
    name: String,
    years: String,
    min_years: u32,
    difficulty: u8,
    focus: BTreeMap<String, u32>,
    #[serde(default)]
    also: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionsFile {
    #[serde(default)]
    question: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    skill: String,
    roles: Vec<String>,
    difficulty: i64,
    text: String,
    misconceptions: Vec<String>,
    seniority_signals: Vec<String>,
    deeper: String,
    example: String,
    harder: String,
    #[serde(default)]
    key_point: Vec<Spanned<RawKeyPoint>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyPoint {
    text: String,
    phrasings: Vec<String>,
    #[serde(default = "one")]
    weight: i64,
    #[serde(default)]
    contrasts: Vec<String>,
}

fn one() -> i64 {
    1
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str, issues: &mut Vec<BankIssue>) -> Option<T> {
    match toml::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            let message = e.message().trim().to_string();
            issues.push(BankIssue {
                file: file.to_string(),
                line,
                message,
            });
            None
        }
    }
}

pub fn skills(file: &str, text: &str, issues: &mut Vec<BankIssue>) -> Vec<Skill> {
    let Some(parsed) = parse::<SkillsFile>(file, text, issues) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    parsed
        .skill
        .into_iter()
        .filter_map(|s| {
            let line = line_of(text, s.span().start);
            let s = s.into_inner();
            let mut bad = |m: String| {
                issues.push(BankIssue {
                    file: file.into(),
                    line,
                    message: m,
                })
            };
            if !is_id(&s.id) {
                bad(format!("skill id {:?} must be lowercase kebab-case", s.id));
            } else if !seen.insert(s.id.clone()) {
                bad(format!("duplicate skill id {:?}", s.id));
            } else if s.roadmap.len() < 3 {
                bad(format!("skill {} needs at least 3 roadmap topics", s.id));
            } else {
                return Some(Skill {
                    id: s.id,
                    name: s.name,
                    summary: s.summary,
                    roadmap: s.roadmap,
                });
            }
            None
        })
        .collect()
}

pub fn roles(file: &str, text: &str, skills: &HashSet<&str>, issues: &mut Vec<BankIssue>) -> Vec<Role> {
    let Some(parsed) = parse::<RolesFile>(file, text, issues) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in parsed.role {
        let line = line_of(text, r.span().start);
        let r = r.into_inner();
        let before = issues.len();
        let mut bad = |m: String| {
            issues.push(BankIssue {
                file: file.into(),
                line,
                message: m,
            })
        };
        if !(1..=5).contains(&r.difficulty) {
            bad(format!("role {}: difficulty {} is not 1-5", r.id, r.difficulty));
        }
        if r.focus.is_empty() {
            bad(format!("role {} has no focus skills", r.id));
        }
        for s in r.focus.keys().chain(&r.also) {
            if !skills.contains(s.as_str()) {
                bad(format!("role {}: unknown skill {s:?}", r.id));
            }
        }
        if issues.len() == before {
            // Keep the file's order of focus skills stable by sorting on weight, then name.
            let mut focus: Vec<(String, u32)> = r.focus.into_iter().collect();
            focus.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            out.push(Role {
                id: r.id,
                name: r.name,
                years: r.years,
                min_years: r.min_years,
                difficulty: r.difficulty,
                focus,
                also: r.also,
            });
        }
    }
    out
}

pub fn questions(
    file: &str,
    text: &str,
    skills: &HashSet<&str>,
    roles: &HashSet<&str>,
    issues: &mut Vec<BankIssue>,
) -> Vec<(usize, Question)> {
    let Some(parsed) = parse::<QuestionsFile>(file, text, issues) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for q in parsed.question {
        let line = line_of(text, q.span().start);
        let q = q.into_inner();
        let before = issues.len();
        // Problems with one key point, reported at that key point's line.
        let mut key_point_issues: Vec<(usize, String)> = Vec::new();
        let mut bad = |m: String| {
            issues.push(BankIssue {
                file: file.into(),
                line,
                message: format!("question {}: {m}", q.id),
            })
        };
        if !is_id(&q.id) {
            bad("id must be lowercase kebab-case".into());
        }
        if !skills.contains(q.skill.as_str()) {
            bad(format!("unknown skill {:?}", q.skill));
        }
        if q.roles.is_empty() {
            bad("lists no roles".into());
        }
        for r in &q.roles {
            if !roles.contains(r.as_str()) {
                bad(format!("unknown role {r:?}"));
            }
        }
        if !(1..=5).contains(&q.difficulty) {
            bad(format!("difficulty {} is not 1-5", q.difficulty));
        }
        let n = q.key_point.len();
        if !(4..=8).contains(&n) {
            bad(format!(
                "has {n} key point{}; a rubric needs 4-8",
                if n == 1 { "" } else { "s" }
            ));
        }
        for kp in &q.key_point {
            let kp_line = line_of(text, kp.span().start);
            let kp = kp.get_ref();
            if kp.contrasts.len() > MAX_CONTRASTS {
                key_point_issues.push((
                    kp_line,
                    format!(
                        "key point {:?} has {} contrasts; use at most {MAX_CONTRASTS}",
                        short(&kp.text),
                        kp.contrasts.len()
                    ),
                ));
            }
            for c in &kp.contrasts {
                if c.trim().is_empty() {
                    key_point_issues.push((
                        kp_line,
                        format!("key point {:?} has an empty contrast", short(&kp.text)),
                    ));
                } else if c.trim().eq_ignore_ascii_case(kp.text.trim()) {
                    key_point_issues.push((
                        kp_line,
                        format!(
                            "key point {:?} lists itself as a contrast; a contrast must contradict it",
                            short(&kp.text)
                        ),
                    ));
                }
            }
            if kp.text.trim().is_empty() {
                bad("a key point has empty text".into());
            }
            if kp.phrasings.len() < 2 || kp.phrasings.iter().any(|p| p.trim().is_empty()) {
                bad(format!(
                    "key point {:?} needs at least 2 non-empty phrasings",
                    short(&kp.text)
                ));
            }
            if !(1..=3).contains(&kp.weight) {
                bad(format!(
                    "key point {:?} has weight {}; use 1-3",
                    short(&kp.text),
                    kp.weight
                ));
            }
        }
        if q.misconceptions.is_empty() {
            bad("lists no misconceptions".into());
        }
        if q.seniority_signals.is_empty() {
            bad("lists no seniority signals".into());
        }
        for (name, t) in [
            ("text", &q.text),
            ("deeper", &q.deeper),
            ("example", &q.example),
            ("harder", &q.harder),
        ] {
            if t.trim().is_empty() {
                bad(format!("{name} is empty"));
            }
        }
        for (line, m) in key_point_issues {
            issues.push(BankIssue {
                file: file.into(),
                line,
                message: format!("question {}: {m}", q.id),
            });
        }
        if issues.len() == before {
            out.push((
                line,
                Question {
                    id: q.id,
                    skill: q.skill,
                    roles: q.roles,
                    difficulty: q.difficulty as u8,
                    text: q.text.trim().to_string(),
                    key_points: q
                        .key_point
                        .into_iter()
                        .map(|k| {
                            let k = k.into_inner();
                            KeyPoint {
                                text: k.text,
                                phrasings: k.phrasings,
                                weight: k.weight as u8,
                                contrasts: k.contrasts.into_iter().map(|c| c.trim().to_string()).collect(),
                            }
                        })
                        .collect(),
                    misconceptions: q.misconceptions,
                    seniority_signals: q.seniority_signals,
                    follow_ups: FollowUps {
                        deeper: q.deeper,
                        example: q.example,
                        harder: q.harder,
                    },
                },
            ));
        }
    }
    out
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}
