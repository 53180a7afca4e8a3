"""``yiwang search`` — query the index and maintain it.

    yiwang search "QUERY" [--region CODE] [--json] [--limit N]   ranked results
    yiwang search rebuild [--no-progress]                         rebuild from the database (new generation)
    yiwang search update CODE [CODE ...]                          re-index service items now
    yiwang search suggest PREFIX                                  what the search box would suggest
    yiwang search hot                                             hot searches (last 7 days, pinned first)
    yiwang search zero [--limit N]                                queries that found nothing
    yiwang search stats                                           index location, size, documents

A query that is itself one of these words: ``yiwang search --query rebuild``.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.actors import SystemActor
from yiwang.core.errors import DomainError

SUBCOMMANDS = {"rebuild", "update", "suggest", "hot", "zero", "stats"}


class Command(BaseCommand):
    help = "Search the service index, or rebuild/update it (rebuild, update, suggest, hot, zero, stats)."

    def add_arguments(self, parser):
        parser.add_argument("words", nargs="*", help="a query, or a subcommand and its arguments")
        parser.add_argument("--query", help="search for this text even if it is a subcommand's name")
        parser.add_argument("--region", help="the user's region code (local implementations first)")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--limit", type=int, default=10)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        words = opts["words"]
        if opts["query"] is None and words and words[0] in SUBCOMMANDS:
            return getattr(self, f"do_{words[0]}")(words[1:], opts)
        query = opts["query"] if opts["query"] is not None else " ".join(words)
        return self.do_query(query, opts)

    def do_query(self, query: str, opts) -> None:
        from yiwang.search import selectors

        try:
            page = selectors.search(
                q=query, region=opts["region"], page_size=max(1, min(opts["limit"], 50)), channel="cli", log=False
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        r = page.results
        if opts["json"]:
            out = {
                "query": r.cleaned,
                "corrected": r.corrected,
                "total": r.total,
                "total_exact": r.total_exact,
                "took_ms": r.took_ms,
                "hits": [{**h.card, "score": round(h.score, 4)} for h in r.hits],
            }
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        if r.corrected:
            self.stdout.write(f"（按「{r.corrected}」检索）")
        self.stdout.write(f"{'' if r.total_exact else '约 '}{r.total} 条结果，{r.took_ms:.1f} ms")
        for rank, hit in enumerate(r.hits, 1):
            c = hit.card
            where = " · ".join(x for x in (c.get("department"), c.get("region_name")) if x)
            self.stdout.write(f"{rank:2d}. {c['title']}  [{c['kind']}:{c['code']}]  {where}  ({hit.score:.2f})")

    def do_rebuild(self, rest, opts) -> None:
        from tqdm import tqdm

        from yiwang.search import services, sources

        total = sources.count_documents()
        bar = tqdm(total=total, unit="doc", disable=opts["no_progress"], desc="索引", file=self.stderr._out)
        try:
            result = services.rebuild(actor=SystemActor("cli"), progress=bar.update)
        finally:
            bar.close()
        rate = result["documents"] / max(result["seconds"], 1e-9)
        self.stdout.write(
            self.style.SUCCESS(
                f"重建完成：{result['documents']} 个文档，{result['seconds']} 秒（{rate:,.0f}/秒），"
                f"代 {result['generation']}"
            )
        )

    def do_update(self, rest, opts) -> None:
        from yiwang.search import services

        if not rest:
            raise CommandError("usage: yiwang search update CODE [CODE ...]")
        self.stdout.write(json.dumps(services.update_items(item_codes=rest), ensure_ascii=False))

    def do_suggest(self, rest, opts) -> None:
        from yiwang.search import selectors

        for s in selectors.suggest(q=" ".join(rest), limit=opts["limit"]):
            self.stdout.write(s.text)

    def do_hot(self, rest, opts) -> None:
        from yiwang.search import selectors

        for term in selectors.hot_searches(limit=opts["limit"]):
            self.stdout.write(term)

    def do_zero(self, rest, opts) -> None:
        from yiwang.search import querylog, selectors

        querylog.flush()
        for row in selectors.zero_result_queries(limit=opts["limit"]):
            self.stdout.write(f"{row.count:6d}  {row.query}  (最近 {row.last_seen:%Y-%m-%d %H:%M})")

    def do_stats(self, rest, opts) -> None:
        from yiwang.search import selectors

        self.stdout.write(json.dumps(selectors.store().stats(), ensure_ascii=False, indent=2))
