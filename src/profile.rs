//! Interviews shaped by the candidate's CV and the job description: the technologies and practices
//! they name (the vocabulary in `bank/stack.toml`), the skills those point to, and one experience
//! question about an item on the CV. The files are read on this machine; nothing here sends anything.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::bank::{Bank, BankIssue};

const BUILTIN_STACK: &str = include_str!("../bank/stack.toml");
/// CVs and job descriptions are a few pages; anything far bigger is the wrong file.
const MAX_DOC_BYTES: u64 = 512 * 1024;
/// A term counts at most this many times per document (a CV that says "Kafka" ten times is not ten times as Kafka).
const MAX_MENTIONS: u32 = 3;
/// What the job asks for weighs more than what the CV lists.
const JOB_WEIGHT: f64 = 1.5;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read {path}: {why}")]
    Read { path: String, why: String },
    #[error(
        "{path} is a PDF; DataReady reads plain text or Markdown. Convert it first, e.g. `pdftotext {path} cv.txt` \
         (Debian: apt-get install poppler-utils), and pass the .txt"
    )]
    Pdf { path: String },
    #[error("{path} is not a text file ({why}); save it as plain text or Markdown (UTF-8)")]
    NotText { path: String, why: String },
    #[error(
        "{path} is {kb} KB; a CV or job description is read up to {max_kb} KB. Keep the parts about your work and pass that"
    )]
    TooLarge { path: String, kb: u64, max_kb: u64 },
    #[error("{path} is empty")]
    Empty { path: String },
    #[error("the technology vocabulary has problems:\n{}", .0.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
    Vocabulary(Vec<BankIssue>),
}

/// The terms to look for: a name, the spellings that count (lower case), the skills it points to.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    terms: Vec<TermDef>,
}

#[derive(Debug, Clone)]
struct TermDef {
    name: String,
    forms: Vec<String>,
    skills: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StackFile {
    term: Vec<Spanned<RawTerm>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    skills: Vec<String>,
}

impl Vocabulary {
    /// How many terms it has.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The vocabulary of a bank folder (`DIR/stack.toml`) when it has one, else the built-in one;
    /// checked against the bank's skills.
    pub fn for_bank(bank: &Bank, bank_dir: Option<&Path>) -> Result<Self, ProfileError> {
        match bank_dir.map(|d| d.join("stack.toml")).filter(|p| p.is_file()) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| ProfileError::Read {
                    path: path.display().to_string(),
                    why: e.to_string(),
                })?;
                Self::parse(&path.display().to_string(), &text, bank)
            }
            None => Self::parse("bank/stack.toml", BUILTIN_STACK, bank),
        }
    }

    pub fn parse(file: &str, text: &str, bank: &Bank) -> Result<Self, ProfileError> {
        let issue = |offset: usize, message: String| BankIssue {
            file: file.to_string(),
            line: text[..offset.min(text.len())].matches('\n').count() + 1,
            message,
        };
        let raw: StackFile = toml::from_str(text).map_err(|e| {
            ProfileError::Vocabulary(vec![issue(e.span().map_or(0, |s| s.start), e.message().to_string())])
        })?;
        let mut issues = Vec::new();
        let mut terms = Vec::new();
        for t in raw.term {
            let at = t.span().start;
            let t = t.into_inner();
            for s in &t.skills {
                if bank.skill(s).is_none() {
                    issues.push(issue(at, format!("term {:?}: unknown skill {s:?}", t.name)));
                }
            }
            if t.skills.is_empty() {
                issues.push(issue(at, format!("term {:?} points to no skill", t.name)));
            }
            let mut forms: Vec<String> = std::iter::once(&t.name)
                .chain(&t.aliases)
                .map(|f| f.trim().to_lowercase())
                .filter(|f| !f.is_empty())
                .collect();
            forms.sort();
            forms.dedup();
            terms.push(TermDef {
                name: t.name,
                forms,
                skills: t.skills,
            });
        }
        if issues.is_empty() {
            Ok(Self { terms })
        } else {
            Err(ProfileError::Vocabulary(issues))
        }
    }
}

/// A CV or job description, read as text.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The file's name, for the report.
    pub file: String,
    pub text: String,
}

