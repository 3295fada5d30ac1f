"""scikit-learn peer: word 1-2 plus char_wb 2-5 TF-IDF (sublinear tf) with LinearSVC or LogisticRegression.

The feature settings are the classical strong baseline for short-text intent classification. The classifiers keep
scikit-learn's defaults (C=1) so nothing is tuned on any split; LogisticRegression gets enough iterations to
converge. LinearSVC has no probabilities, so its predictions carry no confidence and no fallback threshold is fitted
for it (its decision values are margins, not confidences). The model file is the fitted pipeline pickled, which is
how such a pipeline is deployed.
"""

import pickle
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

import peer_common as pc


def build(classifier, seed, options):
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)),
        ]
    )
    c = float(options.get("C", 1.0))
    if classifier == "linearsvc":
        clf = LinearSVC(C=c, random_state=seed)
    elif classifier == "logreg":
        clf = LogisticRegression(C=c, max_iter=int(options.get("maxIter", 1000)), random_state=seed)
    else:
        raise SystemExit(f"unknown classifier {classifier!r}: expected linearsvc or logreg")
    return Pipeline([("features", features), ("clf", clf)])


def main():
    classifier = sys.argv[1] if len(sys.argv) > 1 else "linearsvc"
    req = pc.read_request()
    options = req.get("options") or {}
    seed = int(req["seed"])
    train_x, train_y = pc.read_split(req["train"])
    valid_x = pc.read_split(req["valid"])[0] if req.get("valid") else None
    test_x = pc.read_split(req["test"])[0]

    model = build(classifier, seed, options)
    pc.progress("train")
    converged = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        train_ms = pc.timed_fit(lambda: model.fit(train_x, train_y))
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    # lbfgs leaves LogisticRegression's weights as a strided view; predicting one message would then copy the whole
    # weight matrix on every call. Fortran order (LinearSVC's already) makes coef_.T contiguous: same predictions,
    # no copy, which is how one would deploy it.
    clf = model.named_steps["clf"]
    clf.coef_ = np.asfortranarray(clf.coef_)

    model_path = f"{req['workDir']}/model.pkl"
    with open(model_path, "wb") as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)

    if classifier == "logreg":
        classes = model.classes_

        def predict_batch(texts):
            proba = model.predict_proba(texts)
            best = proba.argmax(axis=1)
            return [pc.prediction(str(classes[b]), proba[i, b]) for i, b in enumerate(best)]

    else:

        def predict_batch(texts):
            return [pc.prediction(str(label), None) for label in model.predict(texts)]

    def predict_one(text):
        return predict_batch([text])[0]

    # The valid split is only scored, never timed: one batch gives the same predictions much sooner.
    valid = predict_batch(valid_x) if valid_x is not None else None
    pc.warm_up(predict_one, train_x, int(req.get("warmup", 200)))
    test, latencies = pc.predict_timed(predict_one, test_x)

    pc.emit(
        {
            "version": f"scikit-learn {sklearn.__version__}",
            "settings": {
                "features": "word 1-2 + char_wb 2-5 TF-IDF, sublinear tf, lowercase",
                "classifier": "LinearSVC" if classifier == "linearsvc" else "LogisticRegression (lbfgs)",
                "C": model.named_steps["clf"].C,
                "converged": converged,
                "features_count": int(sum(len(t.vocabulary_) for _, t in model.named_steps["features"].transformer_list)),
            },
            "trainMs": train_ms,
            "modelBytes": pc.file_size(model_path),
            "latencyMs": latencies,
            "test": test,
            "valid": valid,
        }
    )


if __name__ == "__main__":
    main()
