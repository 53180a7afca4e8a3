# ruff: noqa: E501 - a data table: one item per entry reads better than wrapped lines
"""Demo catalog: 62 service items over 12 departments of the demo city (广州市), county (天河区/越秀区) and
town (五山街道), with complete elements, and three 一件事 bundles.

Written for the demo by the project (names follow common national practice; limits, fees and laws are
realistic but this is not an official catalogue). Every item passes the quality rules and is published
through :func:`yiwang.catalog.services.item_publish`. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from typing import Any

from yiwang.catalog import services
from yiwang.catalog.gdzwfw import material_from_name
from yiwang.catalog.models import Bundle, CatalogItem, ServiceItem
from yiwang.core.actors import SystemActor
from yiwang.directory.models import Department, Window

from .foundation import DEPARTMENTS

ACTOR = SystemActor("demo:catalog")
COMPLAIN = "020-12345"

# Common application-form fields (申请表).
F_NAME = {"name": "applicant_name", "label": "申请人姓名", "type": "text", "required": True, "max_length": 50}
F_ID = {"name": "applicant_id", "label": "公民身份号码", "type": "id_number", "required": True}
F_PHONE = {"name": "phone", "label": "联系电话（手机）", "type": "phone", "required": True}
F_ADDR = {"name": "address", "label": "联系地址", "type": "text", "max_length": 200}
F_ORG = {"name": "org_name", "label": "单位/主体名称", "type": "text", "required": True, "max_length": 100}
F_CREDIT = {"name": "credit_code", "label": "统一社会信用代码", "type": "credit_code", "required": True}
F_AREA = {"name": "area", "label": "经营场所面积（平方米）", "type": "number", "min": "1", "max": "100000"}
F_DELIVERY = {
    "name": "delivery",
    "label": "结果领取方式",
    "type": "select",
    "options": ["窗口领取", "邮政寄递", "电子证照"],
    "required": True,
}
PERSON_FORM = [F_NAME, F_ID, F_PHONE, F_ADDR, F_DELIVERY]
ORG_FORM = [F_ORG, F_CREDIT, F_NAME, F_ID, F_PHONE, F_DELIVERY]

# fmt: off
# (key, department key, name, item type, legal days, promised days, visits, online depth, personal themes,
#  corporate themes, service objects, law, materials ("?" 非必要, "~" 容缺后补, "!" 可告知承诺替代), fees [(name, standard, basis)],
#  result (name, type) or None, extra form fields, FAQ [(q, a)])
ITEMS: list[tuple] = [
    # 广州市市场监督管理局
    ("company_setup", "gz_amr", "企业设立登记", "01", 15, 1, 0, 4, [], ["设立变更"], ["1", "2", "5"],
     "《中华人民共和国市场主体登记管理条例》第三条",
     ["企业设立登记申请书", "公司章程", "股东的主体资格证明", "法定代表人、董事、监事和经理的任职文件", "住所使用相关文件", "~前置审批文件（如有）"],
     [], ("营业执照", "certificate"), [F_ORG],
     [("设立公司需要多长时间？", "材料齐全的，1个工作日内办结，可同时领取电子营业执照。")]),
    ("company_change", "gz_amr", "企业变更登记", "01", 15, 3, 0, 4, [], ["设立变更"], ["2", "5"],
     "《中华人民共和国市场主体登记管理条例》第二十四条",
     ["企业变更登记申请书", "营业执照", "变更事项的决议或决定", "?章程修正案"],
     [], ("营业执照", "certificate"), [F_ORG, F_CREDIT],
     [("变更地址需要到原登记机关吗？", "跨区迁移的在迁入地登记机关办理，无需往返。")]),
    ("company_close", "gz_amr", "企业注销登记", "01", 15, 3, 0, 4, [], ["注销清算"], ["2", "5"],
     "《中华人民共和国市场主体登记管理条例》第三十一条",
     ["注销登记申请书", "清算报告", "清税证明", "营业执照"],
     [], ("准予注销登记通知书", "approval"), [F_ORG, F_CREDIT],
     [("什么情况可以简易注销？", "未发生债权债务或已将债权债务清偿完结的，可公示20日后申请简易注销。")]),
    ("special_equipment", "gz_amr", "特种设备使用登记", "01", 15, 5, 0, 4, [], ["准营准办"], ["2", "3", "5"],
     "《中华人民共和国特种设备安全法》第三十三条",
     ["特种设备使用登记表", "产品合格证", "监督检验证明", "营业执照"],
     [], ("特种设备使用登记证", "certificate"), [F_ORG, F_CREDIT, {"name": "equipment", "label": "设备名称及型号", "type": "text", "required": True}],
     [("电梯使用登记由谁申请？", "由电梯使用单位（一般为物业服务企业）申请。")]),
    ("food_production", "gz_amr", "食品生产许可", "01", 20, 10, 1, 3, [], ["准营准办"], ["2", "5"],
     "《中华人民共和国食品安全法》第三十五条",
     ["食品生产许可申请书", "营业执照", "食品生产加工场所及其周围环境平面图", "食品生产主要设备、设施清单", "食品安全管理制度文本"],
     [], ("食品生产许可证", "certificate"), [F_ORG, F_CREDIT, F_AREA],
     [("需要现场核查吗？", "需要，审批部门在受理后10个工作日内组织现场核查。")]),
    # 广州市人力资源和社会保障局
    ("ss_card", "gz_hrss", "社会保障卡申领", "20", 20, 10, 0, 4, ["社会保障", "生育收养"], [], ["1"],
     "《中华人民共和国社会保险法》第五十八条",
     ["居民身份证", "?监护人身份证明（未成年人申领时）", "近期免冠证件照"],
     [], ("社会保障卡", "certificate"), [],
     [("新生儿可以申领社保卡吗？", "可以，由监护人持出生医学证明和户口簿代为申领。")]),
    ("unemployment_benefit", "gz_hrss", "失业保险金申领", "05", 15, 5, 0, 4, ["就业创业", "社会保障"], [], ["1"],
     "《失业保险条例》第十四条",
     ["居民身份证", "解除或者终止劳动关系的证明"],
     [], ("失业保险金核定通知", "proof"), [{"name": "bank_account", "label": "本人银行账号", "type": "text", "required": True, "pattern": r"\d{12,19}"}],
     [("领取失业保险金需要什么条件？", "非本人意愿中断就业、已办理失业登记并有求职要求、缴费满一年。")]),
    ("pension_claim", "gz_hrss", "职工基本养老保险待遇申领", "05", 20, 10, 0, 4, ["退休养老"], [], ["1"],
     "《中华人民共和国社会保险法》第十六条",
     ["居民身份证", "?个人档案（视同缴费年限认定时）", "退休审批表"],
     [], ("基本养老金核定表", "proof"), [{"name": "bank_account", "label": "养老金发放银行账号", "type": "text", "required": True, "pattern": r"\d{12,19}"}],
     [("退休后多久能领到养老金？", "待遇核定后次月起按月发放至本人社保卡金融账户。")]),
    ("employment_card", "gz_hrss", "就业创业证申领", "20", 10, 1, 0, 4, ["就业创业"], [], ["1"],
     "《就业服务与就业管理规定》第六十一条",
     ["居民身份证", "?户口簿"],
     [], ("就业创业证", "certificate"), [],
     [("就业创业证有什么用？", "用于享受就业创业扶持政策、记录就业失业状况。")]),
    ("skill_cert_reissue", "gz_hrss", "技能人员职业资格证书补发", "20", 20, 5, 0, 4, ["职业资格"], [], ["1"],
     "《国家职业资格证书制度暂行规定》",
     ["居民身份证", "证书补发申请表"],
     [], ("职业资格证书（补发）", "certificate"), [],
     [("证书遗失需要登报吗？", "不需要，在线承诺后即可申请补发。")]),
    # 广州住房公积金管理中心
    ("hf_withdraw_buy", "gz_hf", "住房公积金提取（购买自住住房）", "05", 5, 3, 0, 4, ["住房保障"], [], ["1"],
     "《住房公积金管理条例》第二十四条",
     ["居民身份证", "购房合同", "购房发票", "?结婚证（提取配偶公积金时）"],
     [], ("提取审批结果", "proof"), [{"name": "bank_account", "label": "收款银行账号", "type": "text", "required": True, "pattern": r"\d{12,19}"}],
     [("配偶可以一起提取吗？", "可以，夫妻双方均可就同一套住房申请提取。")]),
    ("hf_withdraw_rent", "gz_hf", "住房公积金提取（租赁住房）", "05", 5, 1, 0, 4, ["住房保障"], [], ["1"],
     "《住房公积金管理条例》第二十四条",
     ["居民身份证", "?住房租赁合同"],
     [], ("提取审批结果", "proof"), [{"name": "bank_account", "label": "收款银行账号", "type": "text", "required": True, "pattern": r"\d{12,19}"}],
     [("租房提取每年可以提几次？", "按月或按年提取均可，年度提取总额不超过规定限额。")]),
    ("hf_withdraw_retire", "gz_hf", "住房公积金提取（离休、退休）", "05", 5, 1, 0, 4, ["退休养老"], [], ["1"],
     "《住房公积金管理条例》第二十四条",
     ["居民身份证", "退休证"],
     [], ("提取审批结果", "proof"), [{"name": "bank_account", "label": "收款银行账号", "type": "text", "required": True, "pattern": r"\d{12,19}"}],
     [("退休后公积金账户会怎样？", "全部提取后销户，账户余额连同利息一次性转入本人账户。")]),
    ("hf_loan", "gz_hf", "个人住房公积金贷款", "20", 15, 10, 1, 3, ["住房保障"], [], ["1"],
     "《住房公积金管理条例》第二十六条",
     ["居民身份证", "购房合同", "婚姻状况证明", "收入证明", "首付款证明"],
     [], ("借款合同", "approval"), [{"name": "loan_amount", "label": "申请贷款金额（万元）", "type": "number", "min": "1", "max": "200", "required": True}],
     [("公积金贷款最高额度是多少？", "按当地现行政策执行，并与缴存余额挂钩。")]),
    ("hf_deposit_register", "gz_hf", "单位住房公积金缴存登记", "20", 5, 1, 0, 4, [], ["人力资源"], ["2", "3", "4", "5"],
     "《住房公积金管理条例》第十四条",
     ["营业执照", "单位住房公积金缴存登记表"],
     [], ("缴存登记回执", "proof"), [F_ORG, F_CREDIT],
     [("新设立单位多久内要办理缴存登记？", "自设立之日起30日内办理。")]),
    # 广州市公安局
    ("birth_hukou", "gz_psb", "出生登记", "07", 10, 1, 0, 4, ["生育收养", "户籍办理"], [], ["1"],
     "《中华人民共和国户口登记条例》第七条",
     ["出生医学证明", "父母双方居民户口簿", "父母双方居民身份证", "?结婚证"],
     [], ("居民户口簿（登记页）", "certificate"),
     [{"name": "child_name", "label": "新生儿姓名", "type": "text", "required": True, "max_length": 20}],
     [("出生多久内需要申报户口？", "婴儿出生后一个月以内申报出生登记。")]),
    ("id_card", "gz_psb", "居民身份证申领", "07", 60, 20, 1, 2, ["证件办理"], [], ["1"],
     "《中华人民共和国居民身份证法》第八条",
     ["居民户口簿", "?原居民身份证（换领时）"],
     [("居民身份证工本费", "20元/证（临时身份证10元/证）", "《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》（发改价格〔2003〕2322号）")],
     ("居民身份证", "certificate"), [],
     [("身份证可以异地办理吗？", "可以，在全国任一公安机关出入境或户政窗口申请异地换领、补领。")]),
    ("hukou_move_in", "gz_psb", "户口迁入", "07", 20, 10, 0, 4, ["户籍办理"], [], ["1"],
     "《中华人民共和国户口登记条例》第十三条",
     ["居民户口簿", "居民身份证", "合法稳定住所证明", "?人才引进批准文件"],
     [], ("准予迁入证明", "proof"), [],
     [("户口迁入需要回原籍办理迁出吗？", "省内迁移实行“一站式”办理，无需回原籍。")]),
    ("residence_permit", "gz_psb", "居住证申领", "07", 15, 10, 0, 4, ["证件办理"], [], ["1"],
     "《居住证暂行条例》第九条",
     ["居民身份证", "居住登记凭证", "合法稳定就业、住所或者连续就读证明之一"],
     [], ("广东省居住证", "certificate"), [],
     [("居住证有效期多久？", "有效期为三年，期满可申请续期。")]),
    ("hk_macau_endorse", "gz_psb", "往来港澳通行证签注", "01", 10, 5, 0, 4, ["出境入境"], [], ["1"],
     "《中国公民因私事往来香港地区或者澳门地区的暂行管理办法》第十二条",
     ["往来港澳通行证", "居民身份证"],
     [("往来港澳签注费", "一次有效15元/件，二次有效30元/件", "《国家发展改革委 财政部关于调整部分因私出入境证照收费标准的通知》（发改价格〔2019〕1164号）")],
     ("往来港澳签注", "certificate"), [],
     [("可以在自助机上办理签注吗？", "持电子往来港澳通行证的，可在24小时自助签注机即时办理。")]),
    ("death_hukou", "gz_psb", "死亡注销户口", "07", 10, 0, 0, 4, ["身后事"], [], ["1"],
     "《中华人民共和国户口登记条例》第八条",
     ["死亡医学证明", "死者居民户口簿", "?死者居民身份证"],
     [], ("注销户口证明", "proof"), [{"name": "deceased_name", "label": "死者姓名", "type": "text", "required": True}],
     [("谁来申报死亡登记？", "由户主、亲属、抚养人或者邻居在一个月以内申报。")]),
    # 天河区市场监督管理局
    ("food_business", "th_amr", "食品经营许可证核发（新办）", "01", 20, 5, 0, 4, ["就业创业"], ["准营准办"], ["1", "2", "5"],
     "《中华人民共和国食品安全法》第三十五条",
     ["食品经营许可申请书", "营业执照", "!与食品经营相适应的主要设备设施布局、操作流程等文件", "食品安全管理制度", "~食品安全管理人员培训考核证明"],
     [], ("食品经营许可证", "certificate"), [F_ORG, F_CREDIT, F_AREA, {"name": "category", "label": "经营项目", "type": "multiselect", "options": ["热食类食品制售", "冷食类食品制售", "生食类食品制售", "自制饮品制售", "预包装食品销售"], "required": True}],
     [("小餐饮也要办食品经营许可证吗？", "小餐饮按《广东省食品生产加工小作坊和食品摊贩管理条例》办理登记，其余餐饮服务须办理许可。"),
      ("食品经营许可证有效期多久？", "有效期为5年。")]),
    ("food_business_change", "th_amr", "食品经营许可变更", "01", 20, 5, 0, 4, [], ["准营准办"], ["1", "2", "5"],
     "《食品经营许可和备案管理办法》第三十条",
     ["食品经营许可变更申请书", "食品经营许可证", "与变更事项有关的材料"],
     [], ("食品经营许可证", "certificate"), [F_ORG, F_CREDIT],
     [("经营场所变了怎么办？", "经营场所改变的，应当重新申请食品经营许可。")]),
    ("individual_setup", "th_amr", "个体工商户设立登记", "01", 15, 0, 0, 4, ["就业创业"], ["设立变更"], ["1"],
     "《促进个体工商户发展条例》第八条",
     ["个体工商户设立登记申请书", "经营者居民身份证", "经营场所使用证明"],
     [], ("营业执照", "certificate"), [{"name": "shop_name", "label": "个体工商户名称", "type": "text", "max_length": 50}],
     [("个体户可以没有字号名称吗？", "可以，未使用名称的以经营者姓名登记。")]),
    ("individual_close", "th_amr", "个体工商户注销登记", "01", 15, 0, 0, 4, [], ["注销清算"], ["1"],
     "《促进个体工商户发展条例》第十一条",
     ["个体工商户注销登记申请书", "营业执照"],
     [], ("准予注销登记通知书", "approval"), [F_NAME, F_ID, F_PHONE],
     [("注销前要先清税吗？", "未涉及税务事项的可直接申请简易注销。")]),
    ("small_catering", "th_amr", "小餐饮经营许可（登记）", "01", 15, 5, 0, 4, ["就业创业"], ["准营准办"], ["1"],
     "《广东省食品生产加工小作坊和食品摊贩管理条例》第三十三条",
     ["小餐饮登记申请表", "经营者居民身份证", "健康证明", "经营场所使用证明"],
     [], ("小餐饮经营许可证", "certificate"), [F_AREA],
     [("健康证明怎么办？", "到有资质的体检机构体检，合格后取得健康证明。")]),
    ("licence_reissue", "th_amr", "营业执照补领", "20", 5, 0, 0, 4, [], ["设立变更"], ["1", "2", "5"],
     "《中华人民共和国市场主体登记管理条例实施细则》第六十二条",
     ["营业执照遗失补领申请书"],
     [], ("营业执照（补领）", "certificate"), [F_ORG, F_CREDIT],
     [("遗失后是否需要登报声明？", "不需要，通过国家企业信用信息公示系统公示即可。")]),
    # 天河区民政局
    ("marriage", "th_civil", "内地居民结婚登记", "07", 1, 0, 1, 2, ["婚姻登记"], [], ["1"],
     "《中华人民共和国民法典》第一千零四十九条",
     ["双方居民身份证", "双方居民户口簿", "双方近期半身免冠合影照片"],
     [], ("结婚证", "certificate"), [{"name": "partner_name", "label": "对方姓名", "type": "text", "required": True}, {"name": "partner_id", "label": "对方公民身份号码", "type": "id_number", "required": True}],
     [("结婚登记可以异地办理吗？", "试点地区可凭一方居住证在居住地办理“跨省通办”。")]),
    ("divorce", "th_civil", "内地居民离婚登记", "07", 30, 30, 2, 2, ["婚姻登记"], [], ["1"],
     "《中华人民共和国民法典》第一千零七十六条",
     ["双方居民身份证", "双方居民户口簿", "结婚证", "离婚协议书"],
     [], ("离婚证", "certificate"), [{"name": "partner_name", "label": "对方姓名", "type": "text", "required": True}],
     [("什么是离婚冷静期？", "自婚姻登记机关收到申请之日起三十日内，任何一方可撤回申请。")]),
    ("dibao", "th_civil", "最低生活保障申请", "05", 30, 20, 0, 4, ["社会保障"], [], ["1"],
     "《社会救助暂行办法》第十一条",
     ["居民身份证", "居民户口簿", "家庭经济状况核对授权书", "?残疾人证"],
     [], ("最低生活保障证", "certificate"), [{"name": "family_size", "label": "家庭人口数", "type": "number", "min": "1", "max": "20", "required": True}],
     [("低保标准是多少？", "按本市当年公布的城乡低保标准执行。")]),
    ("temp_relief", "th_civil", "临时救助", "05", 15, 7, 0, 4, ["社会保障"], [], ["1"],
     "《社会救助暂行办法》第四十七条",
     ["居民身份证", "临时救助申请书", "?相关支出凭证"],
     [], ("临时救助审批结果", "proof"), [],
     [("急难情况能先救助吗？", "情况紧急的，可先行救助，事后补齐手续。")]),
    ("elderly_allowance", "th_civil", "高龄老人津贴申领", "05", 20, 10, 0, 4, ["退休养老"], [], ["1"],
     "《广东省老年人权益保障条例》第三十条",
     ["居民身份证", "?银行账户信息"],
     [], ("高龄津贴核定结果", "proof"), [],
     [("多少岁可以领取高龄津贴？", "本市户籍年满70周岁的老年人可申领。")]),
    ("disability_subsidy", "th_civil", "困难残疾人生活补贴和重度残疾人护理补贴", "05", 20, 15, 0, 4, ["残疾人"], [], ["1"],
     "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
     ["居民身份证", "残疾人证"],
     [], ("补贴审批结果", "proof"), [],
     [("两项补贴可以同时享受吗？", "符合条件的可同时享受。")]),
    ("funeral_subsidy", "th_civil", "基本殡葬服务费用减免", "05", 10, 5, 0, 4, ["身后事"], [], ["1"],
     "《殡葬管理条例》",
     ["死亡医学证明", "经办人居民身份证"],
     [], ("减免结算凭证", "proof"), [{"name": "deceased_name", "label": "逝者姓名", "type": "text", "required": True}],
     [("减免哪些项目？", "遗体接运、暂存、火化和骨灰寄存等基本殡葬服务费用。")]),
    ("elderly_institution", "th_civil", "养老机构备案", "10", 10, 5, 0, 4, [], ["准营准办"], ["2", "3", "4"],
     "《中华人民共和国老年人权益保障法》第四十三条",
     ["养老机构备案书", "营业执照", "服务场所权属证明", "消防安全检查相关证明"],
     [], ("养老机构备案回执", "proof"), [F_ORG, F_CREDIT],
     [("备案后多久接受检查？", "民政部门自备案之日起20个工作日内进行现场检查。")]),
    # 天河区卫生健康局
    ("birth_certificate", "th_health", "出生医学证明签发", "20", 5, 1, 0, 4, ["生育收养"], [], ["1"],
     "《中华人民共和国母婴保健法》第二十三条",
     ["父母双方居民身份证", "出生医学证明自填单"],
     [], ("出生医学证明", "certificate"), [{"name": "child_name", "label": "新生儿姓名", "type": "text", "required": True, "max_length": 20}],
     [("出生医学证明可以补发吗？", "遗失的可向签发机构申请补发。")]),
    ("birth_registration", "th_health", "生育登记", "20", 5, 0, 0, 4, ["生育收养"], [], ["1"],
     "《广东省人口与计划生育条例》第十八条",
     ["夫妻双方居民身份证"],
     [], ("生育登记回执", "proof"), [{"name": "partner_name", "label": "配偶姓名", "type": "text", "required": True}],
     [("生育登记需要到现场吗？", "全程网办，在线提交后即时办结。")]),
    ("medical_institution", "th_health", "医疗机构执业登记", "01", 45, 20, 1, 3, [], ["准营准办"], ["2", "3", "4"],
     "《医疗机构管理条例》第十五条",
     ["医疗机构执业登记申请书", "营业执照", "医疗机构用房产权证明或者使用证明", "医疗机构建筑设计平面图", "卫生技术人员名录及执业证书"],
     [], ("医疗机构执业许可证", "certificate"), [F_ORG, F_CREDIT],
     [("诊所是否还需要许可？", "诊所实行备案管理，其他医疗机构须执业登记。")]),
    ("public_place_hygiene", "th_health", "公共场所卫生许可", "01", 20, 5, 0, 4, [], ["准营准办"], ["1", "2", "5"],
     "《公共场所卫生管理条例》第八条",
     ["公共场所卫生许可申请表", "营业执照", "卫生管理制度", "从业人员健康证明"],
     [], ("公共场所卫生许可证", "certificate"), [F_ORG, F_CREDIT, F_AREA],
     [("哪些场所要办卫生许可？", "宾馆、美容美发、游泳场所等；饭馆、咖啡馆等已取消。")]),
    ("only_child_reward", "th_health", "独生子女父母奖励", "05", 30, 15, 0, 4, ["生育收养", "退休养老"], [], ["1"],
     "《广东省人口与计划生育条例》第四十一条",
     ["居民身份证", "独生子女父母光荣证"],
     [], ("奖励审批结果", "proof"), [],
     [("奖励怎么发放？", "审批后发放至本人社保卡金融账户。")]),
    ("maternal_health", "th_health", "母婴保健技术服务执业许可", "01", 20, 10, 1, 3, [], ["准营准办"], ["3"],
     "《中华人民共和国母婴保健法》第三十二条",
     ["母婴保健技术服务执业许可申请登记书", "医疗机构执业许可证", "卫生技术人员资格证书"],
     [], ("母婴保健技术服务执业许可证", "certificate"), [F_ORG, F_CREDIT],
     [("许可有效期多久？", "有效期为3年。")]),
    # 天河区人力资源和社会保障局
    ("flex_ss_register", "th_hrss", "灵活就业人员参保登记", "20", 5, 0, 0, 4, ["社会保障", "就业创业"], [], ["1"],
     "《中华人民共和国社会保险法》第十条",
     ["居民身份证"],
     [], ("参保登记回执", "proof"), [],
     [("灵活就业可以只交养老保险吗？", "可以按规定选择参加职工养老保险和医疗保险。")]),
    ("resident_pension_register", "th_hrss", "城乡居民基本养老保险参保登记", "20", 5, 0, 0, 4, ["社会保障"], [], ["1"],
     "《国务院关于建立统一的城乡居民基本养老保险制度的意见》",
     ["居民身份证", "居民户口簿"],
     [], ("参保登记回执", "proof"), [],
     [("缴费档次怎么选？", "可在当年公布的缴费档次中自主选择。")]),
    ("resident_pension_claim", "th_hrss", "城乡居民基本养老保险待遇申领", "05", 20, 10, 0, 4, ["退休养老"], [], ["1"],
     "《国务院关于建立统一的城乡居民基本养老保险制度的意见》",
     ["居民身份证", "居民户口簿"],
     [], ("待遇核定表", "proof"), [],
     [("什么时候可以领取？", "年满60周岁、累计缴费满15年的，可按月领取。")]),
    ("hard_employment", "th_hrss", "就业困难人员认定", "07", 10, 5, 0, 4, ["就业创业"], [], ["1"],
     "《中华人民共和国就业促进法》第五十二条",
     ["居民身份证", "就业创业证", "?相关困难情形证明"],
     [], ("就业困难人员认定结果", "proof"), [],
     [("认定后能享受什么？", "公益性岗位安置、社保补贴等援助政策。")]),
    ("startup_subsidy", "th_hrss", "一次性创业资助申领", "05", 20, 15, 0, 4, ["就业创业"], ["设立变更"], ["1", "2", "5"],
     "《广东省人力资源和社会保障厅 广东省财政厅关于进一步做好促进创业带动就业工作的通知》",
     ["营业执照", "经营者居民身份证", "创业场所租赁合同"],
     [], ("资助审核结果", "proof"), [F_ORG, F_CREDIT],
     [("资助金额是多少？", "按当地现行标准执行，每户一次性发放。")]),
    ("labour_record", "th_hrss", "劳动用工备案", "10", 5, 0, 0, 4, [], ["人力资源"], ["2", "3", "4", "5"],
     "《劳动和社会保障部关于建立劳动用工备案制度的通知》",
     ["营业执照", "劳动用工备案表"],
     [], ("劳动用工备案回执", "proof"), [F_ORG, F_CREDIT, {"name": "employees", "label": "招用人数", "type": "number", "min": "1", "max": "100000", "required": True}],
     [("什么时候要办理用工备案？", "招用职工后30日内办理。")]),
    # 天河区教育局
    ("primary_enrol", "th_edu", "小学一年级新生入学报名", "20", 30, 20, 0, 4, ["教育科研"], [], ["1"],
     "《中华人民共和国义务教育法》第十二条",
     ["适龄儿童居民户口簿", "父母居民身份证", "房屋产权证明或居住证明", "?居住证（非本市户籍）"],
     [], ("学位分配通知", "proof"), [{"name": "child_name", "label": "儿童姓名", "type": "text", "required": True}, {"name": "child_id", "label": "儿童公民身份号码", "type": "id_number", "required": True}],
     [("什么时候报名？", "每年5月至6月，以当年招生公告为准。")]),
    ("private_school", "th_edu", "民办学校设立审批", "01", 90, 30, 1, 3, [], ["设立变更"], ["2", "3", "4"],
     "《中华人民共和国民办教育促进法》第十二条",
     ["申办报告", "举办者资格证明文件", "拟任校长基本情况", "资产及经费来源证明", "学校章程"],
     [], ("办学许可证", "certificate"), [F_ORG, F_CREDIT],
     [("分几步审批？", "分筹设和正式设立两步，具备条件的可直接申请正式设立。")]),
    ("training_institution", "th_edu", "校外培训机构审批", "01", 30, 15, 1, 3, [], ["准营准办"], ["2", "4"],
     "《中华人民共和国民办教育促进法》第十二条",
     ["申请书", "举办者资格证明文件", "场所证明", "?消防安全证明"],
     [], ("办学许可证", "certificate"), [F_ORG, F_CREDIT],
     [("面积有要求吗？", "按本地校外培训机构设置标准执行。")]),
    ("teacher_cert", "th_edu", "教师资格认定", "01", 30, 20, 0, 4, ["职业资格"], [], ["1"],
     "《教师资格条例》第十四条",
     ["居民身份证", "学历证书", "教师资格考试合格证明", "体检合格证明"],
     [], ("教师资格证书", "certificate"), [{"name": "subject", "label": "任教学科", "type": "text", "required": True}],
     [("认定每年开放几次？", "每年春、秋两次，以认定公告为准。")]),
    # 天河区住房和建设局
    ("public_rental", "th_housing", "公共租赁住房申请", "05", 60, 40, 0, 4, ["住房保障"], [], ["1"],
     "《公共租赁住房管理办法》第七条",
     ["居民身份证", "居民户口簿", "家庭收入证明", "住房情况证明"],
     [], ("公共租赁住房资格审核结果", "proof"), [{"name": "family_size", "label": "家庭人口数", "type": "number", "min": "1", "max": "20", "required": True}],
     [("申请后要等多久？", "资格审核通过后轮候配租，轮候期限以公告为准。")]),
    ("lease_register", "th_housing", "房屋租赁登记备案", "10", 3, 0, 0, 4, ["住房保障"], [], ["1", "2"],
     "《商品房屋租赁管理办法》第十四条",
     ["房屋租赁合同", "出租人和承租人身份证明", "房屋权属证明"],
     [], ("房屋租赁登记备案证明", "proof"), [{"name": "house_address", "label": "房屋地址", "type": "text", "required": True}],
     [("备案有什么用？", "可用于办理居住证、子女入学、公积金提取等。")]),
    ("construction_permit", "th_housing", "建筑工程施工许可证核发", "01", 15, 3, 0, 4, [], ["规划建设"], ["2", "3", "5"],
     "《中华人民共和国建筑法》第七条",
     ["建筑工程施工许可申请表", "建设工程规划许可证", "施工合同", "~施工图设计文件审查合格书"],
     [], ("建筑工程施工许可证", "certificate"), [F_ORG, F_CREDIT, {"name": "project", "label": "工程名称", "type": "text", "required": True}],
     [("哪些工程可以不办施工许可？", "工程投资额在30万元以下或建筑面积在300平方米以下的可以不申请。")]),
    ("house_safety", "th_housing", "房屋安全鉴定申请", "20", 30, 20, 0, 4, ["住房保障"], [], ["1", "2"],
     "《城市危险房屋管理规定》第六条",
     ["房屋安全鉴定申请书", "房屋权属证明", "?房屋图纸"],
     [("房屋安全鉴定费", "按建筑面积计收，执行市价格主管部门核定标准", "《广东省物价局关于房屋安全鉴定收费标准的复函》")],
     ("房屋安全鉴定报告", "report"), [{"name": "house_address", "label": "房屋地址", "type": "text", "required": True}],
     [("鉴定费谁出？", "由申请人承担，经鉴定属危险房屋的由所有人承担。")]),
    # 五山街道办事处
    ("resident_medical", "th_ws", "城乡居民基本医疗保险参保登记", "20", 5, 0, 0, 4, ["社会保障", "生育收养"], [], ["1"],
     "《中华人民共和国社会保险法》第二十五条",
     ["居民身份证或出生医学证明", "居民户口簿"],
     [("城乡居民医保个人缴费", "按当年度本市公布的个人缴费标准缴纳", "《广州市城乡居民社会医疗保险办法》")],
     ("参保登记回执", "proof"), [],
     [("新生儿什么时候参保？", "出生后90日内参保缴费的，自出生之日起享受待遇。")]),
    ("elderly_card", "th_ws", "老年人优待证办理", "20", 5, 0, 0, 4, ["退休养老"], [], ["1"],
     "《中华人民共和国老年人权益保障法》第五十七条",
     ["居民身份证", "近期免冠证件照"],
     [], ("老年人优待证", "certificate"), [],
     [("优待证有什么用？", "凭证享受公园、公共交通等优待服务。")]),
    ("residence_proof", "th_ws", "居住证明开具", "20", 3, 0, 0, 4, ["证件办理"], [], ["1"],
     "《国务院办公厅关于做好证明事项清理工作的通知》",
     ["居民身份证", "?住房租赁合同"],
     [], ("居住证明", "proof"), [{"name": "purpose", "label": "证明用途", "type": "text", "required": True}],
     [("哪些情况需要开具居住证明？", "仅在无法通过数据共享核验居住情况时开具。")]),
    ("disability_card", "th_ws", "残疾人证申领受理", "07", 20, 15, 1, 3, ["残疾人"], [], ["1"],
     "《中国残疾人联合会关于印发〈中华人民共和国残疾人证管理办法〉的通知》",
     ["居民身份证", "居民户口簿", "近期免冠证件照"],
     [], ("中华人民共和国残疾人证", "certificate"), [],
     [("残疾评定在哪里做？", "到指定评残医院进行残疾评定。")]),
    ("community_relief", "th_ws", "困难群众临时救助受理", "05", 10, 5, 0, 4, ["社会保障"], [], ["1"],
     "《社会救助暂行办法》第四十八条",
     ["居民身份证", "临时救助申请书"],
     [], ("临时救助受理回执", "proof"), [],
     [("街道能直接发放救助吗？", "急难型救助由街道直接审批发放。")]),
    # 越秀区市场监督管理局
    ("yx_food_business", "yx_amr", "食品经营许可证核发（新办）", "01", 20, 5, 0, 4, ["就业创业"], ["准营准办"], ["1", "2", "5"],
     "《中华人民共和国食品安全法》第三十五条",
     ["食品经营许可申请书", "营业执照", "与食品经营相适应的主要设备设施布局、操作流程等文件", "食品安全管理制度"],
     [], ("食品经营许可证", "certificate"), [F_ORG, F_CREDIT, F_AREA],
     [("可以先开业后领证吗？", "不可以，须取得许可后方可经营。")]),
    ("yx_individual_setup", "yx_amr", "个体工商户设立登记", "01", 15, 0, 0, 4, ["就业创业"], ["设立变更"], ["1"],
     "《促进个体工商户发展条例》第八条",
     ["个体工商户设立登记申请书", "经营者居民身份证", "经营场所使用证明"],
     [], ("营业执照", "certificate"), [],
     [("可以全程网上办理吗？", "可以，通过广东政务服务网提交，电子营业执照即时发放。")]),
    # 天河区政务服务和数据管理局
    ("th_agency_service", "th_gov", "帮办代办服务申请", "20", 5, 1, 0, 4, ["其他"], ["其他"], ["1", "2"],
     "《国务院关于加快推进政务服务标准化规范化便利化的指导意见》（国发〔2022〕5号）",
     ["居民身份证", "?授权委托书"],
     [], ("帮办代办服务确认单", "proof"), [{"name": "item_wanted", "label": "需要帮办的事项", "type": "textarea", "required": True, "max_length": 500}],
     [("帮办代办收费吗？", "政务服务中心提供的帮办代办服务免费。")]),
]
# fmt: on

BUNDLES = [
    {
        "code": "newborn",
        "name": "新生儿出生一件事",
        "audience": "personal",
        "stage": "生育收养",
        "lead": "th_health",
        "promised_days": 5,
        "windows": [("天河区政务服务中心", "10")],
        "description": "新生儿出生后，一次申请即可办理出生医学证明、出生登记（落户）、城乡居民医保参保和社会保障卡申领。",
        "scenarios": [
            {"key": "hukou", "question": "新生儿是否在本市落户？", "options": ["是", "否"]},
            {"key": "ss_card", "question": "是否同时申领社会保障卡？", "options": ["是", "否"]},
        ],
        "members": [
            ("birth_certificate", 1, {}, ""),
            ("birth_registration", 1, {}, ""),
            ("birth_hukou", 2, {"key": "hukou", "in": ["是"]}, "在本市落户的"),
            ("resident_medical", 3, {}, ""),
            ("ss_card", 3, {"key": "ss_card", "in": ["是"]}, "需要社会保障卡的"),
        ],
    },
    {
        "code": "open-restaurant",
        "name": "开办餐饮店一件事",
        "audience": "corporate",
        "stage": "准营准办",
        "lead": "th_amr",
        "promised_days": 5,
        "windows": [("天河区政务服务中心", "8")],
        "description": "开办餐饮店，一次申请办理主体登记、食品经营许可、公共场所卫生许可（需要时）和用工备案。",
        "scenarios": [
            {"key": "entity", "question": "经营主体类型", "options": ["企业", "个体工商户"]},
            {"key": "size", "question": "经营规模", "options": ["小餐饮", "餐饮服务"]},
            {"key": "employees", "question": "是否招用员工？", "options": ["是", "否"]},
        ],
        "members": [
            ("company_setup", 1, {"key": "entity", "in": ["企业"]}, "以企业形式经营的"),
            ("individual_setup", 1, {"key": "entity", "in": ["个体工商户"]}, "以个体工商户形式经营的"),
            ("food_business", 2, {"key": "size", "in": ["餐饮服务"]}, "餐饮服务"),
            ("small_catering", 2, {"key": "size", "in": ["小餐饮"]}, "小餐饮"),
            ("labour_record", 3, {"key": "employees", "in": ["是"]}, "招用员工的"),
        ],
    },
    {
        "code": "retirement",
        "name": "退休一件事",
        "audience": "personal",
        "stage": "退休养老",
        "lead": "th_hrss",
        "promised_days": 10,
        "windows": [("天河区政务服务中心", "10")],
        "description": "职工退休时一次申请，联办养老保险待遇申领、住房公积金提取和老年人优待证。",
        "scenarios": [
            {"key": "housing_fund", "question": "是否缴存了住房公积金？", "options": ["是", "否"]},
            {"key": "age60", "question": "是否已年满60周岁？", "options": ["是", "否"]},
        ],
        "members": [
            ("pension_claim", 1, {}, ""),
            ("hf_withdraw_retire", 2, {"key": "housing_fund", "in": ["是"]}, "缴存住房公积金的"),
            ("elderly_card", 2, {"key": "age60", "in": ["是"]}, "年满60周岁的"),
        ],
    },
]


def _step_days(promised: int, licensing: bool) -> list[dict[str, Any]]:
    kinds = (
        ["accept", "review", "decide", "certify", "deliver"] if licensing else ["accept", "review", "decide", "deliver"]
    )
    if promised == 0:
        return [{"kind": k, "days": "0"} for k in kinds]
    shares = {"accept": 0.1, "review": 0.5, "decide": 0.2, "certify": 0.1, "deliver": 0.1}
    if not licensing:
        shares = {"accept": 0.1, "review": 0.6, "decide": 0.2, "deliver": 0.1}
    return [{"kind": k, "days": f"{promised * shares[k]:.1f}"} for k in kinds]


def _material(spec: str, code: str) -> dict[str, Any]:
    commitment = spec.startswith("!")  # 可告知承诺替代
    spec = spec.removeprefix("!")
    necessity = {"?": "optional", "~": "deferrable"}.get(spec[0])
    name = spec[1:] if necessity else spec
    m = material_from_name(name)
    if necessity:
        m["necessity"] = necessity
    if commitment:
        m["commitment"] = True
    m["format"] = "both"
    m["page_format"] = "A4"
    if m["type"] == "form" and name.endswith(
        ("申请书", "申请表", "登记表", "申请登记书", "备案表", "备案书", "自填单")
    ):
        m["blank_form"] = f"/items/{code}/blank-form.pdf"
        m["sample"] = f"/items/{code}/blank-form.pdf?sample=1"
        m["source"] = "applicant"
    m["accept_standard"] = "内容真实、完整、清晰，与原件一致。"
    return m


def elements_for(spec: tuple, code: str, dept: Department, hall, windows: list[Window]) -> dict[str, Any]:
    (_key, _dept, name, item_type, legal, promised, visits, depth, personal, corporate, objects, law,
     materials, fees, result, extra_fields, faq) = spec  # fmt: skip
    instant = promised == 0
    licensing = item_type == "01"
    online = depth >= 3
    forms = ["window", "online", "post"] if online else ["window", "post"]
    form_fields = list(ORG_FORM if any(o != "1" for o in objects) and "1" not in objects else PERSON_FORM)
    names = {f["name"] for f in form_fields}
    form_fields += [f for f in extra_fields if f["name"] not in names]
    data: dict[str, Any] = {
        "name": name,
        "short_name": name.split("（")[0][:20],
        "aliases": [],
        "item_type": item_type,
        "legal_limit": legal,
        "legal_limit_unit": "workday",
        "promised_limit": promised,
        "promised_limit_unit": "workday",
        "promised_limit_note": "即来即办" if instant else "",
        "handling_type": "instant" if instant else "promised",
        "visits": visits,
        "visits_reason": "须本人到场核验身份并现场确认" if visits else "",
        "online_depth": depth,
        "handling_forms": forms,
        "online_url": f"/items/{code}/" if online else "",
        "platform": "一网通办平台",
        "conditions": [
            {"text": f"申请人符合{law}规定的条件。"},
            {"text": "申请材料齐全、符合法定形式。"},
        ],
        "steps": _step_days(promised, licensing),
        "materials": [_material(m, code) for m in materials],
        "fees": [
            {"name": n, "standard": s, "basis": b, "waivable": True, "waiver_basis": "低保、特困人员免收"}
            for n, s, b in fees
        ],
        "result": {
            "name": result[0],
            "type": result[1],
            "sample": f"/items/{code}/result-sample.pdf",
            "delivery": ["window", "post", "electronic"] if result[1] == "certificate" else ["window", "electronic"],
        },
        "faq": [{"question": q, "answer": a} for q, a in faq],
        "cross_scope": "3" if dept.region.level <= 2 else "4",
        "is_online": online,
        "is_express": True,
        "is_appointment": True,
        "is_pay_online": bool(fees),
        "in_hall": True,
        "self_service": depth == 4,
        "service_objects": objects,
        "personal_themes": personal,
        "corporate_themes": corporate,
        "places": [
            {
                "name": f"{hall.name} {w.number}号{w.name}",
                "address": hall.address,
                "hours": hall.opening_hours,
                "phone": hall.phone,
                "window_id": w.pk,
            }
            for w in windows
        ][:2],
        "transact_time": hall.opening_hours,
        "consult_phone": dept.phone,
        "complain_phone": COMPLAIN,
        "form": {"fields": form_fields},
    }
    if visits:
        data["visits_reason"] = "须本人到场采集信息或签署确认" if item_type != "01" else "须现场核查经营场所"
    return data


def _windows_of(dept: Department) -> tuple[Any, list[Window]]:
    windows = list(Window.objects.filter(departments=dept).select_related("hall").order_by("hall__region_id", "number"))
    if windows:
        return windows[0].hall, windows
    from yiwang.directory.models import ServiceHall

    hall = ServiceHall.objects.filter(region__code__in=[dept.region_id, dept.region.parent_id or ""]).first()
    return hall, []


def load() -> dict[str, ServiceItem]:
    keys = {key: (name, region) for key, name, region, *_ in DEPARTMENTS}
    departments = {
        key: Department.objects.select_related("region").get(name=name, region_id=region)
        for key, (name, region) in keys.items()
    }
    items: dict[str, ServiceItem] = {}
    for n, spec in enumerate(ITEMS, start=1):
        key, dept_key, name, item_type = spec[0], spec[1], spec[2], spec[3]
        law = spec[11]
        dept = departments[dept_key]
        code = f"{dept.credit_code}{item_type}{n:05d}"
        item = ServiceItem.objects.filter(code=code).first()
        if item is None:
            catalog_code = f"{item_type}{n:05d}000"
            catalog = CatalogItem.objects.filter(code=catalog_code).first() or services.catalog_item_create(
                actor=ACTOR,
                code=catalog_code,
                name=name.split("（")[0] if item_type != "05" else name,
                item_type=item_type,
                legal_basis=[
                    {
                        "law": law.split("》")[0] + "》" if "》" in law else law,
                        "article": law.split("》")[-1],
                        "text": "",
                    }
                ],
                use_levels=[{1: 2, 2: 3, 3: 4, 4: 5}[dept.region.level]],
            )
            hall, windows = _windows_of(dept)
            item = services.item_create(
                actor=ACTOR,
                code=code,
                catalog_item=catalog,
                department=dept,
                elements=elements_for(spec, code, dept, hall, windows),
            )
            item.sort_order = n
            item.save(update_fields=["sort_order"])
            services.item_publish(actor=ACTOR, item=item, note="演示数据")
            item.refresh_from_db()
        items[key] = item

    for spec in BUNDLES:
        if Bundle.objects.filter(code=spec["code"]).exists():
            continue
        lead = departments[spec["lead"]]
        members = [
            {"item": items[k], "order": order, "condition": cond, "condition_text": text}
            for k, order, cond, text in spec["members"]
        ]
        cooperating = {m["item"].department for m in members} - {lead}
        windows = [w for hall, number in spec["windows"] for w in Window.objects.filter(hall__name=hall, number=number)]
        bundle = services.bundle_save(
            actor=ACTOR,
            code=spec["code"],
            name=spec["name"],
            region=lead.region,
            lead_department=lead,
            audience=spec["audience"],
            stage=spec["stage"],
            description=spec["description"],
            promised_days=spec["promised_days"],
            scenarios=spec["scenarios"],
            members=members,
            cooperating_departments=sorted(cooperating, key=lambda d: d.pk),
            windows=windows,
        )
        services.bundle_publish(actor=ACTOR, bundle=bundle)
    return items
