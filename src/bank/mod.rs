//! The question bank: roles, skills and questions loaded from TOML files and validated with `file:line` errors.

mod raw;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The bank compiled into the binary, so `dataready` works from any directory.
/// `--bank DIR` (or `DATAREADY_BANK`) loads an edited copy instead.
const BUILTIN: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/bank_files.rs"));

#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub years: String,
    pub min_years: u32,
    pub difficulty: u8,
    /// Focus skills with their weights, in file order.
    pub focus: Vec<(String, u32)>,
    pub also: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skill {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub roadmap: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyPoint {
    pub text: String,
    pub phrasings: Vec<String>,
    pub weight: u8,
    /// Plausible wrong versions of the point (a swapped concept, a reversed mechanism): an answer that
    /// states one of these contradicts the point rather than covering it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contrasts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FollowUps {
    pub deeper: String,
    pub example: String,
    pub harder: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Question {
    pub id: String,
    pub skill: String,
    pub roles: Vec<String>,
    pub difficulty: u8,
    pub text: String,
    pub key_points: Vec<KeyPoint>,
    pub misconceptions: Vec<String>,
    pub seniority_signals: Vec<String>,
    pub follow_ups: FollowUps,
}

impl Question {
    /// The question and its key points as one text, for finding what it is about.
    pub fn text_with_key_points(&self) -> String {
        let mut s = self.text.clone();
        for k in &self.key_points {
            s.push(' ');
            s.push_str(&k.text);
        }
        s
    }
}

#[derive(Debug)]
pub struct Bank {
    pub roles: Vec<Role>,
    pub skills: Vec<Skill>,
    pub questions: Vec<Arc<Question>>,
    /// Changes whenever any bank file changes; keys caches and is recorded in sessions.
    pub digest: String,
}

/// One problem found while loading, located as `file:line`.
#[derive(Debug, Clone, PartialEq)]
pub struct BankIssue {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for BankIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BankError {
    #[error("cannot read the question bank at {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the question bank has {} problem(s):\n{}", .0.len(), .0.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<BankIssue>),
}

impl Bank {
    /// The bank shipped inside the binary.
    pub fn builtin() -> Result<Self, BankError> {
        let files: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(name, text)| (format!("bank/{name}"), text.to_string()))
            .collect();
        Self::from_files(&files)
    }

    /// A bank directory laid out like the repository's `bank/`: `roles.toml`, `skills.toml`, `questions/*.toml`.
    pub fn load_dir(dir: &Path) -> Result<Self, BankError> {
        let io = |path: &Path, source| BankError::Io {
            path: path.display().to_string(),
            source,
        };
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| io(p, e));
        let mut files = vec![
            (
                dir.join("roles.toml").display().to_string(),
                read(&dir.join("roles.toml"))?,
            ),
            (
                dir.join("skills.toml").display().to_string(),
                read(&dir.join("skills.toml"))?,
            ),
        ];
        let qdir = dir.join("questions");
        let mut names: Vec<_> = std::fs::read_dir(&qdir)
            .map_err(|e| io(&qdir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        names.sort();
        for p in names {
            files.push((p.display().to_string(), read(&p)?));
        }
        Self::from_files(&files)
    }

    /// Parses and validates `(path, contents)` pairs: roles first, skills second, then question files.
    pub fn from_files(files: &[(String, String)]) -> Result<Self, BankError> {
        let mut issues = Vec::new();
        let mut digest = Fnv::default();
        for (name, text) in files {
            digest.write(name.rsplit('/').next().unwrap_or(name).as_bytes());
            digest.write(text.as_bytes());
        }
        let (roles_file, skills_file) = match files {
            [r, s, ..] => (r, s),
            _ => {
                return Err(BankError::Invalid(vec![BankIssue {
                    file: "bank".into(),
                    line: 0,
                    message: "needs roles.toml, skills.toml and question files".into(),
                }]));
            }
        };
        let skills = raw::skills(&skills_file.0, &skills_file.1, &mut issues);
        let skill_ids: HashSet<&str> = skills.iter().map(|s| s.id.as_str()).collect();
        let roles = raw::roles(&roles_file.0, &roles_file.1, &skill_ids, &mut issues);
        let role_ids: HashSet<&str> = roles.iter().map(|r| r.id.as_str()).collect();
        let mut questions = Vec::new();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (file, text) in &files[2..] {
            for (line, q) in raw::questions(file, text, &skill_ids, &role_ids, &mut issues) {
                if let Some(first) = seen.insert(q.id.clone(), format!("{file}:{line}")) {
                    issues.push(BankIssue {
                        file: file.clone(),
                        line,
                        message: format!("duplicate question id {:?} (first defined at {first})", q.id),
                    });
                }
                questions.push(Arc::new(q));
            }
        }
        if questions.is_empty() && issues.is_empty() {
            issues.push(BankIssue {
                file: "bank/questions".into(),
                line: 0,
                message: "no questions".into(),
            });
        }
        if !issues.is_empty() {
            return Err(BankError::Invalid(issues));
        }
        Ok(Self {
            roles,
            skills,
            questions,
            digest: format!("{:016x}", digest.0),
        })
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub fn skill(&self, id: &str) -> Option<&Skill> {
        self.skills.iter().find(|s| s.id == id)
    }

    pub fn question(&self, id: &str) -> Option<&Arc<Question>> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// A question id as a user typed it: surrounding spaces and case do not matter ("Orch-Backfill "). An id
    /// that names no question gives why, for an error message: the ids it was probably meant to be (a typo,
    /// or a word of the id), then where the list is.
    pub fn find_question(&self, id: &str) -> Result<&Arc<Question>, String> {
        let ids = self.questions.iter().map(|q| q.id.as_str());
        find_id(
            id,
            ids,
            "no bank question has the id",
            "`dataready bank questions` lists them",
        )
        .map(|found| self.question(found).expect("an id of the bank's"))
    }

    /// A skill id as a user typed it, like [`Bank::find_question`].
    pub fn find_skill(&self, id: &str) -> Result<&Skill, String> {
        let ids = self.skills.iter().map(|s| s.id.as_str());
        find_id(id, ids, "no skill has the id", "`dataready skills` lists them")
            .map(|found| self.skill(found).expect("an id of the bank's"))
    }

    pub fn skill_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.skill(id).map_or(id, |s| s.name.as_str())
    }

    pub fn role_ids(&self) -> Vec<&str> {
        self.roles.iter().map(|r| r.id.as_str()).collect()
    }

    pub fn skill_ids(&self) -> Vec<&str> {
        self.skills.iter().map(|s| s.id.as_str()).collect()
    }
}

/// The id among `ids` that `typed` names, whatever its case and surrounding spaces; otherwise the error
/// "<none> "<typed>"; did you mean …? (<list>)", with the ids it was probably meant to be (by edit distance,
/// or ids containing the typed word).
fn find_id<'a>(
    typed: &str,
    ids: impl Iterator<Item = &'a str> + Clone,
    none: &str,
    list: &str,
) -> Result<&'a str, String> {
    let trimmed = typed.trim();
    if let Some(id) = ids
        .clone()
        .find(|id| *id == trimmed)
        .or_else(|| ids.clone().find(|id| id.eq_ignore_ascii_case(trimmed)))
    {
        return Ok(id);
    }
    let lower = trimmed.to_ascii_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let mut near: Vec<(usize, &str)> = ids
        .clone()
        .map(|id| (crate::text::edit_distance(&chars, &id.chars().collect::<Vec<_>>()), id))
        .filter(|&(d, _)| d <= (chars.len() / 5).max(2))
        .collect();
    if near.is_empty() && lower.len() >= 3 {
        near = ids.filter(|id| id.contains(lower.as_str())).map(|id| (0, id)).collect();
    }
    near.sort();
    let hint = match near.len() {
        0 => String::new(),
        _ => format!(
            "; did you mean {}?",
            near.iter().take(3).map(|(_, id)| *id).collect::<Vec<_>>().join(" or ")
        ),
    };
    Err(format!("{none} {typed:?}{hint} ({list})"))
}

/// FNV-1a, 64-bit: a stable content fingerprint (not a security hash).
#[derive(Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_bank_is_valid_and_large_enough() {
        let bank = Bank::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert!(bank.questions.len() >= 150, "{} questions", bank.questions.len());
        let skills: HashSet<_> = bank.questions.iter().map(|q| q.skill.as_str()).collect();
        assert!(skills.len() >= 20, "{} skills", skills.len());
        for role in &bank.roles {
            let n = bank.questions.iter().filter(|q| q.roles.contains(&role.id)).count();
            assert!(n >= 20, "role {} has only {n} questions", role.id);
            for (skill, _) in &role.focus {
                let n = bank
                    .questions
                    .iter()
                    .filter(|q| &q.skill == skill && q.roles.contains(&role.id))
                    .count();
                assert!(n >= 3, "role {} focus skill {skill} has only {n} questions", role.id);
            }
        }
    }

    fn files(questions: &str) -> Vec<(String, String)> {
        let b = Bank::builtin().unwrap();
        let _ = b;
        vec![
            (
                "roles.toml".into(),
                BUILTIN.iter().find(|f| f.0 == "roles.toml").unwrap().1.into(),
            ),
            (
                "skills.toml".into(),
                BUILTIN.iter().find(|f| f.0 == "skills.toml").unwrap().1.into(),
            ),
            ("questions/x.toml".into(), questions.into()),
        ]
    }

    #[test]
    fn errors_point_at_file_and_line() {
        let text = "[[question]]\nid = \"x-1\"\nskill = \"nope\"\nroles = [\"junior\"]\ndifficulty = 9\ntext = \"Why?\"\n\
                    misconceptions = [\"a\", \"b\"]\nseniority_signals = [\"a\", \"b\"]\ndeeper = \"d?\"\nexample = \"e?\"\nharder = \"h?\"\n\
                    [[question.key_point]]\ntext = \"k\"\nphrasings = [\"a\"]\n";
        let err = Bank::from_files(&files(text)).unwrap_err().to_string();
        assert!(
            err.contains("questions/x.toml:1: question x-1: unknown skill \"nope\""),
            "{err}"
        );
        assert!(err.contains("difficulty 9"), "{err}");
        assert!(err.contains("1 key point"), "{err}");
    }

    #[test]
    fn a_question_id_is_found_whatever_its_case_and_a_typo_gets_a_suggestion() {
        let bank = Bank::builtin().unwrap();
        assert_eq!(bank.find_question(" Orch-Backfill ").unwrap().id, "orch-backfill");
        let typo = bank.find_question("orch-backfil").unwrap_err();
        assert!(typo.contains("did you mean orch-backfill?"), "{typo}");
        let word = bank.find_question("backfill").unwrap_err();
        assert!(
            word.contains("orch-backfill") && word.contains("pd-replay-backfill"),
            "{word}"
        );
        let none = bank.find_question("zzz").unwrap_err();
        assert!(
            !none.contains("did you mean") && none.contains("dataready bank questions"),
            "{none}"
        );
    }

    #[test]
    fn contrasts_are_checked_at_their_key_points_line() {
        let kp = |text: &str, contrasts: &str| {
            format!("[[question.key_point]]\ntext = \"{text}\"\nphrasings = [\"a\", \"b\"]\ncontrasts = {contrasts}\n")
        };
        let text = format!(
            "[[question]]\nid = \"spark-x\"\nskill = \"spark\"\nroles = [\"mid\"]\ndifficulty = 2\ntext = \"Why?\"\n\
             misconceptions = [\"m\"]\nseniority_signals = [\"s\"]\ndeeper = \"d?\"\nexample = \"e?\"\nharder = \"h?\"\n{}{}{}{}",
            kp("one", "[\"not one\"]"),
            kp("two", "[\"\"]"),
            kp("three", "[\"Three\"]"),
            kp("four", "[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\"]"),
        );
        let err = Bank::from_files(&files(&text)).unwrap_err().to_string();
        assert!(
            err.contains("questions/x.toml:16: question spark-x: key point \"two\" has an empty contrast"),
            "{err}"
        );
        assert!(
            err.contains("questions/x.toml:20: question spark-x: key point \"three\" lists itself"),
            "{err}"
        );
        assert!(
            err.contains("questions/x.toml:24: question spark-x: key point \"four\" has 7 contrasts"),
            "{err}"
        );
        assert!(!err.contains("\"one\""), "{err}");
        let bank = Bank::builtin().unwrap();
        let with = bank
            .questions
            .iter()
            .flat_map(|q| &q.key_points)
            .filter(|k| !k.contrasts.is_empty());
        assert_eq!(
            with.count(),
            bank.questions.iter().map(|q| q.key_points.len()).sum::<usize>()
        );
    }

    #[test]
    fn syntax_errors_point_at_the_line() {
        let err = Bank::from_files(&files("[[question]]\nid = \"x\"\nskill = \n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("questions/x.toml:3:"), "{err}");
    }
}
