"""The interview notice (约谈通知书) of an escalated case: an A4 PDF with real text, set with the
same helper as the rectification notice (fieldkit.documents): the institution, why it is summoned
(the notice's open items, past their deadline), when and where, who attends, lines to sign."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fieldkit import domain
from fieldkit.documents import Document
from fieldkit.domain import cases as dc
from fieldkit.payment.posters import DEFAULT_ISSUER


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
) -> Document:
    """The 约谈通知书 of a case as an A4 document (long item lists continue on further pages)."""
    interview = _scheduled(case)
    office = issuer or DEFAULT_ISSUER
    when = (printed_on or date.today()).isoformat()
    doc = Document(title=f"约谈通知书 {institution.get('name', '')}", issuer=office)
    doc.page()
    doc.heading("约谈通知书")
    doc.text(f"编号 {case.case_id[:8].upper()}-YT", 10, align="C", after=6)
    doc.paragraph(f"{institution.get('name', '')}：", after=1)
    doc.paragraph(f"平台编号：{institution.get('id', case.institution_id)}", after=1)
    doc.paragraph(f"地址：{institution.get('address') or ''}", after=2)
    doc.paragraph(
        f"你机构于 {case.issued_on.isoformat()} 收到整改通知书，整改期限为 "
        f"{case.current_deadline.isoformat()}。经复查，下列事项未按期整改：",
        after=2,
    )
    open_items = [i.text for i in case.items if i.status == dc.OPEN] or [i.text for i in case.items]
    doc.numbered(open_items)
    doc.space(3)
    doc.paragraph("请你机构法定代表人（负责人）按时参加约谈，并携带整改情况说明及相关材料。")
    doc.text(f"约谈时间：{interview.on.isoformat()}", 12, bold=True, after=1)
    doc.text(f"约谈地点：{interview.place or ''}", 12, bold=True, after=1)
    doc.paragraph(f"参加人员：{interview.attendees or '法定代表人（负责人）'}", after=1)
    if interview.note:
        doc.paragraph(f"说明：{interview.note}", after=1)
    doc.paragraph(
        "无正当理由拒不参加约谈或逾期仍不整改的，将依法依规进一步处理，直至建议吊销办学许可证。"
    )
    if doc.room < 60:  # the seal and the signature stay together
        doc.page()
        doc.text("约谈通知书（续）", 12, bold=True, after=4)
    doc.space(6)
    doc.paragraph(f"{office}（盖章）    日期：{when}")
    doc.signatures(["机构签收人"])
    doc.space(10)
    doc.text("本通知书一式两份，机构与教育行政部门各执一份。", 9, align="C")
    return doc


def save_interview_notice(
    institution: dict[str, Any],
    case: domain.Case,
    path: Path,
    issuer: str | None = None,
    printed_on: date | None = None,
) -> int:
    """Write the interview notice as an A4 PDF at `path`; returns the page count."""
    doc = render_interview_notice(institution, case, issuer, printed_on)
    path.parent.mkdir(parents=True, exist_ok=True)
    return doc.save(path)
