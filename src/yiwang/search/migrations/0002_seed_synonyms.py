"""Seed the synonym table from data/synonyms.txt (only rows whose term is not there yet)."""

from django.db import migrations


def seed(apps, schema_editor):
    from yiwang.search.synonyms import load_seed

    Synonym = apps.get_model("search", "Synonym")
    existing = set(Synonym.objects.values_list("term", flat=True))
    Synonym.objects.bulk_create(
        [
            Synonym(term=row.term, alternatives=", ".join(row.alternatives), two_way=row.two_way, weight=row.weight,
                    note="预置")
            for row in load_seed()
            if row.term not in existing and row.alternatives
        ]
    )


def unseed(apps, schema_editor):
    apps.get_model("search", "Synonym").objects.filter(note="预置").delete()


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
