import pytest


@pytest.fixture(autouse=True)
def _fresh_hotline_caches():
    from yiwang.hotline import classifier, dispatching, knowledge

    dispatching.forget()
    knowledge.forget()
    classifier.forget()
    yield
    dispatching.forget()
    knowledge.forget()
    classifier.forget()
