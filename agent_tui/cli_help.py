"""``agent-tui --help`` in the seat's language, readable at 100 columns.

Each command's and each parameter's help is here, keyed by the command's path and the
parameter's name, as a Chinese source string (English in ``locale/en.toml``, as every UI
string). ``localize`` puts them, in the configured ``language``, on the click commands that
typer builds from ``cli.py`` (whose own ``help=`` texts are the developers' notes and the
fallback), escapes them for rich (square brackets are its markup), and names the help
panels in the same language. Plain sentences only: no RST or Markdown, no hard line breaks
(rich wraps by display width, so Chinese and English both fit the terminal).
``tests/unit/test_cli_help.py`` renders every command's help at 100 columns in both languages.
"""

from __future__ import annotations

import enum
import re
from typing import Any, Literal, get_origin

from agent_tui.i18n import N_, t

#: (command path, parameter name) → help; the command's own help under parameter "".
HELP: dict[tuple[str, str], str] = {
    ("", ""): N_("驻马店 12345 热线坐席终端。不带子命令时打开演示（演示中心库与坐席终端）。"),
    ("demo", ""): N_(
        "演示：SQLite 演示中心库（127.0.0.1 上的 demo_port 端口，已在运行则加入）与登录为"
        "演示话务员的坐席终端，真实 HTTP。"
    ),
    ("demo", "user"): N_("登录的演示账号"),
    ("demo", "cases"): N_("首次运行载入的演示工单数"),
    ("demo", "store_only"): N_("只在前台运行演示中心库"),
    ("seat", ""): N_("打开坐席终端，连接中心库（先显示登录界面）。"),
    ("seat", "server"): N_("中心库地址（默认：上次使用的）"),
    ("seat", "user"): N_("工号（默认：上次使用的）"),
    ("seat", "password"): N_("填入登录表单的密码"),
    ("seat", "demo"): N_("连接演示中心库（已在运行则加入，否则启动）"),
    ("seat", "cases"): N_("与 --demo 一起：首次运行载入的演示工单数"),
    ("lead", ""): N_("班长模式：登录后打开班长看板（队列、坐席、超期、指标）。"),
    ("report", ""): N_(
        "从中心库生成日报或月报（Excel：概览、按部门、按县区、超期清单），或打印可复制发"
        "送的文本摘要。"
    ),
    ("report", "kind"): N_("daily 日报，monthly 月报"),
    ("report", "on"): N_("日期 YYYY-MM-DD：当天，或月内任一天（默认：今天）"),
    ("report", "server"): N_("中心库地址（默认：演示中心库，加入或启动）"),
    ("report", "user"): N_("班长或管理员账号（演示默认 lead01）"),
    ("report", "password"): N_("不填则询问"),
    ("report", "out"): N_("要写入的 Excel 文件（.xlsx）"),
    ("report", "text"): N_("打印文本摘要（给了 --out 也写入文件）"),
    ("lookup", ""): N_("单独打开资料查询（地址、分类、单位、知识库），不连中心库。"),
    ("locate", ""): N_("打印配置文件或数据目录的位置。"),
    ("locate", "what"): N_("config 配置文件，data 数据目录"),
    ("keys", ""): N_("打印由按键绑定生成的按键表（Markdown），README 收录的就是它。"),
    ("keys", "write"): N_("改写此文件中标记之间的按键表"),
    ("keys", "lang"): N_("zh（README 用的中文表）或 en"),
    ("search", ""): N_("像选择列表一样搜索参考数据（汉字、拼音或首字母）。"),
    ("search", "query"): N_("搜索词（汉字、拼音或首字母，如 jsl）"),
    ("search", "kind"): N_(
        "搜索什么：address 地址，category 分类，department 单位，knowledge 知识库"
    ),
    ("search", "limit"): N_("最多列出几条（1–500）"),
    ("search", "county"): N_("只在这个县区内搜索地址"),
    ("import-addresses", ""): N_(
        "把中心自己的地址表（CSV）或 OpenStreetMap 导出文件导入地址簿；结果写成中心的地址"
        "簿 CSV（默认为数据目录下的 address_book.csv），终端把它加入地名库。"
    ),
    ("import-addresses", "source"): N_("要导入的文件"),
    ("import-addresses", "fmt"): N_("文件格式：csv 或 osm"),
    ("import-addresses", "county"): N_("OSM 导出文件中对象所属的县区"),
    ("import-addresses", "out"): N_("要写入的地址簿"),
    ("serve", ""): N_("运行中心库（FastAPI），所有坐席和班长终端都连它。"),
    ("serve", "db"): N_("SQLAlchemy 数据库 URL（默认：数据目录下的 SQLite）"),
    ("serve", "host"): N_("监听地址"),
    ("serve", "port"): N_("监听端口"),
    ("serve", "workers"): N_("工作进程数（PostgreSQL）"),
    ("serve", "access_log"): N_(
        "记录每个请求（默认关闭：100 个坐席长轮询变更流，每次变更每个坐席一行；审计日志在数据库里）"
    ),
    ("serve", "ssl_certfile"): N_("提供 HTTPS：证书（PEM，含证书链）"),
    ("serve", "ssl_keyfile"): N_("提供 HTTPS：证书的私钥（PEM）"),
    ("seed", ""): N_("载入参考数据（加 --demo 时还载入演示账号和一个月的工单）。"),
    ("seed", "demo"): N_("同时载入演示账号和工单"),
    ("seed", "cases"): N_("演示工单数"),
    ("migrate", ""): N_("创建或升级中心库的数据库结构（PostgreSQL 上以属主角色运行）。"),
    ("migrate", "db"): N_("属主的 SQLAlchemy URL（默认：AGENT_TUI_DB_OWNER_URL，否则中心库的）"),
    ("migrate", "grant_to"): N_(
        "PostgreSQL：之后授予权限的运行角色（默认：AGENT_TUI_DB_URL 的角色，若与属主不同）"
    ),
    ("calendar", ""): N_("工作日历：节假日与调休上班日。"),
    ("calendar import", ""): N_(
        "把某年的节假日安排（国务院办公厅的通知）载入中心库的工作日历：该年的期限不再是暂定的。"
    ),
    ("calendar import", "file"): N_("一年或几年的安排，TOML 或 CSV（见 README）"),
    ("clock", ""): N_("运行一次时钟任务（催办提醒、超期通知）；服务器自己每分钟运行。"),
    ("db", ""): N_("中心库的 PostgreSQL 角色（数据库管理员用）。"),
    ("db create-roles", ""): N_(
        "创建属主角色和运行角色、数据库（归属主）及模式权限：以超级用户运行一次（可重复运"
        "行）。之后以属主运行 agent-tui migrate --grant-to 运行角色，以运行角色运行 agent"
        "-tui serve。"
    ),
    ("db create-roles", "db"): N_(
        "超级用户的 URL，如 postgresql+psycopg://postgres@host/postgres（用 --sql 时不需要）"
    ),
    ("db create-roles", "owner"): N_("属主角色：运行迁移，拥有各表"),
    ("db create-roles", "runtime"): N_("运行角色：agent-tui serve 以它登录"),
    ("db create-roles", "database"): N_("中心库的数据库（没有则创建）"),
    ("db create-roles", "owner_password"): N_("不填则询问"),
    ("db create-roles", "runtime_password"): N_("不填则询问"),
    ("db create-roles", "no_passwords"): N_("不设密码（pg_hba 用 peer、cert 或 trust）"),
    ("db create-roles", "reassign_from"): N_("由单一角色建成的中心库：把该角色的对象交给属主"),
    ("db create-roles", "sql"): N_(
        "只打印给 psql 用的 SQL，不执行（密码用 psql 变量 owner_password 和 runtime_password）"
    ),
    ("db grant", ""): N_(
        "授予运行角色对现有各表的权限（以属主运行；agent-tui migrate --grant-to 每次迁移"
        "后都会做）。"
    ),
    ("db grant", "runtime"): N_("运行角色"),
    ("db grant", "db"): N_("属主的 URL（默认：AGENT_TUI_DB_OWNER_URL）"),
    ("db check", ""): N_("检查中心库的角色能否改写审计日志（能则退出码 1）。"),
    ("audit", ""): N_("审计日志及其哈希链。"),
    ("audit verify", ""): N_(
        "沿审计日志的哈希链核对：完好则打印事件数（退出码 0），否则列出第一处不符的事件（"
        "链位置、编号、工单号、不符之处；退出码 1）。"
    ),
    ("audit verify", "anchor"): N_(
        "POSITION:HASH，即以前一次打印的链头（保存在数据库之外）；该位置的哈希必须不变。可重复。"
    ),
    ("user", ""): N_("中心库的账号（管理员用）。"),
    ("user add", ""): N_("创建账号。"),
    ("user add", "user_id"): N_("工号"),
    ("user add", "role"): N_(
        "角色：agent 话务员，lead 班长，department 承办单位，leader 领导（领导接听），admin 管理员"
    ),
    ("user add", "name"): N_("显示的姓名"),
    ("user add", "department"): N_("单位代码（department 角色）"),
    ("user add", "platform"): N_("平台代码（县区平台）"),
    ("user add", "password"): N_("不填则询问"),
    ("user passwd", ""): N_("设置新密码（该用户在各处的登录随之失效）。"),
    ("user passwd", "user_id"): N_("工号"),
    ("user disable", ""): N_("停用账号（并结束其会话），或用 --enable 重新启用。"),
    ("user disable", "user_id"): N_("工号"),
    ("user disable", "enable"): N_("改为重新启用"),
}

