"""Learned classification: the classifier, the train/classify commands on any CSV, suggestions and auto-dispatch."""

import csv
import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.hotline.factories import order, world
from yiwang.hotline import classifier, services
from yiwang.hotline.classifier import TextClassifier
from yiwang.hotline.transitions import State

ROWS = [
    ("路灯不亮", "小区门口的路灯坏了好几天，晚上很黑", "城乡建设"),
    ("路面坑洼", "道路上有大坑，下雨积水，车辆难以通行", "城乡建设"),
    ("井盖丢失", "人行道井盖缺失，行人容易掉下去", "城乡建设"),
    ("物业不作为", "小区物业不管电梯维修，业主意见很大", "城乡建设"),
    ("工地噪音", "工地晚上施工噪音很大，影响休息", "环境保护"),
    ("河道污染", "小河里排放污水，发黑发臭", "环境保护"),
    ("烧垃圾冒烟", "有人露天焚烧垃圾，烟雾很大", "环境保护"),
    ("餐馆油烟", "楼下餐馆油烟直排，家里都是油烟味", "环境保护"),
    ("拖欠工资", "公司拖欠三个月工资不发", "劳动和社会保障"),
    ("社保断缴", "单位没给我交社保，怎么办", "劳动和社会保障"),
    ("劳动合同", "公司不签劳动合同，还不给加班费", "劳动和社会保障"),
    ("养老金", "退休后养老金怎么领取", "劳动和社会保障"),
]


def write_csv(path, rows, header=("标题", "内容", "类别")):
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def models_dir(tmp_path, settings):
    settings.HOTLINE_MODELS_DIR = tmp_path / "models"
    classifier.forget()
    yield settings.HOTLINE_MODELS_DIR
    classifier.forget()


def test_classifier_learns_and_round_trips(tmp_path):
    model = TextClassifier().fit([r[0] + r[1] for r in ROWS], [r[2] for r in ROWS])
    top = model.predict(["小区路灯坏了晚上很黑"], k=3)[0]
    assert top[0][0] == "城乡建设" and 0 < top[0][1] <= 1
    assert [label for label, _ in top] == sorted({r[2] for r in ROWS}, key=lambda x: -dict(top)[x])
    assert abs(sum(c for _, c in model.predict(["工资"], k=3)[0]) - 1) < 1e-6
    loaded = TextClassifier.load(model.save(tmp_path / "m.pkl"))
    assert loaded.predict(["公司拖欠工资"])[0][0][0] == "劳动和社会保障"
    assert loaded.predict(["公司拖欠工資"])[0][0][0] == "劳动和社会保障"  # Traditional script too


def test_label_knowledge_teaches_unseen_words(tmp_path):
    texts, labels = [r[0] + r[1] for r in ROWS], [r[2] for r in ROWS]
    tree = tmp_path / "tree.csv"
    write_csv(
        tree, [("环境保护", "辐射污染", "电磁辐射"), ("城乡建设", "燃气管理", "燃气泄漏")], ("一级", "二级", "三级")
    )
    hints = classifier.read_label_tree(tree)
    assert ("辐射污染 电磁辐射", "环境保护") in hints and ("辐射污染", "环境保护") in hints
    model = TextClassifier().fit(texts, labels, knowledge=hints)
    assert model.predict(["基站电磁辐射太强"])[0][0][0] == "环境保护"
    assert model.meta["knowledge"] == 4


def test_training_needs_two_labels():
    with pytest.raises(ValueError):
        TextClassifier().fit(["a", "b"], ["x", "x"])


def test_cross_validation_reports_macro_f1():
    texts, labels = [r[0] + r[1] for r in ROWS] * 2, [r[2] for r in ROWS] * 2
    report = classifier.cross_validate(texts, labels, folds=2)
    assert set(report) == {"macro_f1", "accuracy", "folds", "n"}
    assert 0 <= report["macro_f1"] <= 1 and report["n"] == 24


