"""The connect screen's own words: a first connection to the office, not a sync (issue 14).

Each failure says what happened at which address and what to do here, on this screen (not
`fieldkit login`: the technician is already logging in); the Chinese holds no English detail."""

from __future__ import annotations

# message id -> (中文, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    "key.cancel_connect": ("取消连接", "Cancel connecting"),
    "first.checking": (
        "正在连接 {address} 并核对令牌…（最多 {seconds} 秒，按 Esc 可取消）",
        "Checking the token with {address}… (at most {seconds} s; Esc cancels)",
    ),
    "first.cancelled": (
        "已取消连接。地址和令牌都保留着：可以修改后再按“连接”。",
        "Connecting cancelled. The address and the token are kept: change them or press "
        "Connect again.",
    ),
    "connect.refused": (
        "无法连接到 {address} 的办公室服务器：请检查地址（包括端口）是否正确、办公室服务器是否已"
        "启动，然后再按“连接”。",
        "Could not reach the office at {address}: check the address (and its port) and that "
        "the office server is running, then press Connect again.",
    ),
    "connect.timeout": (
        "{address} 在 {seconds} 秒内没有回应：办公室服务器可能卡住了，或这个地址不是办公室"
        "服务器。请检查地址，或请办公室重启服务器，然后再按“连接”。",
        "The office at {address} did not answer within {seconds} s: the office server may be "
        "stuck, or this address is not the office server. Check the address or ask the office "
        "to restart the server, then press Connect again.",
    ),
    "connect.network": (
        "与 {address} 的连接中途断开了：请检查网络，然后再按“连接”。",
        "The connection to {address} broke off: check the network, then press Connect again.",
    ),
    "connect.token": (
        "办公室不接受这个令牌（可能输错了，或已被换发、停用）：请在上方重新输入令牌后再按"
        "“连接”；仍不行请向办公室索取新令牌。",
        "The office did not accept this token (mistyped, replaced or revoked): type the token "
        "again above and press Connect; if it still fails, ask the office for a new token.",
    ),
    "connect.forbidden": (
        "办公室不允许用这个令牌登录：请向办公室确认您的账号，或在上方输入另一个令牌。",
        "The office does not allow logging in with this token: ask the office to check your "
        "account, or type another token above.",
    ),
    "connect.throttled": (
        "尝试次数过多，办公室要求等待 {wait} 秒：请核对令牌，{wait} 秒后再按“连接”。",
        "Too many attempts: the office asks to wait {wait} s. Check the token, then press "
        "Connect again after {wait} s.",
    ),
    "connect.server": (
        "{address} 的办公室服务器出错了（HTTP {status}）：请稍后再按“连接”；如一直出错，"
        "请告诉办公室。",
        "The office server at {address} failed (HTTP {status}): press Connect again in a "
        "moment; if it goes on, tell the office.",
    ),
    "connect.not_office": (
        "{address} 有回应，但不是 fieldkit 办公室服务器：请检查地址（主机、端口和路径），"
        "然后再按“连接”。",
        "{address} answered, but it is not a fieldkit office server: check the address (host, "
        "port and path), then press Connect again.",
    ),
    "connect.certificate": (
        "{address} 的证书无法验证，它可能不是办公室的服务器：请向办公室核实地址；如办公室使用"
        "自己的证书机构（CA），请先在终端运行 fieldkit login 地址 --ca CA文件，再打开应用。",
        "The certificate of {address} cannot be verified (it may not be the office's server): "
        "check with the office; if it uses its own CA, log in once in a terminal with "
        "`fieldkit login URL --ca CA_FILE`, then open the app.",
    ),
    "connect.unexpected": (
        "连接未成功（意外错误，详情已写入日志 {log}）：请检查地址和网络后再按“连接”。",
        "Could not connect (an unexpected error; the details are in the log {log}): check the "
        "address and the network, then press Connect again.",
    ),
}
