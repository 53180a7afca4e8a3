"""yiwang hotline … — the 12345 hotline from the command line.

yiwang hotline train --csv FILE --text-cols 留言主题,留言详情 --label-col 一级分类 [--name category]
                     [--knowledge TREE.csv] [--folds 5]
yiwang hotline classify "小区路灯不亮" [--name category] [--top 3]
yiwang hotline classify --csv FILE --text-cols COLS --out FILE [--name category]
yiwang hotline kb-import FILE [--source NAME] [--keep-script]
yiwang hotline kb-from-catalog [--region PREFIX]   (常见问题 of published service items → knowledge)
yiwang hotline kb-stale
yiwang hotline categories-import FILE          (rows: 大类,中类,小类)
yiwang hotline supervise-overdue [--note TEXT]
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core.actors import SystemActor
from yiwang.core.errors import DomainError


def _cols(value: str) -> list[str]:
    cols = [c.strip() for c in (value or "").split(",") if c.strip()]
    if not cols:
        raise CommandError("--text-cols needs at least one column name (comma separated)")
    return cols


class Command(BaseCommand):
    help = "12345热线：模型训练与分类、知识库导入、分类导入、超期督办"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        p = sub.add_parser("train", help="train a text classifier from a labelled CSV and save it under var/")
        p.add_argument("--csv", required=True, type=Path)
        p.add_argument("--text-cols", required=True, help="comma-separated text columns, joined with spaces")
        p.add_argument("--label-col", required=True)
        p.add_argument(
            "--title-col", default="", help="title column (also one of --text-cols): adds a title feature block"
        )
        p.add_argument("--name", default="category", help="model name: category (default), department, …")
        p.add_argument("--knowledge", type=Path, help="label-tree CSV: first column the label, the rest hint texts")
        p.add_argument("--folds", type=int, default=0, help="also report k-fold macro-F1 (e.g. 5)")
        p = sub.add_parser("classify", help="predict labels for a text or for every row of a CSV")
        p.add_argument("text", nargs="?", default=None)
        p.add_argument("--csv", type=Path)
        p.add_argument("--text-cols", default="")
        p.add_argument("--title", default="", help="the text's title (for a model trained with --title-col)")
        p.add_argument("--title-col", default=None, help="title column of --csv (default: the model's)")
        p.add_argument("--out", type=Path)
        p.add_argument("--name", default="category")
        p.add_argument("--top", type=int, default=1)
        p = sub.add_parser("kb-import", help="import knowledge entries from a CSV (Taipei FAQ layout or ours)")
        p.add_argument("path", type=Path)
        p.add_argument("--source", default=None)
        p.add_argument("--keep-script", action="store_true", help="keep Traditional script (default: convert)")
        p = sub.add_parser("kb-from-catalog", help="import the FAQs of published service items as knowledge")
        p.add_argument("--region", default=None, help="only items of this region code prefix")
        sub.add_parser("kb-stale", help="list knowledge entries past their validity, by department")
        p = sub.add_parser("categories-import", help="import a three-level category tree CSV")
        p.add_argument("path", type=Path)
        p = sub.add_parser("open311-client", help="register an Open311 client and print its api_key (once)")
        p.add_argument("name")
        p.add_argument("--region", required=True, help="default region code of its requests")
        p = sub.add_parser("supervise-overdue", help="督办 every overdue order (as the system)")
        p.add_argument("--note", default="系统自动督办：工单已超期，请尽快办理。")

    def handle(self, *args, **opts) -> None:
        try:
            getattr(self, "do_" + opts["cmd"].replace("-", "_"))(**opts)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc

    # -- models --------------------------------------------------------------------------------------
    def do_train(
        self,
        *,
        csv: Path,
        text_cols: str,
        label_col: str,
        title_col: str,
        name: str,
        knowledge: Path | None,
        folds: int,
        **_,
    ) -> None:
        from yiwang.hotline import classifier

        if not csv.exists():
            raise CommandError(f"no such file: {csv}")
        texts, labels, rows = classifier.read_csv(
            csv, text_cols=_cols(text_cols), label_col=label_col, title_col=title_col or None
        )
        keep = [i for i, lab in enumerate(labels) if lab]
        if len(keep) < 2:
            raise CommandError("not enough labelled rows to train")
        hints = classifier.read_label_tree(knowledge) if knowledge else []
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        titles = [(rows[i].get(title_col) or "").strip() for i in keep] if title_col else None
        if folds:
            report = classifier.cross_validate(texts, labels, titles=titles, knowledge=hints, folds=folds)
            self.stdout.write(f"{folds}-fold: macro-F1 {report['macro_f1']:.4f}, accuracy {report['accuracy']:.4f}")
        started = time.perf_counter()
        model = classifier.TextClassifier().fit(texts, labels, titles=titles, knowledge=hints)
        model.meta.update(
            {"source": csv.name, "text_cols": _cols(text_cols), "label_col": label_col, "title_col": title_col}
        )
        path = model.save(classifier.model_path(name))
        classifier.forget()
        self.stdout.write(
            f"已训练模型 {name}：{len(texts)} 行，{len(model.labels)} 个类别，"
            f"{len(hints)} 条分类知识，用时 {time.perf_counter() - started:.1f}s → {path}"
        )

    def do_classify(
        self,
        *,
        text: str | None,
        csv: Path | None,
        text_cols: str,
        title: str,
        title_col: str | None,
        out: Path | None,
        name: str,
        top: int,
        **_,
    ) -> None:
        from yiwang.hotline import classifier

        model = classifier.cached(name)
        if model is None:
            raise CommandError(f"model {name!r} is not trained yet: run `yiwang hotline train … --name {name}`")
        if csv is None:
            if not text:
                raise CommandError("give a text, or --csv FILE --text-cols COLS --out FILE")
            if title and title not in text:
                text = f"{title} {text}"
            for label, confidence in model.predict([text], k=top, titles=[title] if title else None)[0]:
                self.stdout.write(f"{label}\t{confidence:.4f}")
            return
        if out is None:
            raise CommandError("--out FILE is required with --csv")
        if title_col is None:
            title_col = model.meta.get("title_col") or ""
        texts, _labels, rows = classifier.read_csv(csv, text_cols=_cols(text_cols), title_col=title_col or None)
        titles = [(row.get(title_col) or "").strip() for row in rows] if title_col and model.uses_titles else None
        predictions = []
        for start in range(0, len(texts), 1000):
            chunk = titles[start : start + 1000] if titles is not None else None
            predictions += model.predict(texts[start : start + 1000], k=1, titles=chunk)
        fields = list(rows[0].keys()) if rows else []
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = _csv_writer(fh, [*fields, "predicted_label", "confidence"])
            writer.writeheader()
            for row, prediction in zip(rows, predictions, strict=True):
                label, confidence = prediction[0]
                writer.writerow({**row, "predicted_label": label, "confidence": f"{confidence:.4f}"})
        self.stdout.write(f"已分类 {len(rows)} 行 → {out}")

    # -- knowledge base ----------------------------------------------------------------------------
    def do_kb_import(self, *, path: Path, source: str | None, keep_script: bool, **_) -> None:
        from yiwang.hotline import knowledge

        if not path.exists():
            raise CommandError(f"no such file: {path}")
        stats = knowledge.import_csv(
            actor=SystemActor("cli:hotline kb-import"), path=path, source=source, simplify=not keep_script
        )
        self.stdout.write("知识库导入：新增 {created}，更新 {updated}，跳过 {skipped}".format(**stats))

    def do_kb_from_catalog(self, *, region: str | None, **_) -> None:
        from yiwang.hotline import knowledge

        stats = knowledge.import_catalog_faqs(actor=SystemActor("cli:hotline kb-from-catalog"), region_prefix=region)
        self.stdout.write("办事指南常见问题导入知识库：新增 {created}，更新 {updated}，停用 {retired}".format(**stats))

    def do_kb_stale(self, **_) -> None:
        from yiwang.hotline import knowledge

        rows = list(knowledge.stale_entries())
        for entry in rows:
            self.stdout.write(
                f"{entry.valid_until}\t{entry.department_name or '（未指定部门）'}\t{entry.question[:60]}"
            )
        self.stdout.write(f"过期知识 {len(rows)} 条")

    def do_categories_import(self, *, path: Path, **_) -> None:
        from yiwang.hotline import services

        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            stats = services.categories_import(actor=SystemActor("cli:hotline categories-import"), rows=list(reader))
        self.stdout.write("分类导入：新增 {created}，共 {total}".format(**stats))

    def do_open311_client(self, *, name: str, region: str, **_) -> None:
        from yiwang.hotline import open311

        client, key = open311.client_create(
            actor=SystemActor("cli:hotline open311-client"), name=name, region_code=region
        )
        self.stdout.write(f"Open311 客户端 {client.name} 已登记；api_key（仅显示一次）：{key}")

    def do_supervise_overdue(self, *, note: str, **_) -> None:
        from django.utils import timezone

        from yiwang.hotline import services
        from yiwang.hotline.models import WorkOrder
        from yiwang.hotline.selectors import overdue_q

        actor = SystemActor("cli:hotline supervise-overdue")
        count = 0
        for pk in WorkOrder.objects.filter(overdue_q(timezone.now())).values_list("pk", flat=True):
            services.order_supervise(actor=actor, order_id=pk, note=note)
            count += 1
        self.stdout.write(f"已督办超期工单 {count} 件")


def _csv_writer(fh, fields):
    return csv.DictWriter(fh, fieldnames=fields)
