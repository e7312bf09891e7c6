//! Where the LLM is and how to use it: flags, then environment variables, then the config file,
//! over a preset's defaults (Databricks, Gemini, Ollama, llama.cpp, or a plain base URL).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::settings::{ClientSettings, Secret};

/// How much of the interview the LLM runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmMode {
    /// Offline only: bank questions, rubric grading.
    #[default]
    Off,
    /// LLM grading (the offline grade is kept beside it).
    Grade,
    /// LLM questions, follow-ups and grading.
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Databricks model serving: DATABRICKS_HOST + DATABRICKS_TOKEN
    Databricks,
    /// Gemini's OpenAI-compatible endpoint: GEMINI_API_KEY
    Gemini,
    /// Ollama on this machine (no key)
    Ollama,
    /// llama.cpp's server on this machine (no key)
    Llamacpp,
    /// Any OpenAI-compatible base URL (+ key): DATAREADY_LLM_URL, DATAREADY_LLM_KEY
    Openai,
}

/// What the user asked for on the command line (`--llm*`); unset fields fall back to the environment,
/// then the config file, then the preset.
#[derive(Debug, Clone, Default)]
pub struct LlmOptions {
    pub llm: Option<LlmMode>,
    pub llm_preset: Option<Preset>,
    pub llm_url: Option<String>,
    pub llm_model: Option<String>,
    pub llm_fast_model: Option<String>,
    pub llm_budget: Option<Duration>,
    /// Longest wait for one deep (LLM) grade before the offline grade stands.
    pub llm_grade_limit: Option<Duration>,
    pub prompts: Option<PathBuf>,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::Databricks,
        Preset::Gemini,
        Preset::Ollama,
        Preset::Llamacpp,
        Preset::Openai,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Databricks => "databricks",
            Preset::Gemini => "gemini",
            Preset::Ollama => "ollama",
            Preset::Llamacpp => "llamacpp",
            Preset::Openai => "openai",
        }
    }

    /// A preset by name, ignoring case.
    pub fn parse(s: &str) -> Option<Preset> {
        Self::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// The `[llm]` table of the config file (`$DATAREADY_CONFIG` or `~/.config/dataready/config.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub mode: Option<LlmMode>,
    pub preset: Option<Preset>,
    pub url: Option<String>,
    /// A key in the file itself (keep the file private), or better the name of a variable holding it.
    pub key: Option<String>,
    pub key_env: Option<String>,
    pub model: Option<String>,
    pub fast_model: Option<String>,
    pub budget: Option<String>,
    pub grade_limit: Option<String>,
    pub connect_timeout: Option<String>,
    pub retries: Option<u32>,
    pub concurrency: Option<usize>,
    pub json_schema: Option<bool>,
    pub prompts: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct FileRoot {
    #[serde(default)]
    llm: Option<FileConfig>,
}

/// A resolved LLM setup: everything needed to talk to the endpoint.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub mode: LlmMode,
    pub preset: Preset,
    pub base_url: String,
    pub key: Option<Secret>,
    /// Where the key came from (a variable's name, "config file"), for `doctor`.
    pub key_source: Option<String>,
    pub deep_model: String,
    pub fast_model: String,
    /// Longest wait for a step on the interview's critical path (a question, a follow-up decision).
    pub budget: Duration,
    /// Longest wait for one deep grade, which runs off the critical path (in the background during an
    /// interview; scripted runs and `grade --file` wait for it).
    pub grade_limit: Duration,
    pub client: ClientSettings,
    pub prompts: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Missing(String),
    #[error("{path}: {why}")]
    File { path: String, why: String },
    #[error("{what} {value:?} is not a duration such as 8s or 1500ms")]
    Duration { what: String, value: String },
}

pub const DEFAULT_BUDGET: Duration = Duration::from_secs(8);
/// Default limit for one deep grade: thinking models take 10–30 s, small local ones longer.
pub const DEFAULT_GRADE_LIMIT: Duration = Duration::from_secs(120);

/// The config file's location: `$DATAREADY_CONFIG`, else `$XDG_CONFIG_HOME/dataready/config.toml`.
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = env("DATAREADY_CONFIG") {
        return Some(PathBuf::from(p));
    }
    directories::BaseDirs::new().map(|d| d.config_dir().join("dataready").join("config.toml"))
}

/// Reads the `[llm]` table; a missing file is an empty one.
pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) => {
            return Err(ConfigError::File {
                path: path.display().to_string(),
                why: e.to_string(),
            });
        }
    };
    let root: FileRoot = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| text[..s.start].matches('\n').count() + 1);
        ConfigError::File {
            path: format!("{}:{line}", path.display()),
            why: e.message().to_string(),
        }
    })?;
    Ok(root.llm.unwrap_or_default())
}

