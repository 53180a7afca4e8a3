"""Learned classification (分类/派单建议): a small, fast text classifier trained on the deployment's own history.

Features: TF-IDF over character 1–3-grams and over rjieba words of the normalised text (Traditional →
Simplified, spaces collapsed) and, when the training data have titles (工单标题), a third TF-IDF block over
character 1–2-grams of the title alone: short titles name the matter, and a block of their own keeps the long
details from drowning them (5-fold macro-F1 on the tipdm messages 0.803 → 0.845). Model: a linear SVM
(scikit-learn ``LinearSVC``) plus complement naive Bayes, each scaled by its spread on the training rows and
collapsed into one linear scorer (decision 0025: tipdm 0.845 → 0.861); confidences are a softmax of the
decision scores. Optional *label knowledge* —
short texts known to belong to a label, such as the names of a category's sub-categories — is added as extra
training documents. Only a text's first 500 characters are read (decision 0025: the largest cut whose p99 stays
under 5 ms on a slow host); one prediction takes about two milliseconds of CPU (under 5 ms for the longest
texts, bench/hotline_classify.py); no weights come from outside:
the model is trained here and saved under ``var/hotline/models/<name>.pkl``.
"""

from __future__ import annotations

import csv
import io
import pickle
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from . import text as textmod

FORMAT_VERSION = 1
LEARNERS = ("svm", "cnb", "svm+cnb")
_WHITE = re.compile(r"\s\s+")


def _words(doc: str) -> list[str]:
    return textmod.words(doc, drop_stopwords=True)


def _chars(doc: str) -> str:
    return textmod.normalize(doc)


def _with_titles(texts: Sequence[str], titles: Sequence[str] | None) -> list[str]:
    """The texts with their titles put in front once more (the text itself starts with its title, as at intake)."""
    if titles is None:
        return list(texts)
    return [f"{title} {text}" if title else text for text, title in zip(texts, titles, strict=True)]


@dataclass
class LinearScores:
    """A fitted linear scorer (``coef_``, ``intercept_``, ``classes_``): what a stack of linear models collapses to."""

    coef_: np.ndarray
    intercept_: np.ndarray
    classes_: np.ndarray

    def decision_function(self, x) -> np.ndarray:
        return np.asarray(x @ self.coef_.T) + self.intercept_


def _linear_parts(model) -> tuple[np.ndarray, np.ndarray]:
    """``coef_`` and ``intercept_`` of a fitted linear model as (classes × features, classes), two classes too."""
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64).reshape(-1)
    if coef.shape[0] == 1:  # binary: one score for the second class; the first gets its negation
        coef, intercept = np.vstack([-coef, coef]), np.array([-intercept[0], intercept[0]])
    return coef, intercept


def _naive_bayes(x, y, *, alpha: float, c: float, class_weight: str | None, with_svm: bool) -> LinearScores:
    """Complement naive Bayes on the TF-IDF blocks (decision 0025), alone or added to the SVM, as one linear scorer.

    Complement NB scores a text by ``x @ feature_log_prob_.T``: linear in the features, so it takes the same fast
    path as the SVM. Its weights are centred over the classes (which changes no ranking) and divided by the
    spread of its scores on the training rows, so that its confidences live on the SVM's scale; with
    ``with_svm`` the SVM's scores, divided by their own spread, are added to it (an even blend of the two).
    """
    cnb = ComplementNB(alpha=alpha).fit(x, y)
    coef = np.asarray(cnb.feature_log_prob_, dtype=np.float64)
    coef = coef - coef.mean(axis=0, keepdims=True)
    spread = float(np.asarray(x @ coef.T).std()) or 1.0
    coef /= spread
    intercept = np.zeros(coef.shape[0])
    classes = cnb.classes_
    if with_svm:
        svm = LinearSVC(C=c, class_weight=class_weight).fit(x, y)
        s_coef, s_intercept = _linear_parts(svm)
        s_spread = float(np.asarray(svm.decision_function(x)).std()) or 1.0
        coef += s_coef / s_spread
        intercept += s_intercept / s_spread
    return LinearScores(coef.astype(np.float32), intercept, classes)


