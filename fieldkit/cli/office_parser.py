"""The office's commands on the command line: `fieldkit serve` and `fieldkit server …`, each
argument with its help in Chinese and English."""

from __future__ import annotations

import argparse
import os
from typing import Any

from fieldkit.cli.options import bi

DEFAULT_DB = "office.sqlite"


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get("FIELDKIT_DB", DEFAULT_DB),
        help=bi(
            "办公室数据库：文件路径或数据库地址（sqlite:///… 或 postgresql://…）；默认 %(default)s",
            "office store: a file path or a database URL "
            "(sqlite:///… or postgresql://…); default %(default)s",
        ),
    )


def add_office_commands(sub: Any) -> None:
    """Add `serve` and `server …` to the subcommands `sub` of the `fieldkit` parser."""
    serve = sub.add_parser("serve", help=bi("运行办公室服务器", "run the office server"))
    _db_option(serve)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help=bi(
            "监听地址；默认 %(default)s（仅本机），0.0.0.0 为所有网卡",
            "address to listen on; default %(default)s",
        ),
    )
    serve.add_argument(
        "--port",
        type=int,
        default=8400,
        help=bi("端口；默认 %(default)s", "port; default %(default)s"),
    )
    serve.add_argument(
        "--certfile",
        metavar="F",
        help=bi("使用此证书（PEM）提供 HTTPS", "serve HTTPS with this certificate (PEM)"),
    )
    serve.add_argument(
        "--keyfile",
        metavar="F",
        help=bi("证书的私钥（PEM）", "the certificate's private key (PEM)"),
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help=bi(
            "服务器进程数（多于1个时须使用 PostgreSQL）；默认 %(default)s",
            "server processes (more than 1 needs PostgreSQL); default %(default)s",
        ),
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        default=None,
        help=bi(
            "只信任这些反向代理（逗号分隔的地址）发来的 X-Forwarded-For；默认不信任任何代理",
            "trust X-Forwarded-For only from these proxies (comma-separated addresses); "
            "default: trust none",
        ),
    )
    serve.add_argument(
        "--files",
        metavar="URL",
        default=os.environ.get("FIELDKIT_FILES"),
        help=bi(
            "证据文件的存放处：文件夹，或多台服务器共用的对象存储（s3://桶/前缀，需 "
            "pip install 'fieldkit[s3]'）；默认为 SQLite 数据库旁的文件夹",
            "where evidence files are kept: a folder, or an object store for several servers "
            "(s3://bucket/prefix, needs pip install 'fieldkit[s3]'); default: a folder beside "
            "a SQLite store",
        ),
    )

    server = sub.add_parser("server", help=bi("办公室管理", "office administration"))
    server_sub = server.add_subparsers(
        dest="server_command", metavar="ACTION", required=True, help=bi("管理操作", "what to do")
    )
    init = server_sub.add_parser(
        "init",
        help=bi("创建数据库和办公室签名密钥", "create the store and the office's signing key"),
    )
    init.add_argument(
        "--name",
        default="湖南省校外培训监管办公室",
        help=bi("办公室名称；默认 %(default)s", "the office's name; default %(default)s"),
    )
    seed = server_sub.add_parser(
        "seed-demo", help=bi("载入生成的湖南省演示数据", "load the generated Hunan province")
    )
    imp = server_sub.add_parser(
        "import-institutions", help=bi("导入或更新机构名单", "import or update institutions")
    )
    imp.add_argument(
        "file",
        metavar="FILE",
        help=bi("机构名单 .csv 或 .xlsx 文件", "the institutions, .csv or .xlsx"),
    )
    add = server_sub.add_parser(
        "add-technician",
        help=bi("添加技术人员；令牌只显示这一次", "add a technician; prints the token once"),
    )
    add.add_argument("name", metavar="NAME", help=bi("技术人员姓名", "the technician's name"))
    add.add_argument(
        "--zone",
        required=True,
        metavar="CODE",
        help=bi("负责片区的行政区划代码", "division code of their zone"),
    )
    add.add_argument(
        "--supervisor",
        action="store_true",
        help=bi("督导（可查看并处理整个片区）", "a supervisor of the zone"),
    )
    assign = server_sub.add_parser(
        "assign", help=bi("把机构分配给技术人员", "assign institutions to a technician")
    )
    assign.add_argument(
        "--technician",
        required=True,
        metavar="ID",
        help=bi("技术人员编号，例如 T0001", "the technician, e.g. T0001"),
    )
    what = assign.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--division",
        metavar="CODE",
        help=bi("分片：该区划的全部机构", "every institution of this division"),
    )
    what.add_argument(
        "--institution", nargs="+", metavar="ID", help=bi("包干：这些机构", "these institutions")
    )
    bank = server_sub.add_parser(
        "import-bank-results", help=bi("导入银行核验结果", "the bank's verification answers")
    )
    bank.add_argument(
        "file",
        metavar="FILE",
        help=bi("银行核验结果 .csv 或 .xlsx 文件", "the bank results, .csv or .xlsx"),
    )
    # --- issue 16: enforcement ---
    ledger = server_sub.add_parser(
        "cases",
        help=bi("整改台账（屏幕或 .xlsx）", "the rectification ledger, printed or as .xlsx"),
    )
    ledger.add_argument(
        "--division",
        metavar="CODE",
        help=bi("市或区县的行政区划代码（默认全省）", "a city or county (default: the province)"),
    )
    ledger.add_argument(
        "--state",
        "--status",
        dest="state",
        metavar="S",
        help=bi(
            "只列此状态的案件：open、due、overdue、rectified、escalated、closed",
            "only cases in this state: open, due, overdue, rectified, escalated, closed",
        ),
    )
    ledger.add_argument(
        "--xlsx",
        metavar="F",
        help=bi("写入此 .xlsx 文件（每个整改项一行）", "write it here, one row per item"),
    )
    ledger.add_argument(
        "--on",
        metavar="DATE",
        help=bi("按此日期计算状态（默认今天）", "compute states as of this date (default today)"),
    )
    campaign = server_sub.add_parser(
        "campaign",
        help=bi(
            "发起回头看：为选中机构的技术人员安排回访",
            "a look-back round: follow-ups due on technicians' lists",
        ),
    )
    campaign.add_argument(
        "--division", required=True, metavar="CODE", help=bi("行政区划代码", "division code")
    )
    campaign.add_argument(
        "--due", required=True, metavar="DATE", help=bi("回访期限 YYYY-MM-DD", "due by, YYYY-MM-DD")
    )
    campaign.add_argument(
        "--sample",
        default="100",
        metavar="PCT",
        help=bi(
            "随机抽取的比例（1-100，默认 100）", "per cent picked at random (1-100, default 100)"
        ),
    )
    campaign.add_argument(
        "--filter",
        default="all",
        metavar="F",
        help=bi(
            "范围：all、full_process、not_full_process、not_started、blocked",
            "which: all, full_process, not_full_process, not_started or blocked",
        ),
    )
    campaign.add_argument(
        "--supervisor",
        metavar="ID",
        help=bi(
            "以此主管身份发起（核对其辖区）",
            "start it as this supervisor (checked against the zone)",
        ),
    )
    campaign.add_argument("--today", metavar="DATE", help=argparse.SUPPRESS)
    # --- issue 11: the office's tokens and backups ---
    techs = server_sub.add_parser(
        "technicians",
        help=bi(
            "列出技术人员：编号、姓名、片区、角色、状态、最近联系、设备数",
            "list technicians: id, name, zone, role, state, last seen, devices",
        ),
    )
    revoke = server_sub.add_parser(
        "revoke",
        help=bi(
            "停用技术人员的令牌（设备下次连接时被告知，未发送的更改保留在设备上）",
            "end a technician's token (their laptop is told at its next contact and keeps "
            "its unsent work)",
        ),
    )
    rotate = server_sub.add_parser(
        "rotate",
        help=bi(
            "为技术人员换发新令牌（只显示这一次），旧令牌停用",
            "issue a technician a new token (printed once); the old one stops working",
        ),
    )
    for action in (revoke, rotate):
        action.add_argument(
            "technician", metavar="ID", help=bi("技术人员编号，例如 T0001", "e.g. T0001")
        )
    backup = server_sub.add_parser(
        "backup",
        help=bi(
            "把办公室数据库完整一致地复制到一个文件（服务器运行时也可以）",
            "write a consistent copy of the office store to a file (also while serving)",
        ),
    )
    backup.add_argument(
        "file", metavar="FILE", help=bi("备份文件（SQLite 格式）", "the backup file (SQLite)")
    )
    restore = server_sub.add_parser(
        "restore",
        help=bi(
            "用备份文件替换办公室数据库，并开始新的数据纪元（客户端会重新同步）；请先停止服务器",
            "replace the office store with a backup under a new epoch (clients sync afresh); "
            "stop the server first",
        ),
    )
    restore.add_argument(
        "file", metavar="FILE", help=bi("fieldkit server backup 写出的文件", "a backup file")
    )
    # --- issue 12: the platform's exports, the course list, the office's report ---
    platform = server_sub.add_parser(
        "import-platform",
        help=bi(
            "导入平台导出的机构数据（.csv 或 .xlsx）",
            "the platform's institution export (.csv or .xlsx)",
        ),
    )
    platform.add_argument(
        "file", metavar="FILE", help=bi("平台导出文件", "the platform's export file")
    )
    course_list = server_sub.add_parser(
        "import-courses",
        help=bi("导入平台课程清单（.csv 或 .xlsx）", "the platform's course list (.csv or .xlsx)"),
    )
    course_list.add_argument(
        "file", metavar="FILE", help=bi("课程清单文件", "the course list file")
    )
    report = server_sub.add_parser(
        "report",
        help=bi(
            "统计报表：下一级区划各一行（.xlsx）",
            "the figures an office reports, one row per division a level down (.xlsx)",
        ),
    )
    report.add_argument(
        "--division",
        required=True,
        metavar="CODE",
        help=bi("省或市的行政区划代码", "the province's or a city's division code"),
    )
    report.add_argument(
        "--xlsx", required=True, metavar="F", help=bi("要写入的工作簿", "the workbook to write")
    )
    for action in (
        init, seed, imp, add, assign, bank, ledger, campaign,
        techs, revoke, rotate, backup, restore, platform, course_list, report,
    ):  # fmt: skip
        _db_option(action)