def test_train_and_classify_commands_on_any_csv(tmp_path, models_dir):
    data = write_csv(tmp_path / "history.csv", ROWS)
    out = io.StringIO()
    call_command(
        "hotline",
        "train",
        "--csv",
        str(data),
        "--text-cols",
        "标题,内容",
        "--label-col",
        "类别",
        "--name",
        "topic",
        "--folds",
        "2",
        stdout=out,
    )
    assert "已训练模型 topic：12 行，3 个类别" in out.getvalue()
    assert "2-fold: macro-F1" in out.getvalue()
    assert (models_dir / "topic.pkl").exists()

    out = io.StringIO()
    call_command("hotline", "classify", "楼下饭店油烟直排", "--name", "topic", "--top", "2", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("环境保护\t")

    new = write_csv(tmp_path / "new.csv", [("1", "工资被拖欠两个月"), ("2", "马路上井盖不见了")], ("id", "text"))
    result = tmp_path / "out" / "pred.csv"
    call_command(
        "hotline",
        "classify",
        "--csv",
        str(new),
        "--text-cols",
        "text",
        "--out",
        str(result),
        "--name",
        "topic",
        stdout=io.StringIO(),
    )
    with result.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert [r["predicted_label"] for r in rows] == ["劳动和社会保障", "城乡建设"]
    assert all(0 < float(r["confidence"]) <= 1 for r in rows)


def test_command_errors_are_clear(tmp_path, models_dir):
    data = write_csv(tmp_path / "h.csv", ROWS)
    with pytest.raises(CommandError, match="no column"):
        call_command("hotline", "train", "--csv", str(data), "--text-cols", "title", "--label-col", "类别")
    with pytest.raises(CommandError, match="not trained"):
        call_command("hotline", "classify", "x", "--name", "nothing")
    with pytest.raises(CommandError, match="no such file"):
        call_command("hotline", "train", "--csv", str(tmp_path / "nope.csv"), "--text-cols", "a", "--label-col", "b")


@pytest.mark.django_db
def test_orders_get_a_suggestion_and_auto_dispatch_above_the_threshold(tmp_path, models_dir, settings):
    w = world()
    model = TextClassifier().fit([r[0] + r[1] for r in ROWS], [r[2] for r in ROWS])
    model.save(classifier.model_path("category"))
    o = order(w, title="路灯坏了", content="小区门口路灯不亮，晚上很黑", suggest=True)
    assert o.suggested_category == w.cats.urban and o.category == w.cats.urban
    assert o.suggested_department == w.housing and 0 < o.suggestion_confidence <= 1
    assert o.status == State.NEW  # no threshold set: the agent confirms

    settings.HOTLINE_AUTO_DISPATCH_CONFIDENCE = 0.0
    o = order(w, title="路灯坏了", content="小区门口路灯不亮，晚上很黑", suggest=True)
    assert o.status == State.DISPATCHED and o.department == w.housing
    assert o.assignments.get().automatic is True
    settings.HOTLINE_AUTO_DISPATCH_CONFIDENCE = 1.01
    o = order(w, title="路灯坏了", content="小区门口路灯不亮", suggest=True)
    assert o.status == State.NEW


@pytest.mark.django_db
def test_department_model_suggests_a_department_when_no_rule_matches(models_dir):
    w = world()
    texts = ["工资拖欠", "社保断缴", "劳动合同纠纷", "道路坑洼", "路灯不亮", "井盖丢失"]
    labels = ["天河区人力资源和社会保障局"] * 3 + ["天河区住房和建设局"] * 3
    TextClassifier().fit(texts, labels).save(classifier.model_path("department"))
    o = services.order_create(actor=w.agent, title="欠薪", content="老板拖欠工资", region_code=w.geo.ws.code)
    assert o.suggested_department == w.hrss


def test_fast_path_equals_the_sparse_path():
    texts = [r[0] + r[1] for r in ROWS]
    model = TextClassifier().fit(texts, [r[2] for r in ROWS])
    probes = ["小区路灯坏了  晚上很黑", "公司拖欠工資", "", "ABC 测试 test", "工地噪音", *texts[:4]]
    fast = np.vstack([model._fast_scores(t) for t in probes])
    slow = model.model.decision_function(model.features(probes))
    assert np.allclose(fast, slow, atol=1e-6)
    assert model.predict(probes[:2]) == [model.predict([p])[0] for p in probes[:2]]


def test_title_block_fast_path_equals_sparse_path_and_round_trips(tmp_path):
    texts, titles, labels = [f"{r[0]} {r[1]}" for r in ROWS], [r[0] for r in ROWS], [r[2] for r in ROWS]
    model = TextClassifier().fit(texts, labels, titles=titles)
    assert model.uses_titles and model.meta["titles"] is True
    assert model.predict(["路灯坏了 晚上很黑"], titles=["路灯坏了"])[0][0][0] == "城乡建设"
    for batch_titles in (titles[:4], None):
        fast = model.scores(texts[:4], batch_titles)
        full = model.model.decision_function(model.features(texts[:4], batch_titles))
        assert np.allclose(fast, full, atol=1e-5)
    loaded = TextClassifier.load(model.save(tmp_path / "t.pkl"))
    assert np.allclose(loaded.scores(texts[:2], titles[:2]), model.scores(texts[:2], titles[:2]))
    # Only the first max_chars characters are read, on both paths.
    long = ["工地噪音 " + "晚上施工噪音很大" * 200, "拖欠工资 " + "公司拖欠工资" * 300]
    long_titles = ["工地噪音", "拖欠工资"]
    assert np.allclose(model.scores(long, long_titles), model.scores([t[: model.max_chars] for t in long], long_titles))
    assert np.allclose(
        model.scores(long, long_titles), model.model.decision_function(model.features(long, long_titles)), atol=1e-5
    )
    with pytest.raises(ValueError):
        TextClassifier().fit(texts, labels, titles=titles[:3])
    # A model without titles ignores them.
    plain = TextClassifier().fit(texts, labels)
    assert not plain.uses_titles
    assert np.allclose(plain.scores(texts[:2], titles[:2]), plain.scores(texts[:2]))


def test_train_and_classify_commands_with_a_title_column(tmp_path, models_dir):
    data = write_csv(tmp_path / "history.csv", ROWS)
    out = io.StringIO()
    call_command(
        "hotline",
        "train",
        "--csv",
        str(data),
        "--text-cols",
        "标题,内容",
        "--title-col",
        "标题",
        "--label-col",
        "类别",
        "--name",
        "titled",
        "--folds",
        "2",
        stdout=out,
    )
    assert "已训练模型 titled：12 行，3 个类别" in out.getvalue()
    model = classifier.cached("titled")
    assert model.uses_titles and model.meta["title_col"] == "标题"

    out = io.StringIO()
    call_command("hotline", "classify", "楼下油烟直排", "--title", "餐馆油烟", "--name", "titled", stdout=out)
    assert out.getvalue().startswith("环境保护\t")

    new = write_csv(
        tmp_path / "new.csv", [("拖欠工资", "工资被拖欠两个月"), ("井盖丢失", "马路上井盖不见了")], ("标题", "内容")
    )
    result = tmp_path / "pred.csv"
    call_command(
        "hotline",
        "classify",
        "--csv",
        str(new),
        "--text-cols",
        "标题,内容",
        "--out",
        str(result),
        "--name",
        "titled",
        stdout=io.StringIO(),
    )
    with result.open(encoding="utf-8") as fh:
        assert [r["predicted_label"] for r in csv.DictReader(fh)] == ["劳动和社会保障", "城乡建设"]


@pytest.mark.parametrize("combiner", ["logistic", "weights"])
def test_stacked_model_trains_predicts_and_collapses_to_one_linear_scorer(tmp_path, combiner):
    texts, titles, labels = [f"{r[0]} {r[1]}" for r in ROWS], [r[0] for r in ROWS], [r[2] for r in ROWS]
    # Each row twice, so that the inner out-of-fold scores the combiner learns from are informative.
    model = TextClassifier(stacking=True, inner_folds=2, combiner=combiner).fit(
        texts * 2, labels * 2, titles=titles * 2
    )
    info = model.meta["stacking"]
    assert info["bases"] == [f"{v}/{n}" for v in ("all", "char", "word", "title") for n in ("svm", "ridge")]
    assert isinstance(model.model, classifier.LinearScores)
    assert model.predict(["路灯坏了 晚上很黑"], titles=["路灯坏了"])[0][0][0] == "城乡建设"
    assert [p[0][0] for p in model.predict(texts, titles=titles)] == labels  # the training rows themselves
    # The fast path (one order at intake) gives the stack's own scores.
    fast = model.scores(texts[:4], titles[:4])
    assert np.allclose(fast, model.model.decision_function(model.features(texts[:4], titles[:4])), atol=1e-4)
    loaded = TextClassifier.load(model.save(tmp_path / "s.pkl"))
    assert np.allclose(loaded.scores(texts[:2], titles[:2]), fast[:2])
    # Too little data for inner folds: one SVM, as without stacking.
    small = TextClassifier(stacking=True, inner_folds=5, learner="svm").fit(texts, labels, titles=titles)
    assert "stacking" not in small.meta and not isinstance(small.model, classifier.LinearScores)


@pytest.mark.parametrize("learner", ["cnb", "svm+cnb"])
def test_naive_bayes_learners_collapse_to_one_linear_scorer(tmp_path, learner):
    texts, titles, labels = [f"{r[0]} {r[1]}" for r in ROWS], [r[0] for r in ROWS], [r[2] for r in ROWS]
    model = TextClassifier(learner=learner).fit(texts, labels, titles=titles)
    assert isinstance(model.model, classifier.LinearScores)
    assert list(model.model.classes_) == sorted(set(labels))
    assert [p[0][0] for p in model.predict(texts, titles=titles)] == labels
    assert model.predict(["路灯坏了 晚上很黑"], titles=["路灯坏了"])[0][0][0] == "城乡建设"
    # The fast path (one order at intake) equals the sparse path, also after a round trip.
    fast = model.scores(texts[:4], titles[:4])
    assert np.allclose(fast, model.model.decision_function(model.features(texts[:4], titles[:4])), atol=1e-4)
    loaded = TextClassifier.load(model.save(tmp_path / "nb.pkl"))
    assert np.allclose(loaded.scores(texts[:2], titles[:2]), fast[:2])
    # Confidences sum to one and are not all alike (the scores keep the SVM's scale).
    probs = model.proba(texts[:4], titles[:4])
    assert np.allclose(probs.sum(axis=1), 1.0) and probs.max() > 0.5


def test_complement_naive_bayes_is_the_sklearn_ranking_and_the_blend_adds_the_svm():
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    texts, labels = [f"{r[0]} {r[1]}" for r in ROWS], [r[2] for r in ROWS]
    probes = ["小区路灯坏了", "公司拖欠工资不发", "河里污水发臭", "电梯维修物业"]
    cnb = TextClassifier(learner="cnb", nb_alpha=0.1).fit(texts, labels)
    x, xp = cnb.features(texts), cnb.features(probes)
    reference = ComplementNB(alpha=0.1).fit(x, labels)
    assert list(cnb.model.classes_[cnb.scores(probes).argmax(axis=1)]) == list(reference.predict(xp))
    blend = TextClassifier(learner="svm+cnb", nb_alpha=0.1).fit(texts, labels)
    svm = LinearSVC(C=1.0, class_weight="balanced").fit(x, labels)
    expected = cnb.scores(probes) + svm.decision_function(xp) / svm.decision_function(x).std()
    assert np.allclose(blend.scores(probes), expected, atol=1e-4)


def test_unknown_learner_is_refused():
    with pytest.raises(ValueError, match="unknown learner"):
        TextClassifier(learner="forest").fit(["a", "b"], ["x", "y"])
