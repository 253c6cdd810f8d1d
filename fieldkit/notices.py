"""The papers a visit hands over: the rectification notice (整改通知书), as a PDF of real text.

Built on `fieldkit.documents.Document`; the interview notice (约谈通知书) belongs here too.
"""

from __future__ import annotations

from datetime import date

from fieldkit.documents import Document
from fieldkit.payment.posters import DEFAULT_ISSUER, PosterError


def render_rectification_notice(
    institution: dict,
    visit: dict,
    technician: str,
    printed_on: date | None = None,
    issuer: str | None = None,
) -> Document:
    """The 整改通知书 of a visit as an A4 document with real text: institution, items, deadline,
    technician, date, signatures; long lists continue on further pages."""
    rect = visit.get("rectification") or {}
    items = [str(item).strip() for item in rect.get("items") or [] if str(item).strip()]
    if not items:
        raise PosterError(
            "这次走访没有整改通知书（没有整改事项）。",
            "This visit has no rectification notice (no items to rectify).",
        )
    when = (printed_on or date.today()).isoformat()
    visit_day = str(visit.get("started_at") or "")[:10] or when
    office = issuer or DEFAULT_ISSUER
    doc = Document(title=f"整改通知书 {institution.get('name', '')}", issuer=office)
    doc.page()
    doc.heading("整改通知书")
    doc.text(f"编号 {str(visit.get('visit_id', ''))[:8].upper()}", 10, align="C", after=6)
    for line in (
        f"机构名称：{institution.get('name', '')}",
        f"平台编号：{institution.get('id', '')}",
        f"地址：{institution.get('address') or ''}",
        f"检查日期：{visit_day}",
    ):
        doc.paragraph(line, after=1)
    doc.space(2)
    doc.paragraph(
        "经现场检查，发现以下问题，请在整改期限内完成整改，并通过监管平台报告整改情况：", after=2
    )
    doc.numbered(items)
    doc.space(3)
    doc.text(f"整改期限：{rect.get('deadline', '')} 前", 12, bold=True, after=1)
    doc.paragraph(f"检查人员：{technician}    打印日期：{when}")
    if doc.room < 60:  # the signatures stay together, on the page they belong to
        doc.page()
        doc.text("整改通知书（续）", 12, bold=True, after=4)
    doc.signatures(["检查人员签字", "机构负责人签字"])
    doc.space(10)
    doc.text(f"{office} · 本通知书一式两份，机构与检查单位各执一份。", 9, align="C")
    return doc