#: Shared parameters, the same help wherever they appear.
SHARED: dict[str, str] = {
    "db": N_("SQLAlchemy 数据库 URL（默认：数据目录下的 SQLite）"),
    "server": N_("中心库地址（默认：上次使用的）"),
    "user": N_("工号（默认：上次使用的）"),
    "password": N_("不填则询问"),
    "demo": N_("连接演示中心库（已在运行则加入，否则启动）"),
    "cases": N_("与 --demo 一起：首次运行载入的演示工单数"),
}

_PANELS = {
    "ARGUMENTS_PANEL_TITLE": N_("参数"),
    "OPTIONS_PANEL_TITLE": N_("选项"),
    "COMMANDS_PANEL_TITLE": N_("命令"),
    "REQUIRED_LONG_STRING": N_("[必填]"),
    "DEFAULT_STRING": N_("[默认：{}]"),
}
HELP_OPTION = N_("显示此帮助并退出")


def help_text(path: str, param: str = "") -> str | None:
    """The help of ``param`` of the command at ``path`` (``""``: the command), Chinese."""
    return HELP.get((path, param)) or (SHARED.get(param) if param else None)


def localize(command: Any, path: str = "") -> None:
    """Put the table's help, in the current language, on ``command`` and its sub-commands."""
    from rich.markup import escape
    from typer import rich_utils

    for name, panel in _PANELS.items():
        setattr(rich_utils, name, t(panel))
    found = help_text(path)
    if found is not None:
        command.help = escape(_breakable(t(found)))
        command.short_help = None
    for param in command.params:
        text = help_text(path, param.name or "")
        if text is not None and hasattr(param, "help"):
            param.help = escape(_breakable(t(text)))
        if _choices(param):
            # <address|category|department|knowledge> does not fit the metavar column and
            # breaks mid-word; the help names the choices instead.
            param.metavar = f"<{param.name}>"
    _localize_help_option(command)
    for name, sub in getattr(command, "commands", {}).items():
        localize(sub, f"{path} {name}".strip())


#: Rich wraps at spaces; a run without one wider than this is cut short with "…" in a table.
_LONGEST_RUN = 50
_CJK_BREAKS = re.compile(r"([，；。：])(?=\S)")


def _breakable(text: str) -> str:
    """``text`` with a space after Chinese punctuation inside runs too wide to wrap (rich
    breaks lines only at spaces, and Chinese has none)."""
    from rich.cells import cell_len

    return " ".join(
        _CJK_BREAKS.sub(r"\1 ", word) if cell_len(word) > _LONGEST_RUN else word
        for word in text.split(" ")
    )


def _choices(param: Any) -> bool:
    """A parameter whose values are a fixed set (an Enum or a Literal)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return True
    return get_origin(annotation) is Literal


def _localize_help_option(command: Any) -> None:
    original = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None:
            option.help = t(HELP_OPTION)
        return option

    command.get_help_option = get_help_option
