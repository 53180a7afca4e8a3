"""12345 classification quality and speed.

1. ``tipdm2020c/labeled_dev.csv`` (citizen messages, 7 first-level categories): stratified 5-fold macro-F1
   and accuracy of the yiwang classifier (title + details, with the title block; label-tree knowledge from
   ``fj1_taxonomy.csv``) beside the same model without the title block (the model before) and the plain
   baseline (character 1–3-gram TF-IDF + linear SVM, no knowledge). The headline figure uses the fold seed 0
   of earlier runs; the mean over fold seeds 0–4 is given beside it, since the title block was chosen by
   looking at 5-fold results on these same 298 messages (no held-out set exists for that choice).
2. ``taipei-faq/faq_dev.csv`` (question → owning department): top-1 and top-3 accuracy on a held-out fifth
   (random split, seed 0), training on the other four fifths (questions, plus their keywords and answers as
   knowledge of the department).
3. Latency of one classification (one text at a time, as at intake), p50/p99 in ms.
"""

from __future__ import annotations

import csv
import os
import random
import time

import numpy as np

from common import SHARED_DATA, setup_django, summarize_ms, write_result


def load_tipdm():
    folder = SHARED_DATA / "tipdm2020c"
    with (folder / "labeled_dev.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    texts = [f"{r['留言主题']} {r['留言详情']}" for r in rows]
    titles = [r["留言主题"] for r in rows]
    labels = [r["一级分类"].strip() for r in rows]
    return texts, titles, labels, folder / "fj1_taxonomy.csv"


def baseline_cv(texts, labels, folds=5):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    y = np.array(labels)
    predicted = np.empty(len(y), dtype=object)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        model = LinearSVC().fit(vec.fit_transform([texts[i] for i in train]), y[train])
        predicted[test] = model.predict(vec.transform([texts[i] for i in test]))
    return {"macro_f1": float(f1_score(y, predicted, average="macro")), "accuracy": float(accuracy_score(y, predicted))}


def taipei(classifier):
    with (SHARED_DATA / "taipei-faq" / "faq_dev.csv").open(encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if r["question"].strip() and r["dept_name"].strip()]
    rng = random.Random(0)
    rng.shuffle(rows)
    cut = len(rows) // 5
    test, train = rows[:cut], rows[cut:]
    knowledge = [(r["keywords"], r["dept_name"]) for r in train if r["keywords"].strip()]
    knowledge += [(r["answer_text"][:300], r["dept_name"]) for r in train if r["answer_text"].strip()]
    # Each department's own name as knowledge of it (chosen by 5-fold CV inside the training four fifths:
    # top-1 0.8137 against 0.8092 without; see hotline_classify_experiments.json).
    knowledge += [(name, name) for name in sorted({r["dept_name"] for r in train})]
    model = classifier.TextClassifier(knowledge_weight=1).fit(
        [r["question"] for r in train], [r["dept_name"] for r in train], knowledge=knowledge
    )
    predictions = model.predict([r["question"] for r in test], k=3)
    top1 = sum(p[0][0] == r["dept_name"] for p, r in zip(predictions, test, strict=True)) / len(test)
    top3 = sum(r["dept_name"] in [x[0] for x in p] for p, r in zip(predictions, test, strict=True)) / len(test)
    return {
        "train": len(train),
        "test": len(test),
        "departments": len({r["dept_name"] for r in rows}),
        "top1_accuracy": round(top1, 4),
        "top3_accuracy": round(top3, 4),
        "selection": (
            "C=1, balanced, knowledge x1 (keywords, first 300 characters of answers, department names); the "
            "department-name knowledge was picked among 8 variants by 5-fold CV on the training four fifths only; "
            "learner svm+cnb (alpha 0.03 best blend by that inner CV, tied with the SVM alone)"
        ),
    }


def main() -> None:
    if not (SHARED_DATA / "tipdm2020c" / "labeled_dev.csv").exists():
        print("skipped: ../shared/data/tipdm2020c not present")
        return
    setup_django()
    from yiwang.hotline import classifier

    texts, titles, labels, tree = load_tipdm()
    hints = classifier.read_label_tree(tree)
    started = time.perf_counter()
    ours = classifier.cross_validate(texts, labels, titles=titles, knowledge=hints, folds=5)
    cv_seconds = time.perf_counter() - started
    seeds = [ours["macro_f1"]] + [
        classifier.cross_validate(texts, labels, titles=titles, knowledge=hints, folds=5, seed=seed)["macro_f1"]
        for seed in range(1, 5)
    ]
    doubled = [f"{title} {text}" for title, text in zip(titles, texts, strict=True)]
    before = classifier.cross_validate(doubled, labels, knowledge=hints, folds=5)
    svm_only = classifier.cross_validate(texts, labels, titles=titles, knowledge=hints, folds=5, learner="svm")
    base = baseline_cv(doubled, labels)
    dept = taipei(classifier)

    model = classifier.TextClassifier().fit(texts, labels, titles=titles, knowledge=hints)
    samples, cpu = [], []
    for text, title in list(zip(texts, titles, strict=True))[:300] * 2:
        t0, c0 = time.perf_counter(), time.thread_time()
        model.predict([text], k=1, titles=[title])
        cpu.append(time.thread_time() - c0)
        samples.append(time.perf_counter() - t0)
    latency = summarize_ms(samples)
    cpu_ms = summarize_ms(cpu)

    print(
        f"tipdm 7 classes, 5-fold: macro-F1 {ours['macro_f1']:.4f} accuracy {ours['accuracy']:.4f} "
        f"(seeds 0-4 mean {np.mean(seeds):.4f}; without title block {before['macro_f1']:.4f}; "
        f"baseline char TF-IDF + SVM: macro-F1 {base['macro_f1']:.4f})"
    )
    print(
        f"taipei question → department ({dept['departments']} departments): top-1 {dept['top1_accuracy']:.4f}, "
        f"top-3 {dept['top3_accuracy']:.4f}"
    )
    print(
        f"latency per classification: p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms "
        f"(CPU time p50 {cpu_ms['p50_ms']} ms, p99 {cpu_ms['p99_ms']} ms)"
    )
    write_result(
        "hotline_classify",
        {
            "tipdm_5fold": {
                "n": ours["n"],
                "classes": len(set(labels)),
                "macro_f1": round(ours["macro_f1"], 4),
                "accuracy": round(ours["accuracy"], 4),
                "knowledge_hints": len(hints),
                "title_block": True,
                "seconds": round(cv_seconds, 1),
                "macro_f1_fold_seeds_0_4": [round(f, 4) for f in seeds],
                "macro_f1_mean_fold_seeds_0_4": round(float(np.mean(seeds)), 4),
                "learner": "svm+cnb (linear SVM + complement naive Bayes alpha 0.03, decision 0025)",
                "selection": (
                    "Hyperparameters (C=1, balanced class weights, knowledge x3) are those of the previous "
                    "session, not re-tuned. The title block (char 1-2-grams of the title) was chosen among "
                    "about 30 feature variants by 5-fold CV on these same messages (fold seeds 0-3), so the "
                    "figure is optimistic by that selection; it beat the model without it on every seed tried. "
                    "Texts are cut to their first 500 characters (decision 0025: the largest of 1,500 / 800 / 500 / "
                    "300 whose CPU p99 stays under 5 ms on this host; macro-F1 seeds 0-4 at those cuts: means "
                    "0.857 / 0.857 / 0.863 / 0.866). "
                    "The SVM + complement NB blend (decision 0025) was compared with the SVM alone on all five "
                    "fold seeds of these messages; its alpha 0.03 is the best blend on Taipei's inner CV "
                    "(tied with the SVM there); nested selection inside each training fold gives a lower, "
                    "honest figure (see hotline_classify_experiments.json, session_2026_12_02_s17h)."
                ),
            },
            "tipdm_5fold_svm_alone": {k: round(svm_only[k], 4) for k in ("macro_f1", "accuracy")},
            "tipdm_5fold_without_title_block": {k: round(before[k], 4) for k in ("macro_f1", "accuracy")},
            "tipdm_baseline_char_tfidf_svm": {k: round(v, 4) for k, v in base.items()},
            "taipei_department": dept,
            "latency_one_text": {**latency, "what": "model.predict([text], titles=[title]) on one order, wall clock"},
            "cpu_one_text": {**cpu_ms, "what": "the same, CPU time of the thread (independent of other load)"},
            "load_average_1_5_15_at_end": [round(x, 2) for x in os.getloadavg()],
            "targets": {"macro_f1": 0.85, "department_top1": 0.85, "latency_ms": 5},
        },
    )


if __name__ == "__main__":
    main()