fn duration(what: &str, value: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value.trim()).map_err(|_| ConfigError::Duration {
        what: what.into(),
        value: value.into(),
    })
}

/// A duration from the flag, else the environment variable `var`, else the file's key; `None` when unset.
fn duration_setting(
    flag: Option<Duration>,
    env: &dyn Fn(&str) -> Option<String>,
    var: &str,
    (file, key): (&Option<String>, &str),
) -> Result<Option<Duration>, ConfigError> {
    if flag.is_some() {
        return Ok(flag);
    }
    match (env(var), file) {
        (Some(v), _) => duration(var, &v).map(Some),
        (None, Some(v)) => duration(key, v).map(Some),
        (None, None) => Ok(None),
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Resolves flags over environment over file. `None` when the LLM is off.
pub fn resolve(
    args: &LlmOptions,
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileConfig,
) -> Result<Option<LlmConfig>, ConfigError> {
    let env = |k: &str| non_empty(env(k));
    let mode = resolve_mode(args, &env, file)?;
    if mode == LlmMode::Off {
        return Ok(None);
    }
    let preset = resolve_preset(args, &env, file)?;
    let pick = |flag: &Option<String>, var: &str, file: &Option<String>| {
        non_empty(flag.clone())
            .or_else(|| env(var))
            .or_else(|| non_empty(file.clone()))
    };
    let defaults = PresetDefaults::of(preset, &env);
    let base_url = pick(&args.llm_url, "DATAREADY_LLM_URL", &file.url)
        .or(defaults.url)
        .ok_or_else(|| {
            ConfigError::Missing(match preset {
                Preset::Databricks => {
                    "the databricks preset needs DATABRICKS_HOST (your workspace URL) and DATABRICKS_TOKEN".into()
                }
                _ => "no LLM endpoint: pass --llm-url URL or set DATAREADY_LLM_URL".into(),
            })
        })?;
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(ConfigError::Missing(format!(
            "the LLM URL {base_url:?} must start with http:// or https://"
        )));
    }
    let (key, key_source) = resolve_key(preset, defaults.key_vars, &env, file)?;
    let deep_model = pick(&args.llm_model, "DATAREADY_LLM_MODEL", &file.model).unwrap_or_else(|| defaults.deep.into());
    let fast_model = pick(&args.llm_fast_model, "DATAREADY_LLM_FAST_MODEL", &file.fast_model)
        .or_else(|| defaults.fast.map(String::from))
        .unwrap_or_else(|| deep_model.clone());
    let budget = duration_setting(args.llm_budget, &env, "DATAREADY_LLM_BUDGET", (&file.budget, "budget"))?
        .unwrap_or(DEFAULT_BUDGET);
    let grade_limit = duration_setting(
        args.llm_grade_limit,
        &env,
        "DATAREADY_LLM_GRADE_LIMIT",
        (&file.grade_limit, "grade_limit"),
    )?
    .unwrap_or(DEFAULT_GRADE_LIMIT)
    .max(budget);
    let client = client_settings(file, budget, is_local(preset, &base_url))?;
    let prompts = args
        .prompts
        .clone()
        .or_else(|| env("DATAREADY_PROMPTS").map(PathBuf::from))
        .or_else(|| file.prompts.clone());
    Ok(Some(LlmConfig {
        mode,
        preset,
        base_url,
        key,
        key_source,
        deep_model,
        fast_model,
        budget,
        grade_limit,
        client,
        prompts,
    }))
}

/// `--llm`, then DATAREADY_LLM, then the file's `mode`.
fn resolve_mode(
    args: &LlmOptions,
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileConfig,
) -> Result<LlmMode, ConfigError> {
    if let Some(m) = args.llm {
        return Ok(m);
    }
    match env("DATAREADY_LLM") {
        Some(v) => match v.to_lowercase().as_str() {
            "off" | "0" | "false" | "no" => Ok(LlmMode::Off),
            "grade" => Ok(LlmMode::Grade),
            "full" | "on" | "1" | "true" | "yes" => Ok(LlmMode::Full),
            other => Err(ConfigError::Missing(format!(
                "DATAREADY_LLM={other:?} is not one of off, grade, full"
            ))),
        },
        None => Ok(file.mode.unwrap_or_default()),
    }
}

/// `--llm-preset`, DATAREADY_LLM_PRESET, the file's `preset`; else guessed from what is set (a URL, a
/// Databricks host, a Gemini key), else llama.cpp on this machine.
fn resolve_preset(
    args: &LlmOptions,
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileConfig,
) -> Result<Preset, ConfigError> {
    if let Some(p) = args.llm_preset {
        return Ok(p);
    }
    if let Some(v) = env("DATAREADY_LLM_PRESET") {
        return Preset::parse(&v).ok_or_else(|| {
            ConfigError::Missing(format!(
                "DATAREADY_LLM_PRESET={v:?} is not one of databricks, gemini, ollama, llamacpp, openai"
            ))
        });
    }
    Ok(match file.preset {
        Some(p) => p,
        None if args.llm_url.is_some() || env("DATAREADY_LLM_URL").is_some() || file.url.is_some() => Preset::Openai,
        None if env("DATABRICKS_HOST").is_some() => Preset::Databricks,
        None if env("GEMINI_API_KEY").is_some() => Preset::Gemini,
        None => Preset::Llamacpp,
    })
}

/// A preset's endpoint, key variables and model defaults.
struct PresetDefaults {
    url: Option<String>,
    key_vars: &'static [&'static str],
    deep: &'static str,
    fast: Option<&'static str>,
}