/// Reads a plain-text or Markdown file; a PDF, a binary or an empty file is refused with what to do.
pub fn read_doc(path: &Path) -> Result<Doc, ProfileError> {
    let shown = path.display().to_string();
    let read_err = |why: String| ProfileError::Read {
        path: shown.clone(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| read_err(e.to_string()))?;
    if meta.len() > MAX_DOC_BYTES {
        return Err(ProfileError::TooLarge {
            path: shown,
            kb: meta.len() / 1024,
            max_kb: MAX_DOC_BYTES / 1024,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| read_err(e.to_string()))?;
    if bytes.starts_with(b"%PDF") || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
        return Err(ProfileError::Pdf { path: shown });
    }
    let text = String::from_utf8(bytes).map_err(|e| ProfileError::NotText {
        path: shown.clone(),
        why: format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()),
    })?;
    if text.contains('\0') {
        return Err(ProfileError::NotText {
            path: shown,
            why: "it holds binary data".into(),
        });
    }
    if text.trim().is_empty() {
        return Err(ProfileError::Empty { path: shown });
    }
    Ok(Doc {
        file: path
            .file_name()
            .map_or(shown.clone(), |n| n.to_string_lossy().to_string()),
        text,
    })
}

/// What the CV and job description shaped, recorded with the interview (so a resume plans the same).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tailoring {
    /// "CV (cv.md)", "job description (job.txt)".
    pub sources: Vec<String>,
    /// Terms found, most weighty first.
    pub terms: Vec<FoundTerm>,
    /// Skills the terms point to, with how much (mentions, the job's counting 1.5×), most first.
    pub skills: Vec<SkillWeight>,
    /// The item on the CV the interview asks about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience: Option<Experience>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundTerm {
    pub name: String,
    /// The spellings that count, lower case (for preferring questions that mention the term).
    pub forms: Vec<String>,
    pub skills: Vec<String>,
    pub in_cv: u32,
    pub in_job: u32,
    /// The forms the documents used, when they named the term another way ("docker" for Kubernetes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub said: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillWeight {
    pub skill: String,
    pub weight: f64,
    /// The terms behind it.
    pub because: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experience {
    pub term: String,
    /// The CV's line that names it.
    pub quote: String,
    /// The question as asked.
    pub text: String,
    pub skills: Vec<String>,
    pub forms: Vec<String>,
}

impl Tailoring {
    /// How many times (0–1, relative to the strongest skill) the documents point to `skill`.
    pub fn share(&self, skill: &str) -> f64 {
        let top = self.skills.first().map_or(0.0, |s| s.weight);
        if top <= 0.0 {
            return 0.0;
        }
        self.skills
            .iter()
            .find(|s| s.skill == skill)
            .map_or(0.0, |s| s.weight / top)
    }

    /// The found term a text mentions (whole words, any case), if any: the first in weight order.
    pub fn mentioned_in(&self, text: &str) -> Option<&FoundTerm> {
        let lower = text.to_lowercase();
        self.terms
            .iter()
            .find(|t| t.forms.iter().any(|f| !mentions(&lower, f).is_empty()))
    }

    /// One line for the user: what was found and where it will show.
    pub fn summary(&self) -> String {
        let names: Vec<&str> = self.terms.iter().take(8).map(|t| t.name.as_str()).collect();
        if names.is_empty() {
            return format!(
                "Read {}: no technology from the vocabulary (bank/stack.toml) found, so the plan is the role's usual one.",
                self.sources.join(" and ")
            );
        }
        format!(
            "Read {}: found {}{}.",
            self.sources.join(" and "),
            names.join(", "),
            if self.terms.len() > names.len() {
                format!(" and {} more", self.terms.len() - names.len())
            } else {
                String::new()
            }
        )
    }
}

/// What was read and where it goes, said before the interview starts: the files stay on this machine;
/// with an LLM configured, it sees the technology names found and the CV line the interview quotes.
pub fn privacy_note(t: &Tailoring, llm_url: Option<&str>) -> String {
    let mut s = t.summary();
    match llm_url {
        None => s.push_str(" The files were read on this machine and are not sent anywhere."),
        Some(url) => s.push_str(&format!(
            " The files stay on this machine; the LLM at {url} sees the technology names found{} in its prompts.",
            if t.experience.is_some() {
                " and the CV line quoted in the experience question"
            } else {
                ""
            }
        )),
    }
    s
}

/// Where `form` occurs in `lower` as whole words (both lower case): byte offsets.
fn mentions(lower: &str, form: &str) -> Vec<usize> {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(form) {
        let start = from + i;
        let end = start + form.len();
        if boundary(lower[..start].chars().next_back()) && boundary(lower[end..].chars().next()) {
            found.push(start);
        }
        from = end;
    }
    found
}

/// How often `form` occurs in `lower` as whole words (both lower case).
pub fn count_mentions(lower: &str, form: &str) -> u32 {
    mentions(lower, form).len() as u32
}

/// The line of `text` around byte `at`, without Markdown bullets or headings, at most 160 characters.
fn line_around(text: &str, at: usize) -> String {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = text[start..end]
        .trim()
        .trim_start_matches(['-', '*', '#', '>', '•', ' '])
        .trim();
    crate::text::one_line(line, 160)
}

/// The terms in the documents, the skills they point to, and the CV item to ask about. Deterministic.
pub fn tailor(vocab: &Vocabulary, cv: Option<&Doc>, job: Option<&Doc>) -> Tailoring {
    let lower = |d: Option<&Doc>| d.map(|d| d.text.to_lowercase()).unwrap_or_default();
    let (cv_l, job_l) = (lower(cv), lower(job));
    let mut terms: Vec<FoundTerm> = vocab
        .terms
        .iter()
        .filter_map(|t| {
            let count = |text: &str| {
                t.forms
                    .iter()
                    .map(|f| count_mentions(text, f))
                    .max()
                    .unwrap_or(0)
                    .min(MAX_MENTIONS)
            };
            let (in_cv, in_job) = (count(&cv_l), count(&job_l));
            let name = t.name.to_lowercase();
            let said: Vec<String> = t
                .forms
                .iter()
                .filter(|f| count_mentions(&cv_l, f) + count_mentions(&job_l, f) > 0)
                .cloned()
                .collect();
            (in_cv + in_job > 0).then(|| FoundTerm {
                name: t.name.clone(),
                forms: t.forms.clone(),
                skills: t.skills.clone(),
                in_cv,
                in_job,
                // "kafka" for Apache Kafka is the name; "docker" for Kubernetes is not.
                said: if said.iter().any(|f| name.contains(f.as_str())) {
                    Vec::new()
                } else {
                    said
                },
            })
        })
        .collect();
    let weight = |t: &FoundTerm| f64::from(t.in_cv) + JOB_WEIGHT * f64::from(t.in_job);
    terms.sort_by(|a, b| weight(b).total_cmp(&weight(a)).then(a.name.cmp(&b.name)));
    let mut by_skill: BTreeMap<&str, (f64, Vec<String>)> = BTreeMap::new();
    for t in &terms {
        for s in &t.skills {
            let e = by_skill.entry(s.as_str()).or_default();
            e.0 += weight(t);
            e.1.push(t.name.clone());
        }
    }
    let mut skills: Vec<SkillWeight> = by_skill
        .into_iter()
        .map(|(skill, (weight, because))| SkillWeight {
            skill: skill.to_string(),
            weight,
            because,
        })
        .collect();
    skills.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.skill.cmp(&b.skill)));
    let experience = cv.and_then(|cv| experience(&terms, cv, &cv_l));
    let mut sources = Vec::new();
    if let Some(d) = cv {
        sources.push(format!("CV ({})", d.file));
    }
    if let Some(d) = job {
        sources.push(format!("job description ({})", d.file));
    }
    Tailoring {
        sources,
        terms,
        skills,
        experience,
    }
}

