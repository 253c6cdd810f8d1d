"""The interview notice (约谈通知书) of an escalated case, as an A4 PDF like the rectification
notice: the institution, why it is summoned (the notice's open items, past their deadline), when
and where, who attends, and lines to sign."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fieldkit import domain
from fieldkit.domain import cases as dc
from fieldkit.payment.fonts import find_cjk_font
from fieldkit.payment.posters import DEFAULT_ISSUER, LAYOUTS, Canvas, Page, _finish, save_pdf


def _scheduled(case: domain.Case) -> domain.Escalation:
    """The interview the notice announces: the case's latest scheduled one."""
    for step in reversed(case.escalation):
        if step.step == dc.INTERVIEW_SCHEDULED:
            return step
    raise domain.ValidationError(
        "interview_not_scheduled",
        "这个案件还没有安排约谈，请先安排约谈（日期、地点、参加人员）再打印约谈通知书",
        "No interview is scheduled for this case yet: schedule one (date, place, who attends) "
        "before printing the interview notice",
        "step",
    )


def render_interview_notice(
    institution: dict[str, Any],
    case: domain.Case,
    issuer: str | None = None,
    printed_on: date | None = None,
) -> list[Page]:
    """The 约谈通知书 of a case on A4 pages."""
    interview = _scheduled(case)
    layout = LAYOUTS["a4"]
    font = find_cjk_font()
    height = layout.height or 3508
    when = (printed_on or date.today()).isoformat()
    canvas = Canvas(layout.width, height, font, layout.margin)
    pages: list[Page] = []
    canvas.text("约谈通知书", layout.title, bold=True)
    canvas.text(f"编号 {case.case_id[:8].upper()}-YT", layout.small)
    canvas.space(layout.body)
    for line in (
        f"{institution.get('name', '')}：",
        f"平台编号：{institution.get('id', case.institution_id)}",
        f"地址：{institution.get('address') or ''}",
        f"你机构于 {case.issued_on.isoformat()} 收到整改通知书，整改期限为 "
        f"{case.current_deadline.isoformat()}。经复查，下列事项未按期整改：",
    ):
        canvas.text(line, layout.body, align="left")
    canvas.space(layout.body // 2)
    open_items = [i for i in case.items if i.status == dc.OPEN] or list(case.items)
    for number, item in enumerate(open_items, 1):
        if canvas.y > height - 14 * layout.body:
            pages.append(_finish(canvas, layout))
            canvas = Canvas(layout.width, height, font, layout.margin)
            canvas.text("约谈通知书（续）", layout.body, bold=True)
        canvas.text(f"{number}. {item.text}", layout.body, align="left")
    canvas.space(layout.body // 2)
    for line in (
        "请你机构法定代表人（负责人）按时参加约谈，并携带整改情况说明及相关材料。",
        f"约谈时间：{interview.on.isoformat()}",
        f"约谈地点：{interview.place or ''}",
        f"参加人员：{interview.attendees or '法定代表人（负责人）'}",
    ):
        canvas.text(line, layout.body, align="left", bold=line.startswith("约谈"))
    if interview.note:
        canvas.text(f"说明：{interview.note}", layout.body, align="left")
    canvas.text(
        "无正当理由拒不参加约谈或逾期仍不整改的，将依法依规进一步处理，直至建议吊销办学许可证。",
        layout.body,
        align="left",
    )
    canvas.space(layout.body * 2)
    canvas.text(f"{issuer or DEFAULT_ISSUER}（盖章）", layout.body, align="left")
    canvas.text(f"日期：{when}", layout.body, align="left")
    canvas.space(layout.body)
    canvas.text(
        "机构签收人：__________________    签收日期：____________",
        layout.body,
        align="left",
        gap=1.6,
    )
    canvas.space(layout.body)
    canvas.text("本通知书一式两份，机构与教育行政部门各执一份。", layout.small)
    pages.append(_finish(canvas, layout))
    return pages


def save_interview_notice(
    institution: dict[str, Any],
    case: domain.Case,
    path: Path,
    issuer: str | None = None,
    printed_on: date | None = None,
) -> int:
    """Write the interview notice as an A4 PDF at `path`; returns the page count."""
    pages = render_interview_notice(institution, case, issuer, printed_on)
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_pdf(pages, path)
