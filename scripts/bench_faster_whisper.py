"""The anchor for scripts/bench-listening: faster-whisper on the same clips, model size and threads, with the
decoding policy DataReady's whisper.cpp settings use: greedy, one candidate, and the temperature fallback
(0.0, 0.2, ... 1.0 when the log-probability or compression-ratio check fails), no previous-text context.

Usage: bench_faster_whisper.py MODEL_DIR THREADS COMPUTE_TYPE CLIP.wav...  -> one JSON line per clip.
"""
import json, os, sys, time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from faster_whisper import WhisperModel  # noqa: E402

model_dir, threads, compute = sys.argv[1], int(sys.argv[2]), sys.argv[3]
model = WhisperModel(model_dir, device="cpu", cpu_threads=threads, compute_type=compute)
for clip in sys.argv[4:]:
    t = time.perf_counter()
    segments, _ = model.transcribe(clip, language="en", beam_size=1, best_of=1,
                                   temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
                                   condition_on_previous_text=False, vad_filter=False)
    text = " ".join(s.text.strip() for s in segments)
    print(json.dumps({"clip": clip, "ms": round((time.perf_counter() - t) * 1000), "text": text}), flush=True)
