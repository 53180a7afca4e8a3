"""Browser: a 新生儿出生一件事-style bundle filed once (the issue's "Done means").

The citizen answers the 情形 question, sees ONE form and ONE material list (the ID cards two members need
asked once; the birth certificate an earlier member issues not asked at all) and submits once. That
produces child cases in three departments: 出生医学证明签发 (卫生健康局) and 生育登记 (公安分局) in
parallel, then 城乡居民医保参保登记 (医疗保障局) after them. The back offices handle them; the citizen's
bundle page shows the stages move and the bundle complete, and the citizen gets ONE rating invitation for
the whole bundle.
"""

from __future__ import annotations

import pytest

from tests.cases.bundle_factories import finish, newborn_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD
from yiwang.cases import bundles
from yiwang.cases.models import BundleCase

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n% e2e material\n%%EOF\n"


@pytest.fixture
def nb(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    return newborn_world()


def test_bundle_filed_once_runs_in_three_departments_and_completes(page, nb):
    login(page, nb.applicant.username, PASSWORD)

    # the bundle guide: choose the situation, see what applying once saves
    page.goto(f"{page.base_url}/bundles/newborn/")
    page.get_by_label("是").first.check()
    page.get_by_role("button", name="生成办事清单").click()
    assert page.get_by_test_id("savings").is_visible()
    page.get_by_test_id("bundle-apply").click()

    # ONE form, ONE material list
    form = page.get_by_test_id("bundle-form")
    assert form.locator("input[name='f_child_name']").count() == 1
    assert page.locator("[data-testid=plan-item]").count() == 3
    materials = page.get_by_test_id("bundle-materials")
    assert materials.locator("tbody tr").filter(has_text="父母双方居民身份证").count() == 1
    assert "无需提交" in materials.locator("tbody tr").filter(has_text="出生医学证明签发").inner_text()
    page.fill("#f_child_name", "王小明")
    page.fill("#f_partner_name", "李芳")
    page.select_option("#f_delivery", "电子证照")
    plan = bundles.bundle_plan(bundle=nb.bundle, answers={"insure": "是"})
    for m in plan.asked_materials:
        if m.required or m.deferrable:
            page.set_input_files(
                f"#material_{m.index}", {"name": f"{m.material.name}.pdf", "mimeType": "application/pdf", "buffer": PDF}
            )
    page.get_by_test_id("bundle-submit").click()

    # one submission → children routed to their departments, two in parallel, one waiting
    page.wait_for_url("**/me/bundles/*/")
    parent = BundleCase.objects.get()
    children = page.locator("[data-testid=child]")
    assert children.count() == 3
    assert [children.nth(i).get_attribute("data-status") for i in range(3)] == ["running", "running", "waiting"]
    assert page.get_by_test_id("bundle-state").inner_text() == "办理中"
    stage1 = list(parent.children.select_related("case", "department").filter(stage=1))
    assert {c.case.department for c in stage1} == {nb.health, nb.police}

    # the two departments decide in parallel; the third starts only after both
    finish(nb, stage1[0].case)
    page.reload()
    assert page.locator("[data-testid=child][data-status=waiting]").count() == 1
    finish(nb, stage1[1].case)
    page.reload()
    assert page.locator("[data-testid=child][data-status=running]").count() == 1
    third = parent.children.select_related("case").get(stage=2)
    assert third.case.department == nb.insurance
    assert third.case.number in page.locator("[data-testid=child][data-status=running]").inner_text()

    finish(nb, third.case)
    page.reload()
    assert page.get_by_test_id("bundle-state").inner_text() == "已办结"
    assert page.locator("[data-testid=child][data-status=approved]").count() == 3
    assert page.get_by_test_id("bundle-progress").get_attribute("value") == "100"
    assert "全部事项已办结" in page.get_by_test_id("bundle-outcome").inner_text()

    # ONE evaluation invitation, for the whole bundle (the child cases are not rated one by one)
    assert page.get_by_test_id("bundle-rate").is_visible()
    page.goto(f"{page.base_url}/me/ratings/")
    pending = page.get_by_test_id("pending-ratings").locator("li")
    assert pending.count() == 1 and parent.number in pending.inner_text()

    # the citizen can open each child case from the bundle page
    page.goto(f"{page.base_url}/me/bundles/{parent.pk}/")
    page.locator("[data-testid=child]").first.get_by_role("link").click()
    assert page.get_by_test_id("bundle-link").is_visible()