def _base_learners(c: float, class_weight: str | None, ridge_alpha: float):
    return {
        "svm": lambda: LinearSVC(C=c, class_weight=class_weight),
        "ridge": lambda: RidgeClassifier(alpha=ridge_alpha, class_weight=class_weight),
    }


def _full_scores(model, x, classes: np.ndarray) -> np.ndarray:
    """Decision scores of ``model`` on ``x`` for all ``classes`` (classes it never saw score below its minimum)."""
    raw = model.decision_function(x)
    if raw.ndim == 1:
        raw = np.column_stack([-raw, raw])
    out = np.full((x.shape[0], len(classes)), float(raw.min()) - 1.0)
    pos = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        out[:, pos[c]] = raw[:, j]
    return out


def _view_weights(oof: np.ndarray, y_idx: np.ndarray, n_bases: int, k: int, *, l2: float):
    """One non-negative weight per base (and a bias per class) minimising the balanced multinomial log-loss."""
    from scipy.optimize import minimize

    s = oof.reshape(len(y_idx), n_bases, k)
    counts = np.bincount(y_idx, minlength=k).astype(float)
    sw = (len(y_idx) / (k * np.maximum(counts, 1)))[y_idx]

    def loss(p):
        wb, bias = p[:n_bases], p[n_bases:]
        z = np.einsum("nbk,b->nk", s, wb) + bias
        z = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        pr = np.exp(z - lse[:, None])
        nll = (sw * (lse - z[np.arange(len(y_idx)), y_idx])).sum()
        g = pr * sw[:, None]
        g[np.arange(len(y_idx)), y_idx] -= sw
        grad_w = np.einsum("nbk,nk->b", s, g) + l2 * wb
        return nll + 0.5 * l2 * (wb @ wb), np.concatenate([grad_w, g.sum(axis=0)])

    p0 = np.concatenate([np.full(n_bases, 1.0 / n_bases), np.zeros(k)])
    res = minimize(loss, p0, jac=True, method="L-BFGS-B", bounds=[(0, None)] * n_bases + [(None, None)] * k)
    wb, bias = res.x[:n_bases], res.x[n_bases:]
    w = np.hstack([wb[b] * np.eye(k) for b in range(n_bases)])
    return w, bias


def _stack(
    x,
    y: np.ndarray,
    n_texts: int,
    views: dict[str, slice],
    *,
    c: float,
    class_weight: str | None,
    ridge_alpha: float,
    inner_folds: int,
    meta_c: float,
    seed: int = 0,
    combiner: str = "logistic",
) -> tuple[LinearScores, dict]:
    """Stacking inside ``fit``: base learners on each feature view, a logistic combiner on their inner out-of-fold
    decision scores, bases refitted on all rows. Rows ``n_texts:`` (label knowledge) only ever train bases.

    Every base and the combiner are linear in the features, so the stack collapses to one linear scorer.
    """
    classes = np.unique(y)
    learners = _base_learners(c, class_weight, ridge_alpha)
    bases = [(v, name) for v in views for name in learners]
    k = len(classes)
    oof = np.zeros((n_texts, len(bases) * k))
    y_texts = y[:n_texts]
    counts = np.unique(y_texts, return_counts=True)[1]
    splitter = (
        StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
        if counts.min() >= inner_folds
        else KFold(inner_folds, shuffle=True, random_state=seed)
    )
    extra = np.arange(n_texts, x.shape[0])
    for train, held in splitter.split(np.zeros(n_texts), y_texts):
        rows = np.concatenate([train, extra])
        for b, (view, name) in enumerate(bases):
            cols = views[view]
            if len(np.unique(y[rows])) < 2:
                continue
            model = learners[name]().fit(x[rows][:, cols], y[rows])
            oof[held, b * k : (b + 1) * k] = _full_scores(model, x[held][:, cols], classes)
    if combiner == "weights":
        w, b0 = _view_weights(oof, np.searchsorted(classes, y_texts), len(bases), k, l2=1.0 / meta_c)
    else:
        meta = LogisticRegression(C=meta_c, class_weight=class_weight, max_iter=2000).fit(oof, y_texts)
        w = meta.coef_ if len(classes) > 2 else np.vstack([-meta.coef_ / 2, meta.coef_ / 2])
        b0 = meta.intercept_ if len(classes) > 2 else np.array([-meta.intercept_[0] / 2, meta.intercept_[0] / 2])
    coef = np.zeros((k, x.shape[1]))
    intercept = np.asarray(b0, dtype=np.float64).copy()
    for b, (view, name) in enumerate(bases):
        cols = views[view]
        model = learners[name]().fit(x[:, cols], y)
        mc, mi = np.asarray(model.coef_, dtype=np.float64), np.asarray(model.intercept_, dtype=np.float64)
        if mc.shape[0] == 1:
            mc, mi = np.vstack([-mc, mc]), np.array([-mi[0], mi[0]])
        wb = w[:, b * k : (b + 1) * k]  # the combiner's weights on this base's k scores
        coef[:, cols] += wb @ mc
        intercept += wb @ mi
    info = {"bases": [f"{v}/{n}" for v, n in bases], "inner_folds": inner_folds}
    return LinearScores(coef.astype(np.float32), intercept, classes), info


