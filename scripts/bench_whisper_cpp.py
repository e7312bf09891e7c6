"""The whisper.cpp anchor for scripts/bench-listening: pywhispercpp (whisper.cpp 1.8.5 in a PyPI wheel) on the
very ggml file DataReady installed, with the same thread count and decoding settings as DataReady's
`Whisper::transcribe` (greedy with one candidate, also on the temperature fallback whisper.cpp and DataReady
share; English, no context, blank suppression, and the encoder window shrunk to the audio for clips under
10 s). pywhispercpp's own default of 5 candidates per fallback would make it look up to 15x slower. Audio is resampled to 16 kHz before the clock starts, as in the Rust bench.

Usage: bench_whisper_cpp.py MODEL.bin THREADS CLIP.wav...  -> one JSON line per clip.
"""
import json, sys, time, wave

import numpy as np
from pywhispercpp.model import Model

model_file, threads = sys.argv[1], int(sys.argv[2])
model = Model(model_file, n_threads=threads, print_progress=False, print_realtime=False,
              redirect_whispercpp_logs_to=None)


def load_16k(path):
    w = wave.open(path)
    raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    if w.getnchannels() > 1:
        raw = raw.reshape(-1, w.getnchannels()).mean(axis=1)
    rate = w.getframerate()
    n = int(len(raw) * 16000 / rate)
    return np.interp(np.arange(n) * rate / 16000, np.arange(len(raw)), raw).astype(np.float32)


def params(samples):
    p = dict(language="en", greedy={"best_of": 1}, no_context=True, suppress_blank=True, no_speech_thold=0.6, single_segment=False)
    secs = len(samples) / 16000
    if secs < 10:
        p["audio_ctx"] = max(250, min(1500, int((secs + 1) * 50)))
    return p


clips = [(c, load_16k(c)) for c in sys.argv[3:]]
model.transcribe(clips[0][1], **params(clips[0][1]))  # warm-up, as in the Rust bench
for clip, samples in clips:
    t = time.perf_counter()
    segments = model.transcribe(samples, **params(samples))
    ms = round((time.perf_counter() - t) * 1000)
    print(json.dumps({"clip": clip, "ms": ms, "text": " ".join(s.text.strip() for s in segments)}), flush=True)