impl PresetDefaults {
    fn of(preset: Preset, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let (url, key_vars, deep, fast): (
            Option<String>,
            &'static [&'static str],
            &'static str,
            Option<&'static str>,
        ) = match preset {
            Preset::Databricks => (
                env("DATABRICKS_HOST").map(|h| {
                    let h = h.trim_end_matches('/');
                    let h = if h.starts_with("http") {
                        h.to_string()
                    } else {
                        format!("https://{h}")
                    };
                    format!("{h}/serving-endpoints")
                }),
                &["DATABRICKS_TOKEN"],
                "databricks-gemini-2-5-pro",
                Some("databricks-gemini-2-5-flash"),
            ),
            Preset::Gemini => (
                Some("https://generativelanguage.googleapis.com/v1beta/openai".into()),
                &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
                "gemini-2.5-pro",
                Some("gemini-2.5-flash"),
            ),
            Preset::Ollama => (Some("http://127.0.0.1:11434/v1".into()), &[], "llama3.1", None),
            Preset::Llamacpp => (Some("http://127.0.0.1:8080/v1".into()), &[], "local", None),
            Preset::Openai => (None, &["OPENAI_API_KEY"], "gpt-4o-mini", None),
        };
        Self {
            url,
            key_vars,
            deep,
            fast,
        }
    }
}

/// The key and where it came from: DATAREADY_LLM_KEY, the file's key_env variable, the file's key, then
/// the preset's variables. Hosted presets need one.
fn resolve_key(
    preset: Preset,
    key_vars: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileConfig,
) -> Result<(Option<Secret>, Option<String>), ConfigError> {
    let mut sources: Vec<(String, Option<String>)> = vec![("DATAREADY_LLM_KEY".into(), env("DATAREADY_LLM_KEY"))];
    if let Some(var) = &file.key_env {
        sources.push((var.clone(), env(var)));
    }
    sources.push(("config file".into(), non_empty(file.key.clone())));
    for var in key_vars {
        sources.push(((*var).into(), env(var)));
    }
    for (source, value) in sources {
        if let Some(secret) = value.and_then(Secret::new) {
            return Ok((Some(secret), Some(source)));
        }
    }
    if matches!(preset, Preset::Databricks | Preset::Gemini) {
        return Err(ConfigError::Missing(format!(
            "the {} preset needs a key: set {}",
            preset.name(),
            key_vars[0]
        )));
    }
    Ok((None, None))
}

/// A server on this machine (llama.cpp, Ollama, or any loopback URL): usually one request at a time.
fn is_local(preset: Preset, url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or(url);
    matches!(preset, Preset::Llamacpp | Preset::Ollama)
        || ["127.", "localhost", "[::1]", "0.0.0.0"]
            .iter()
            .any(|h| host.starts_with(h))
}

/// Connection limits from the file, the connect timeout never longer than the step budget. Requests in
/// flight start at one for a local server (which usually serves one at a time) and at two for a hosted
/// one; either grows toward `concurrency` while replies stay fast and halves on timeouts and 429s.
fn client_settings(file: &FileConfig, budget: Duration, local: bool) -> Result<ClientSettings, ConfigError> {
    let mut client = ClientSettings::default();
    if let Some(v) = &file.connect_timeout {
        client.connect_timeout = duration("connect_timeout", v)?;
    }
    client.connect_timeout = client.connect_timeout.min(budget);
    if let Some(r) = file.retries {
        client.retries = r.min(10);
    }
    if local {
        client.concurrency = file.concurrency.unwrap_or(1).clamp(1, 64);
        client.initial_concurrency = 1;
    } else {
        client.concurrency = file.concurrency.unwrap_or(client.concurrency).clamp(1, 64);
        client.initial_concurrency = client.initial_concurrency.min(client.concurrency);
    }
    Ok(client)
}