@dataclass
class TextClassifier:
    """A linear text classifier over character and word TF-IDF features."""

    c: float = 1.0
    class_weight: str | None = "balanced"
    knowledge_weight: int = 3
    temperature: float = 0.3
    char_vectorizer: TfidfVectorizer | None = None
    word_vectorizer: TfidfVectorizer | None = None
    title_vectorizer: TfidfVectorizer | None = None
    title_weight: float = 1.0
    #: Only the first characters of a text are read (long complaints add little and cost ~5 ms per 1,000 on a slow
    #: host; decision 0025: 1,500 → 500 kept macro-F1 and brought p99 from 9.6 to 3.9 ms).
    max_chars: int | None = 500
    #: Stacking (decision 0017): SVM and Ridge on each feature view, combined by a logistic regression fitted on
    #: inner out-of-fold scores inside ``fit``; ``False`` trains one SVM on all blocks.
    stacking: bool = False
    ridge_alpha: float = 3.0
    inner_folds: int = 5
    meta_c: float = 1.0
    combiner: str = "logistic"
    #: The learner on the blocks when not stacking (decision 0025): ``"svm"`` (a linear SVM), ``"cnb"``
    #: (complement naive Bayes) or ``"svm+cnb"`` (the two added, each scaled by its spread on the training rows).
    learner: str = "svm+cnb"
    nb_alpha: float = 0.03
    model: LinearSVC | LinearScores | None = None
    labels: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    # -- training ----------------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        titles: Sequence[str] | None = None,
        knowledge: Iterable[tuple[str, str]] = (),
        background: Iterable[str] = (),
    ) -> TextClassifier:
        """Train on ``texts``/``labels``; ``knowledge`` adds (text, label) hints, ``background`` only shapes the IDF.

        ``titles`` (one per text: its title, with which the text itself starts) add the title block and count
        the title twice in the other blocks; a model trained with titles is then given them at prediction time
        too (without a title it still works, from the text alone).
        """
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        if getattr(self, "learner", "svm") not in LEARNERS:
            raise ValueError(f"unknown learner {self.learner!r}; one of {', '.join(LEARNERS)}")
        if titles is not None and len(titles) != len(texts):
            raise ValueError("texts and titles differ in length")
        if titles is not None and not any(t.strip() for t in titles):
            titles = None
        texts = _with_titles(self._clip(texts), titles)
        knowledge = [(t, lab) for t, lab in knowledge if t and lab in set(labels)]
        if len(set(labels)) < 2:
            raise ValueError("at least two labels are needed to train a classifier")
        docs = [_chars(t) for t in texts]
        k_docs = [_chars(t) for t, _ in knowledge]
        bg = [_chars(t) for t in background]
        self.char_vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1, max_features=300_000, dtype=np.float32
        )
        self.word_vectorizer = TfidfVectorizer(
            tokenizer=_words,
            token_pattern=None,
            lowercase=False,
            preprocessor=None,
            sublinear_tf=True,
            ngram_range=(1, 2),
            max_features=300_000,
            dtype=np.float32,
        )
        fit_docs = docs + k_docs + bg
        self.char_vectorizer.fit(fit_docs)
        self.word_vectorizer.fit([t for t in texts] + [t for t, _ in knowledge] + list(background))
        self.title_vectorizer = None
        t_docs = None
        if titles is not None:
            # Knowledge hints are short, title-like texts: they take part in the title block as themselves.
            t_docs = [_chars(t) for t in titles]
            self.title_vectorizer = TfidfVectorizer(
                analyzer="char", ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=100_000, dtype=np.float32
            ).fit(t_docs + k_docs)
        x = self._features_normalised(docs, list(texts), t_docs)
        y = list(labels)
        if knowledge:
            kx = self._features_normalised(k_docs, [t for t, _ in knowledge], k_docs)
            ky = [lab for _, lab in knowledge]
            x = sparse.vstack([x] + [kx] * self.knowledge_weight).tocsr()
            y = y + ky * self.knowledge_weight
        # Balanced class weights: rare categories count as much as common ones (the target is macro-F1).
        stack = getattr(self, "stacking", False) and len(set(labels)) > 2 and len(texts) >= 4 * self.inner_folds
        if stack:
            n_char, n_word = len(self.char_vectorizer.vocabulary_), len(self.word_vectorizer.vocabulary_)
            views = {"all": slice(0, x.shape[1]), "char": slice(0, n_char), "word": slice(n_char, n_char + n_word)}
            if self.uses_titles:
                views["title"] = slice(n_char + n_word, x.shape[1])
            self.model, info = _stack(
                x,
                np.asarray(y),
                len(texts),
                views,
                c=self.c,
                class_weight=getattr(self, "class_weight", None),
                ridge_alpha=self.ridge_alpha,
                inner_folds=self.inner_folds,
                meta_c=self.meta_c,
                combiner=getattr(self, "combiner", "logistic"),
            )
            self.meta["stacking"] = info
        elif getattr(self, "learner", "svm") == "svm":
            self.model = LinearSVC(C=self.c, class_weight=getattr(self, "class_weight", None))
            self.model.fit(x, y)
        else:  # complement naive Bayes, alone or added to the SVM
            self.model = _naive_bayes(
                x,
                np.asarray(y),
                alpha=self.nb_alpha,
                c=self.c,
                class_weight=getattr(self, "class_weight", None),
                with_svm=self.learner == "svm+cnb",
            )
        self.labels = [str(c) for c in self.model.classes_]
        self.meta.update(
            {
                "trained_on": len(texts),
                "knowledge": len(knowledge),
                "labels": len(self.labels),
                "titles": self.title_vectorizer is not None,
            }
        )
        return self

    # -- features ----------------------------------------------------------------------------------
    def _clip(self, texts: Sequence[str]) -> list[str]:
        limit = getattr(self, "max_chars", None)
        return [t[:limit] for t in texts] if limit else list(texts)

    @property
    def uses_titles(self) -> bool:
        return getattr(self, "title_vectorizer", None) is not None

    def _features_normalised(self, normalised: list[str], raw: list[str], titles: list[str] | None = None):
        blocks = [self.char_vectorizer.transform(normalised), self.word_vectorizer.transform(raw)]
        if self.uses_titles:
            blocks.append(self.title_vectorizer.transform(titles or [""] * len(raw)) * self.title_weight)
        return sparse.hstack(blocks).tocsr()

    def features(self, texts: Sequence[str], titles: Sequence[str] | None = None):
        t_docs = [_chars(t) for t in titles] if titles is not None else None
        texts = _with_titles(self._clip(texts), titles if self.uses_titles else None)
        return self._features_normalised([_chars(t) for t in texts], texts, t_docs)

    # -- prediction --------------------------------------------------------------------------------
    def scores(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> np.ndarray:
        """Decision scores per label. Small batches take the fast path (dictionary look-ups, no sparse matrix)."""
        if self.model is None:
            raise RuntimeError("the classifier is not trained")
        if titles is not None and len(titles) != len(texts):
            raise ValueError("texts and titles differ in length")
        if len(texts) <= 8:
            titles = titles if titles is not None else [""] * len(texts)
            scores = (
                np.vstack([self._fast_scores(t, title) for t, title in zip(texts, titles, strict=True)])
                if texts
                else np.zeros((0, len(self.labels)))
            )
        else:
            scores = self.model.decision_function(self.features(texts, titles))
        if scores.ndim == 1 or scores.shape[1] == 1:  # two classes
            scores = scores.reshape(-1)
            scores = np.column_stack([-scores, scores])
        return scores

    def _prepare_fast(self) -> None:
        """Dense per-feature weights for the fast path, built once per loaded model."""
        # Column-major: the fast path gathers one column (all classes) per n-gram, so each is one contiguous read.
        coef = np.asfortranarray(self.model.coef_, dtype=np.float64)
        n_char = len(self.char_vectorizer.vocabulary_)
        n_word = len(self.word_vectorizer.vocabulary_)
        title = None
        if self.uses_titles:
            title = {
                "vocab": self.title_vectorizer.vocabulary_,
                "idf": self.title_vectorizer.idf_.astype(np.float64),
                "coef": coef[:, n_char + n_word :] * self.title_weight,
                "range": self.title_vectorizer.ngram_range,
            }
        self._fast = {
            "title": title,
            "char_vocab": self.char_vectorizer.vocabulary_,
            "char_idf": self.char_vectorizer.idf_.astype(np.float64),
            "word_vocab": self.word_vectorizer.vocabulary_,
            "word_idf": self.word_vectorizer.idf_.astype(np.float64),
            "char_coef": coef[:, :n_char],
            "word_coef": coef[:, n_char : n_char + n_word],
            "intercept": np.asarray(self.model.intercept_, dtype=np.float64),
            "char_range": self.char_vectorizer.ngram_range,
            "word_range": self.word_vectorizer.ngram_range,
        }

    @staticmethod
    def _block(counts: dict[int, int], idf: np.ndarray, coef: np.ndarray) -> np.ndarray:
        if not counts:
            return np.zeros(coef.shape[0])
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        values = (1.0 + np.log(tf)) * idf[idx]  # sublinear tf × idf, then L2 norm (as TfidfVectorizer)
        norm = np.sqrt((values * values).sum())
        if norm == 0:
            return np.zeros(coef.shape[0])
        return coef[:, idx] @ (values / norm)

    @staticmethod
    def _char_counts(chars: str, vocab: dict[str, int], ngram_range: tuple[int, int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        lo, hi = ngram_range
        for n in range(lo, min(hi, len(chars)) + 1):
            for i in range(len(chars) - n + 1):
                j = vocab.get(chars[i : i + n])
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        return counts

    def _fast_scores(self, raw: str, title: str = "") -> np.ndarray:
        fast = getattr(self, "_fast", None)
        if fast is None:
            self._prepare_fast()
            fast = self._fast
        limit = getattr(self, "max_chars", None)
        if limit:
            raw = raw[:limit]
        if title and fast["title"] is not None:
            raw = f"{title} {raw}"
        chars = _WHITE.sub(" ", _chars(raw).lower())
        counts = self._char_counts(chars, fast["char_vocab"], fast["char_range"])
        score = self._block(counts, fast["char_idf"], fast["char_coef"])
        if fast["title"] is not None and title:
            block = fast["title"]
            counts = self._char_counts(_WHITE.sub(" ", _chars(title).lower()), block["vocab"], block["range"])
            score = score + self._block(counts, block["idf"], block["coef"])
        tokens = _words(raw)
        vocab, counts = fast["word_vocab"], {}
        lo, hi = fast["word_range"]
        for n in range(lo, min(hi, len(tokens)) + 1):
            for i in range(len(tokens) - n + 1):
                j = vocab.get(tokens[i] if n == 1 else " ".join(tokens[i : i + n]))
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        score = score + self._block(counts, fast["word_idf"], fast["word_coef"])
        return score + fast["intercept"]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_fast", None)
        return state

    def proba(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> np.ndarray:
        scores = self.scores(texts, titles) / self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(
        self, texts: Sequence[str], k: int = 1, *, titles: Sequence[str] | None = None
    ) -> list[list[tuple[str, float]]]:
        """Top-``k`` (label, confidence) per text, best first (``titles``: each text's title, if it has one)."""
        probs = self.proba(texts, titles)
        k = max(1, min(k, len(self.labels)))
        top = np.argsort(-probs, axis=1)[:, :k]
        return [[(self.labels[j], float(probs[i, j])) for j in row] for i, row in enumerate(top)]

    # -- persistence -------------------------------------------------------------------------------
    def dumps(self) -> bytes:
        return pickle.dumps({"version": FORMAT_VERSION, "model": self}, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, data: bytes) -> TextClassifier:
        payload = pickle.loads(data)  # noqa: S301 - our own model files under var/, never uploaded data
        if not isinstance(payload, dict) or payload.get("version") != FORMAT_VERSION:
            raise ValueError("unknown model file format")
        return payload["model"]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(self.dumps())
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        return cls.loads(path.read_bytes())


# --- CSV input ------------------------------------------------------------------------------------
class CsvError(ValueError):
    pass


def read_csv(
    path: Path | str | io.TextIOBase,
    *,
    text_cols: Sequence[str],
    label_col: str | None = None,
    title_col: str | None = None,
):
    """Rows of a CSV with named columns → (texts, labels or None, rows). Texts join ``text_cols`` with spaces."""
    handle = open(path, encoding="utf-8-sig", newline="") if not hasattr(path, "read") else path  # noqa: SIM115
    try:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        wanted = [*text_cols, *([label_col] if label_col else []), *([title_col] if title_col else [])]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise CsvError(f"CSV has no column(s) {', '.join(missing)}; columns are: {', '.join(header)}")
        rows = list(reader)
    finally:
        if handle is not path:
            handle.close()
    texts = [" ".join((row.get(c) or "") for c in text_cols) for row in rows]
    labels = [(row.get(label_col) or "").strip() for row in rows] if label_col else None
    return texts, labels, rows


# --- the models in use ------------------------------------------------------------------------------
_cache: dict[str, tuple[float, TextClassifier]] = {}
_lock = threading.Lock()


def models_dir() -> Path:
    from django.conf import settings

    return Path(getattr(settings, "HOTLINE_MODELS_DIR", settings.VAR_DIR / "hotline" / "models"))


def model_path(name: str) -> Path:
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"bad model name {name!r}")
    return models_dir() / f"{name}.pkl"


def cached(name: str) -> TextClassifier | None:
    """The saved model ``name`` (reloaded when its file changes), or ``None`` when none is trained."""
    path = model_path(name)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        _cache.pop(name, None)
        return None
    with _lock:
        hit = _cache.get(name)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        model = TextClassifier.load(path)
        _cache[name] = (mtime, model)
        return model


def forget() -> None:
    with _lock:
        _cache.clear()


def read_label_tree(path: Path | str) -> list[tuple[str, str]]:
    """Label knowledge from a tree CSV (first column the label, later columns its sub-categories).

    Every distinct sub-path becomes one hint text for its label: ``(城乡建设, "市政设施 道路维修")``.
    """
    hints: dict[tuple[str, str], None] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            cells = [c.strip() for c in row if c and c.strip()]
            if len(cells) < 2:
                continue
            label = cells[0]
            for depth in range(2, len(cells) + 1):
                hints[(" ".join(cells[1:depth]), label)] = None
    return list(hints)


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    titles: Sequence[str] | None = None,
    knowledge: Iterable[tuple[str, str]] = (),
    folds: int = 5,
    seed: int = 0,
    **params,
) -> dict:
    """Stratified k-fold macro-F1 and accuracy (knowledge hints are added to every training fold)."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    y = np.array(labels)
    predicted = np.empty(len(y), dtype=object)
    knowledge = list(knowledge)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(y)), y):
        pick = (lambda idx: [titles[i] for i in idx]) if titles is not None else (lambda idx: None)
        model = TextClassifier(**params).fit(
            [texts[i] for i in train], y[train].tolist(), titles=pick(train), knowledge=knowledge
        )
        predicted[test] = [p[0][0] for p in model.predict([texts[i] for i in test], titles=pick(test))]
    return {
        "macro_f1": float(f1_score(y, predicted, average="macro")),
        "accuracy": float(accuracy_score(y, predicted)),
        "folds": folds,
        "n": len(y),
    }
