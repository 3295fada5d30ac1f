"""The peer side of the NLU benchmark protocol, shared by the Python peers.

A peer reads one JSON request on stdin, trains on the train split, writes its model file into the request's work
directory, predicts the valid split (untimed, doubling as warm-up) and then every test message one at a time,
timing each call, and prints one JSON result on stdout. Progress goes to stderr as `progress {json}` lines.
Metrics are never computed here: the orchestrator computes them from the predictions, identically for every system.
"""

import json
import os
import resource
import sys
import time


def read_request():
    return json.load(sys.stdin)


def read_split(path):
    """Texts and intents of one JSONL split. The orchestrator has validated the file already."""
    texts, intents = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            texts.append(row["text"])
            intents.append(row["intent"])
    return texts, intents


def progress(phase, done=None, total=None):
    event = {"phase": phase}
    if done is not None:
        event["done"] = done
    if total is not None:
        event["total"] = total
    sys.stderr.write("progress " + json.dumps(event) + "\n")
    sys.stderr.flush()


def timed_fit(fit):
    """Wall time of `fit()` in milliseconds, on the monotonic clock."""
    start = time.perf_counter_ns()
    fit()
    return (time.perf_counter_ns() - start) / 1e6


def predict_untimed(predict_one, texts, phase):
    out = []
    for i, text in enumerate(texts):
        out.append(predict_one(text))
        if (i + 1) % 500 == 0:
            progress(phase, i + 1, len(texts))
    return out


def predict_timed(predict_one, texts):
    """Predict one message at a time, as a service does, and time each call in-process."""
    preds, latencies = [], []
    clock = time.perf_counter_ns
    for i, text in enumerate(texts):
        start = clock()
        pred = predict_one(text)
        latencies.append((clock() - start) / 1e6)
        preds.append(pred)
        if (i + 1) % 500 == 0:
            progress("test", i + 1, len(texts))
    return preds, latencies


def warm_up(predict_one, texts, n):
    for text in texts[:n]:
        predict_one(text)


def peak_rss_bytes():
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def file_size(path):
    return os.path.getsize(path)


def emit(result):
    result["peakRssBytes"] = peak_rss_bytes()
    sys.stdout.write(json.dumps(result))
    sys.stdout.write("\n")
    sys.stdout.flush()


def prediction(label, confidence):
    return {"label": label, "confidence": None if confidence is None else float(confidence)}