/// Resolves from the real environment and config file.
pub fn from_env(args: &LlmOptions) -> Result<Option<LlmConfig>, ConfigError> {
    let env = |k: &str| std::env::var(k).ok();
    let file = match config_path(&env) {
        Some(p) => read_file(&p)?,
        None => FileConfig::default(),
    };
    resolve(args, &env, &file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn off_unless_asked() {
        assert!(
            resolve(&LlmOptions::default(), &env_of(&[]), &FileConfig::default())
                .unwrap()
                .is_none()
        );
        let args = LlmOptions {
            llm: Some(LlmMode::Off),
            ..Default::default()
        };
        let env = env_of(&[("DATAREADY_LLM", "full")]);
        assert!(
            resolve(&args, &env, &FileConfig::default()).unwrap().is_none(),
            "flag beats env"
        );
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file = FileConfig {
            mode: Some(LlmMode::Grade),
            url: Some("http://file:1/v1".into()),
            model: Some("file-model".into()),
            budget: Some("3s".into()),
            ..Default::default()
        };
        let c = resolve(&LlmOptions::default(), &env_of(&[]), &file).unwrap().unwrap();
        assert_eq!(
            (c.mode, c.base_url.as_str(), c.deep_model.as_str()),
            (LlmMode::Grade, "http://file:1/v1", "file-model")
        );
        assert_eq!(c.budget, Duration::from_secs(3));
        let env = env_of(&[
            ("DATAREADY_LLM_URL", "http://env:2/v1"),
            ("DATAREADY_LLM_BUDGET", "1500ms"),
        ]);
        let c = resolve(&LlmOptions::default(), &env, &file).unwrap().unwrap();
        assert_eq!(
            (c.base_url.as_str(), c.budget),
            ("http://env:2/v1", Duration::from_millis(1500))
        );
        let args = LlmOptions {
            llm: Some(LlmMode::Full),
            llm_url: Some("http://flag:3/v1".into()),
            ..Default::default()
        };
        let c = resolve(&args, &env, &file).unwrap().unwrap();
        assert_eq!(
            (c.mode, c.base_url.as_str(), c.fast_model.as_str()),
            (LlmMode::Full, "http://flag:3/v1", "file-model")
        );
    }

    #[test]
    fn presets() {
        let args = LlmOptions {
            llm: Some(LlmMode::Full),
            ..Default::default()
        };
        let env = env_of(&[
            ("DATABRICKS_HOST", "adb-123.azuredatabricks.net/"),
            ("DATABRICKS_TOKEN", "dapi0123456789abcdef"),
        ]);
        let c = resolve(&args, &env, &FileConfig::default()).unwrap().unwrap();
        assert_eq!(c.preset, Preset::Databricks);
        assert_eq!(c.base_url, "https://adb-123.azuredatabricks.net/serving-endpoints");
        assert_eq!(c.deep_model, "databricks-gemini-2-5-pro");
        assert_eq!(c.fast_model, "databricks-gemini-2-5-flash");
        assert_eq!(c.key.as_ref().unwrap().masked(), "****cdef");
        assert_eq!(c.key_source.as_deref(), Some("DATABRICKS_TOKEN"));
        assert!(!format!("{c:?}").contains("dapi0123"), "keys never print");

        let err = resolve(&args, &env_of(&[("DATABRICKS_HOST", "x")]), &FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains("DATABRICKS_TOKEN"), "{err}");

        let env = env_of(&[("GEMINI_API_KEY", "AIzaSyExampleKey1234")]);
        let c = resolve(&args, &env, &FileConfig::default()).unwrap().unwrap();
        assert_eq!(c.preset, Preset::Gemini);
        assert!(c.base_url.ends_with("/v1beta/openai"));

        let a = LlmOptions {
            llm: Some(LlmMode::Grade),
            llm_preset: Some(Preset::Ollama),
            ..Default::default()
        };
        let c = resolve(&a, &env_of(&[]), &FileConfig::default()).unwrap().unwrap();
        assert_eq!(
            (c.base_url.as_str(), c.key.is_none()),
            ("http://127.0.0.1:11434/v1", true)
        );
        let c = resolve(&args, &env_of(&[]), &FileConfig::default()).unwrap().unwrap();
        assert_eq!(
            (c.preset, c.base_url.as_str()),
            (Preset::Llamacpp, "http://127.0.0.1:8080/v1")
        );
    }

    #[test]
    fn bad_values_say_what_to_do() {
        let env = env_of(&[("DATAREADY_LLM", "maybe")]);
        assert!(resolve(&LlmOptions::default(), &env, &FileConfig::default()).is_err());
        let env = env_of(&[("DATAREADY_LLM", "full"), ("DATAREADY_LLM_BUDGET", "soon")]);
        let err = resolve(&LlmOptions::default(), &env, &FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains("8s"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "[llm]\nmode = \"full\"\nmodle = \"x\"\n").unwrap();
        let err = read_file(&p).unwrap_err().to_string();
        assert!(err.contains("config.toml:3"), "{err}");
    }
}
