"""Staff roles (岗位角色)."""

from django.db import models


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", "综窗受理员"
    REVIEWER = "reviewer", "审批人员"
    DEPT_HEAD = "dept_head", "部门负责人"
    SUPERVISOR = "supervisor", "督办/管理员"
    HOTLINE_AGENT = "hotline_agent", "12345坐席"
    CATALOG_ADMIN = "catalog_admin", "事项管理员"
    HELPER = "helper", "帮办代办员"


class RealNameLevel(models.IntegerChoices):
    """实名等级 (Guangdong practice)."""

    L2 = 2, "二级（自主注册，信息格式校验）"
    L3 = 3, "三级（姓名与身份证号核验）"
    L4 = 4, "四级（人脸识别核验）"
    L5 = 5, "五级（数字证书或窗口现场核验）"
