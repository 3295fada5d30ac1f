"""fastText peer: supervised classifier through the Python binding of the C++ library, predicting in-process.

Settings follow fastText's own text-classification tutorial (lr 1.0, 25 epochs, word bigrams, 200k hash buckets)
with its recommended preprocessing (lower-case, punctuation split off as tokens). Training uses one thread so that a
seed gives the same model every run (fastText's threads update the weights without locks, so several threads make
every run different). Confidences are the softmax probability of the top label.
"""

import os
import random
import re
from importlib.metadata import version

import fasttext

import peer_common as pc

PUNCT = re.compile(r"([^\w\s])", re.UNICODE)
SPACES = re.compile(r"\s+", re.UNICODE)


def normalize(text):
    # fastText splits on whitespace only, and its predict refuses newlines.
    return SPACES.sub(" ", PUNCT.sub(r" \1 ", text.lower())).strip()


def main():
    req = pc.read_request()
    options = req.get("options") or {}
    train_x, train_y = pc.read_split(req["train"])
    valid_x = pc.read_split(req["valid"])[0] if req.get("valid") else None
    test_x = pc.read_split(req["test"])[0]

    # Labels become indices so that any intent name (spaces included) survives the __label__ format.
    labels = sorted(set(train_y))
    index = {label: i for i, label in enumerate(labels)}
    # fastText reads its file in order with a decaying learning rate: a file grouped by intent (as most are)
    # leaves it fitted to the last intents, so the lines are shuffled with the seed first.
    lines = [f"__label__{index[label]} {normalize(text)}\n" for text, label in zip(train_x, train_y)]
    random.Random(int(req["seed"])).shuffle(lines)
    train_file = os.path.join(req["workDir"], "train.txt")
    with open(train_file, "w", encoding="utf-8") as f:
        f.writelines(lines)

    settings = {
        "lr": float(options.get("lr", 1.0)),
        "epoch": int(options.get("epoch", 25)),
        "wordNgrams": int(options.get("wordNgrams", 2)),
        "dim": int(options.get("dim", 100)),
        "bucket": int(options.get("bucket", 200000)),
        "minCount": 1,
        "loss": "softmax",
        "thread": int(options.get("thread", 1)),
        "seed": int(req["seed"]),
        "verbose": 0,
    }
    pc.progress("train")
    holder = {}
    train_ms = pc.timed_fit(lambda: holder.setdefault("model", fasttext.train_supervised(input=train_file, **settings)))
    model = holder["model"]
    model_path = os.path.join(req["workDir"], "model.bin")
    model.save_model(model_path)
    os.remove(train_file)

    prefix = len("__label__")

    def predict_one(text):
        got, probs = model.predict(normalize(text), k=1)
        return pc.prediction(labels[int(got[0][prefix:])], min(1.0, float(probs[0])))

    valid = pc.predict_untimed(predict_one, valid_x, "valid") if valid_x is not None else None
    pc.warm_up(predict_one, train_x, int(req.get("warmup", 200)))
    test, latencies = pc.predict_timed(predict_one, test_x)

    pc.emit(
        {
            "version": f"fastText {version('fasttext')}",
            "settings": {**settings, "preprocessing": "lower-case, punctuation split off"},
            "trainMs": train_ms,
            "modelBytes": pc.file_size(model_path),
            "latencyMs": latencies,
            "test": test,
            "valid": valid,
        }
    )


if __name__ == "__main__":
    main()
