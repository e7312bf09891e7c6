"""Python piper-tts on the same voice and lines as benches/voice.rs: prints one JSON object of timings.

Usage: python piper_reference.py MODEL.onnx LINES.txt
"""

import json
import sys
import time

t = time.perf_counter()
from piper import PiperVoice  # noqa: E402

voice = PiperVoice.load(sys.argv[1])
load = time.perf_counter() - t
lines = [l.strip() for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
for _ in voice.synthesize("Hello."):  # warm-up, as the Rust side does at load
    pass
out = []
for line in lines:
    t0 = time.perf_counter()
    first = None
    samples = 0
    for chunk in voice.synthesize(line):
        if first is None:
            first = time.perf_counter() - t0
        samples += len(chunk.audio_float_array)
    out.append({"first": first, "total": time.perf_counter() - t0, "audio": samples / voice.config.sample_rate})
print(json.dumps({"load": load, "lines": out}))