/// The CV item to ask about: the term the CV names that the job also wants, else the CV's most named.
fn experience(terms: &[FoundTerm], cv: &Doc, cv_l: &str) -> Option<Experience> {
    let t = terms
        .iter()
        .filter(|t| t.in_cv > 0)
        .max_by_key(|t| (t.in_job > 0, t.in_cv, std::cmp::Reverse(t.name.clone())))?;
    let at = t
        .forms
        .iter()
        .filter_map(|f| mentions(cv_l, f).first().copied())
        .min()?;
    // Lower-casing can change byte lengths for some scripts; fall back to the term's name alone then.
    let quote = if cv_l.len() == cv.text.len() {
        line_around(&cv.text, at)
    } else {
        t.name.clone()
    };
    let text = format!(
        "Your CV mentions {}: \"{quote}\". Tell me about that work: what you built and why, the hardest problem \
         you hit, and what you would do differently now.",
        t.name
    );
    Some(Experience {
        term: t.name.clone(),
        quote,
        text,
        skills: t.skills.clone(),
        forms: t.forms.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Doc {
        Doc {
            file: "cv.md".into(),
            text: text.into(),
        }
    }

    #[test]
    fn whole_words_only() {
        assert_eq!(count_mentions("spark sql and pyspark, spark.", "spark"), 2);
        assert_eq!(count_mentions("it sparked interest", "spark"), 0);
        assert_eq!(count_mentions("ci/cd with github actions", "ci/cd"), 1);
        assert_eq!(count_mentions("dbt-core", "dbt"), 1);
    }

    #[test]
    fn terms_skills_and_the_experience_item() {
        let bank = Bank::builtin().unwrap();
        let vocab = Vocabulary::for_bank(&bank, None).unwrap();
        let cv = doc(
            "# Jane\n- Built a Kafka clickstream pipeline into Snowflake (2B events a day)\n\
                      - Airflow DAGs and dbt models for finance\n- Kafka Connect, Debezium CDC from Postgres\n",
        );
        let job = doc("We run Kafka and Flink for streaming and Snowflake for analytics. dbt is a plus.");
        let t = tailor(&vocab, Some(&cv), Some(&job));
        assert_eq!(t.terms[0].name, "Apache Kafka", "{:?}", t.terms);
        assert_eq!(t.skills[0].skill, "streaming", "{:?}", t.skills);
        assert!((t.share("streaming") - 1.0).abs() < 1e-9);
        assert_eq!(t.share("git"), 0.0);
        let e = t.experience.as_ref().unwrap();
        assert_eq!(e.term, "Apache Kafka");
        assert_eq!(
            e.quote,
            "Built a Kafka clickstream pipeline into Snowflake (2B events a day)"
        );
        assert!(e.text.starts_with("Your CV mentions Apache Kafka: \"Built a Kafka"));
        assert_eq!(t.sources, vec!["CV (cv.md)", "job description (cv.md)"]);
        // The same documents give the same tailoring.
        assert_eq!(t, tailor(&vocab, Some(&cv), Some(&job)));
        assert!(t.terms[0].said.is_empty(), "kafka is Apache Kafka's own name");
        // A word the bank groups under another name is shown as said ("docker" under Kubernetes).
        let docker = tailor(&vocab, Some(&doc("- Packaged the jobs with Docker.\n")), None);
        let k8s = docker.terms.iter().find(|t| t.name == "Kubernetes").unwrap();
        assert_eq!(k8s.said, ["docker"]);
        // A job description alone weights skills but has no CV item to ask about.
        assert!(tailor(&vocab, None, Some(&job)).experience.is_none());
    }

    #[test]
    fn vocabulary_errors_name_the_line() {
        let bank = Bank::builtin().unwrap();
        let bad = "[[term]]\nname = \"X\"\nskills = [\"spark\"]\n\n[[term]]\nname = \"Y\"\nskills = [\"nope\"]\n";
        let e = Vocabulary::parse("stack.toml", bad, &bank).unwrap_err().to_string();
        assert!(
            e.contains("stack.toml:5") && e.contains("unknown skill \"nope\""),
            "{e}"
        );
    }

    #[test]
    fn documents_that_are_not_text_are_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("cv.pdf");
        std::fs::write(&pdf, b"%PDF-1.7 ...").unwrap();
        assert!(read_doc(&pdf).unwrap_err().to_string().contains("pdftotext"));
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, "  \n").unwrap();
        assert!(read_doc(&empty).unwrap_err().to_string().contains("is empty"));
        let latin1 = dir.path().join("cv.txt");
        std::fs::write(&latin1, b"Caf\xe9 data engineer").unwrap();
        assert!(read_doc(&latin1).unwrap_err().to_string().contains("UTF-8"));
        assert!(read_doc(&dir.path().join("missing.md")).is_err());
    }
}
