"""The onboarding checklist: eleven steps, their prerequisites, who sets them, and guidance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import TransitionError

TODO = "todo"
IN_PROGRESS = "in_progress"
DONE = "done"
BLOCKED = "blocked"
STATUSES = (TODO, IN_PROGRESS, DONE, BLOCKED)

TECHNICIAN = "technician"
SERVER = "server"

STATUS_NAMES = {
    TODO: ("待办", "to do"),
    IN_PROGRESS: ("进行中", "in progress"),
    DONE: ("已完成", "done"),
    BLOCKED: ("受阻", "blocked"),
}


@dataclass(frozen=True)
class Guidance:
    """What to check, what to collect and what commonly goes wrong, in one language."""

    check: str
    collect: str
    pitfalls: str


@dataclass(frozen=True)
class Step:
    """One step of the checklist."""

    key: str
    zh: str
    en: str
    needs: tuple[str, ...]
    set_by: str
    guidance_zh: Guidance
    guidance_en: Guidance

    def name(self, lang: str = "zh") -> str:
        """The step's name in the user's language."""
        return self.zh if lang.startswith("zh") else self.en

    def guidance(self, lang: str = "zh") -> Guidance:
        """The step's guidance in the user's language."""
        return self.guidance_zh if lang.startswith("zh") else self.guidance_en


STEPS: tuple[Step, ...] = (
    Step(
        "registered",
        "平台注册",
        "Platform registration",
        (),
        TECHNICIAN,
        Guidance(
            "机构已在全国校外教育培训监管与服务综合平台注册，机构名称与营业执照一致",
            "平台账号、机构管理员手机号、营业执照照片",
            "机构名称与执照不一致；管理员手机号为已离职员工；重复注册",
        ),
        Guidance(
            "The institution is registered on the national supervision platform under the "
            "name on its business licence",
            "Platform account, administrator's mobile, photo of the business licence",
            "Name differs from the licence; administrator's phone belongs to someone who "
            "left; duplicate registrations",
        ),
    ),
    Step(
        "qualification",
        "资质审核",
        "Qualification review",
        ("registered",),
        TECHNICIAN,
        Guidance(
            "办学许可证、营业执照（统一社会信用代码）在有效期内且与平台信息一致",
            "办学许可证编号、统一社会信用代码、场地证明",
            "许可证过期；信用代码录错一位；办学地址与许可地址不符",
        ),
        Guidance(
            "School-running licence and business licence (credit code) are valid and match "
            "the platform",
            "Licence number, unified social credit code, proof of premises",
            "Expired licence; one character of the credit code mistyped; teaching address "
            "differs from the licensed one",
        ),
    ),
    Step(
        "personnel",
        "人员审核",
        "Personnel review",
        ("registered",),
        TECHNICIAN,
        Guidance(
            "从业人员信息已上传，教师资格证齐全，无违规在职教师",
            "教师名单、教师资格证、无犯罪记录证明",
            "缺少教师资格证；在职中小学教师兼职；人员信息未及时更新",
        ),
        Guidance(
            "Staff are uploaded, teachers hold certificates, no serving school teachers "
            "moonlighting",
            "Staff list, teaching certificates, criminal record checks",
            "Missing certificates; serving teachers on the payroll; stale staff records",
        ),
    ),
    Step(
        "courses",
        "课程审核",
        "Course review",
        ("registered",),
        TECHNICIAN,
        Guidance(
            "课程名称、课时、收费标准已在平台公示，单次收费不超过60课时或3个月",
            "课程表、收费标准、课时说明",
            "打包收费超过60课时或3个月；非学科类单次超5000元；开课前一个月以上收费",
        ),
        Guidance(
            "Courses, hours and fees are published on the platform; no charge covers more "
            "than 60 hours or 3 months",
            "Timetable, fee schedule, class-hour breakdown",
            "Bundles over 60 hours or 3 months; non-academic charges over 5,000 yuan; fees "
            "taken over a month before the start",
        ),
    ),
    Step(
        "account",
        "账户审核",
        "Account review",
        ("registered",),
        TECHNICIAN,
        Guidance(
            "已在合作银行开立预收费监管账户并在平台登记",
            "监管账户开户证明、开户行、账号",
            "使用一般户或个人账户；账户名与机构名不一致",
        ),
        Guidance(
            "A supervised prepaid-fee account is opened at a partner bank and recorded on "
            "the platform",
            "Account opening certificate, bank branch, account number",
            "A general or personal account used instead; account name differs from the "
            "institution's",
        ),
    ),
    Step(
        "bank_verified",
        "银行核验",
        "Bank verification",
        ("account",),
        SERVER,
        Guidance(
            "银行已核验监管账户，结果由办公室同步（技术人员不能设置）",
            "无需采集；如未通过，记录银行给出的原因",
            "账户信息录入错误导致核验失败；等待银行回执",
        ),
        Guidance(
            "The bank has verified the supervised account; the office syncs the answer "
            "(technicians cannot set it)",
            "Nothing to collect; if it failed, note the bank's reason",
            "Account details mistyped so verification fails; waiting for the bank",
        ),
    ),
    Step(
        "payment_enabled",
        "支付开通",
        "Payment enabled",
        ("bank_verified",),
        TECHNICIAN,
        Guidance(
            "平台收款码已开通并张贴在前台，前台无其他收款码",
            "收款码张贴照片、前台现场核码结果",
            "前台仍有微信/支付宝个人收款码；张贴的是旧码或他人码",
        ),
        Guidance(
            "The platform's collection code is enabled and posted at the front desk, and "
            "no other code is there",
            "Photo of the posted code, result of the on-site code check",
            "A personal WeChat/Alipay code still at the desk; an old or someone else's code posted",
        ),
    ),
    Step(
        "first_purchase",
        "平台购课",
        "First purchase on the platform",
        ("payment_enabled",),
        TECHNICIAN,
        Guidance(
            "家长已通过平台完成购课，资金进入监管账户",
            "订单号、购课金额",
            "线下收费后补录；引导家长扫个人码",
        ),
        Guidance(
            "A parent has bought a course through the platform and the money is in the "
            "supervised account",
            "Order number, amount",
            "Fees taken offline and entered afterwards; parents sent to a personal code",
        ),
    ),
    Step(
        "first_consumption",
        "平台销课",
        "First lesson consumed",
        ("first_purchase",),
        TECHNICIAN,
        Guidance(
            "已按实际上课在平台销课，资金按课时释放（一课一消）",
            "销课记录、上课签到",
            "批量提前销课；销课与签到不符",
        ),
        Guidance(
            "Lessons are consumed on the platform as taught, releasing funds lesson by lesson",
            "Consumption records, attendance sheet",
            "Lessons consumed in bulk in advance; consumption not matching attendance",
        ),
    ),
    Step(
        "refund_flow",
        "退费流程",
        "Refund flow",
        ("payment_enabled",),
        TECHNICIAN,
        Guidance(
            "机构知晓并能演示平台退费流程，退费从监管账户原路退回",
            "退费流程说明、退费测试或记录",
            "私下现金退费；退费规则未公示",
        ),
        Guidance(
            "The institution knows and can show the platform's refund flow; refunds come "
            "from the supervised account",
            "Refund procedure, a test or real refund record",
            "Cash refunds in private; refund rules not displayed",
        ),
    ),
    Step(
        "parent_app",
        "家长端指导",
        "Parent app guidance",
        ("registered",),
        TECHNICIAN,
        Guidance(
            "前台有家长端下载与使用说明，工作人员会指导家长扫码购课",
            "家长端宣传材料张贴照片",
            "工作人员不了解家长端；宣传材料缺失",
        ),
        Guidance(
            "The front desk explains the parent app and staff can help parents buy through it",
            "Photo of the parent-app leaflets",
            "Staff do not know the parent app; leaflets missing",
        ),
    ),
)

STEP_KEYS: tuple[str, ...] = tuple(s.key for s in STEPS)
STEPS_BY_KEY: dict[str, Step] = {s.key: s for s in STEPS}
FULL_PROCESS_STEPS = ("payment_enabled", "first_purchase", "first_consumption", "refund_flow")


def step(key: str) -> Step:
    """The step with this key, or a TransitionError naming the unknown key."""
    try:
        return STEPS_BY_KEY[key]
    except KeyError:
        raise TransitionError(
            "unknown_step", f"未知的步骤“{key}”", f"Unknown checklist step '{key}'", "step"
        ) from None


def dependents(key: str) -> tuple[str, ...]:
    """The steps that directly need this one."""
    return tuple(s.key for s in STEPS if key in s.needs)


def check_transition(
    statuses: Mapping[str, str],
    key: str,
    status: str,
    reason: str | None = None,
    actor: str = TECHNICIAN,
) -> None:
    """Refuse, with a message, a status change the checklist does not allow."""
    target = step(key)
    if status not in STATUSES:
        raise TransitionError(
            "unknown_status",
            f"未知的状态“{status}”，应为：{'、'.join(STATUSES)}",
            f"Unknown status '{status}'; use one of {', '.join(STATUSES)}",
            "status",
        )
    if target.set_by == SERVER and actor != SERVER:
        raise TransitionError(
            "server_owned",
            f"“{target.zh}”由银行核验结果决定，只能由办公室服务器设置",
            f"'{target.en}' comes from the bank's answer and only the office server sets it",
            "step",
        )
    if status == BLOCKED and not (reason and reason.strip()):
        raise TransitionError(
            "reason_required", "标记为受阻时必须填写原因", "A blocked step needs a reason", "reason"
        )
    if status == DONE:
        missing = [STEPS_BY_KEY[n] for n in target.needs if statuses.get(n, TODO) != DONE]
        if missing:
            raise TransitionError(
                "prerequisite",
                f"“{target.zh}”需要先完成：" + "、".join(m.zh for m in missing),
                f"'{target.en}' needs first: " + ", ".join(m.en for m in missing),
                "status",
            )
    elif statuses.get(key) == DONE:
        done_after = [STEPS_BY_KEY[d] for d in dependents(key) if statuses.get(d) == DONE]
        if done_after:
            raise TransitionError(
                "has_dependents",
                f"“{target.zh}”不能撤回：" + "、".join(d.zh for d in done_after) + "已完成",
                f"'{target.en}' cannot be reopened while these are done: "
                + ", ".join(d.en for d in done_after),
                "status",
            )


def is_full_process(statuses: Mapping[str, str]) -> bool:
    """Whether the institution is under full-process supervision (全流程监管)."""
    return all(statuses.get(k) == DONE for k in FULL_PROCESS_STEPS)


def done_count(statuses: Mapping[str, str]) -> int:
    """How many of the eleven steps are done."""
    return sum(1 for k in STEP_KEYS if statuses.get(k) == DONE)


def next_step(statuses: Mapping[str, str]) -> Step | None:
    """The first step, in checklist order, that is not done."""
    return next((s for s in STEPS if statuses.get(s.key, TODO) != DONE), None)
