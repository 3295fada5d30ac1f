"""scikit-learn peer for bench/eval.ts: one fit, stratified k-fold cross-validation run in parallel
(cross_val_predict, n_jobs = cores), and classification_report timed on intentops' own predictions.

Reads one JSON request on stdin:
  {"train": "path/train.jsonl", "folds": 5, "seed": 42, "jobs": 2, "predictions": "path/preds.json" | null}
Prints one JSON object. Runs under Debian's /usr/bin/python3 (python3-sklearn).
"""
import json
import resource
import sys
import time

import sklearn
from sklearn.metrics import classification_report
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC


def pipeline():
    # The feature set intentops' default pipeline is modelled on: word 1-2 and char_wb 2-5 TF-IDF, linear SVM.
    return make_pipeline(
        FeatureUnion(
            [
                ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
            ]
        ),
        LinearSVC(C=1.0),
    )


def main():
    req = json.load(sys.stdin)
    rows = [json.loads(line) for line in open(req["train"], encoding="utf8") if line.strip()]
    texts = [r["text"] for r in rows]
    labels = [r["intent"] for r in rows]
    out = {"system": f"scikit-learn {sklearn.__version__} TF-IDF word+char_wb → LinearSVC", "examples": len(rows)}

    t0 = time.perf_counter()
    pipeline().fit(texts, labels)
    out["trainMs"] = (time.perf_counter() - t0) * 1000

    cv = StratifiedKFold(n_splits=req["folds"], shuffle=True, random_state=req["seed"])
    t0 = time.perf_counter()
    pred = cross_val_predict(pipeline(), texts, labels, cv=cv, n_jobs=req["jobs"])
    out["cvMs"] = (time.perf_counter() - t0) * 1000
    rep = classification_report(labels, pred, output_dict=True, zero_division=0)
    out["cvMacroF1"] = rep["macro avg"]["f1-score"]
    out["cvAccuracy"] = rep["accuracy"]

    if req.get("predictions"):
        p = json.load(open(req["predictions"], encoding="utf8"))
        t0 = time.perf_counter()
        ours = classification_report(p["gold"], p["predicted"], labels=p["labels"], output_dict=True, zero_division=0)
        out["reportMs"] = (time.perf_counter() - t0) * 1000
        out["reportMacroF1OnIntentopsPredictions"] = ours["macro avg"]["f1-score"]
        out["reportWeightedF1OnIntentopsPredictions"] = ours["weighted avg"]["f1-score"]

    # ru_maxrss is in KiB on Linux; children covers the joblib workers
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out["peakRssMb"] = self_kb / 1024
    out["peakRssChildrenMb"] = child_kb / 1024
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
