"""Run Debian's Dovecot from a temp dir on a free loopback port, for tests and local runs."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from gateway_dev.localworld.mailboxes import LocalMailboxes
from gateway_dev.localworld.ports import free_port, wait_for_port


class DovecotMissing(RuntimeError):
    pass


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if found is None:
        raise DovecotMissing(
            "Dovecot is not installed: apt-get install dovecot-imapd (make test does this)"
        )
    return found


@dataclass
class Dovecot(LocalMailboxes):
    users: dict[str, str]
    tls_cert: Path | None = None
    tls_key: Path | None = None
    oauth2_introspection_url: str | None = None
    # "maildir" lets tests drop files in while the server is down and renumber a folder;
    # "mdbox" has no same-second maildir rescans, for latency measurements.
    mail_format: str = "maildir"
    # Advertise only these capabilities (e.g. without IDLE and MOVE) to exercise fallbacks.
    capabilities: str | None = None
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mash-dovecot-")))
    port: int = 0
    tls_port: int = 0
    _running: bool = False

    def __post_init__(self) -> None:
        # The login process runs as an unprivileged user that must reach the sockets here.
        self.root.chmod(0o755)
        self.port = self.port or free_port()
        if self.tls_cert is not None:
            self.tls_port = self.tls_port or free_port()
        (self.root / "mail").mkdir(exist_ok=True)
        self._write_config()

    @property
    def config_file(self) -> Path:
        return self.root / "dovecot.conf"

    def _ids(self) -> tuple[str, str, int, int]:
        if os.geteuid() == 0:
            mail = pwd.getpwnam("dovecot")
            return "dovenull", "dovecot", mail.pw_uid, mail.pw_gid
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid

    def _write_config(self) -> None:
        login_user, internal_user, uid, gid = self._ids()
        passwd = "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items())
        (self.root / "passwd").write_text(passwd, encoding="utf-8")
        (self.root / "passwd").chmod(0o644)
        if os.geteuid() == 0:
            os.chown(self.root / "mail", uid, gid)
        ssl_lines = "ssl = no\n"
        imaps = "  inet_listener imaps {\n    port = 0\n  }\n"
        if self.tls_cert is not None and self.tls_key is not None:
            ssl_lines = (
                f"ssl = yes\nssl_cert = <{self.tls_cert}\nssl_key = <{self.tls_key}\n"
                "ssl_min_protocol = TLSv1.2\n"
            )
            imaps = (
                "  inet_listener imaps {\n    address = 127.0.0.1\n"
                f"    port = {self.tls_port}\n    ssl = yes\n  }}\n"
            )
        oauth = ""
        mechanisms = "plain login"
        if self.oauth2_introspection_url:
            # XOAUTH2 as Microsoft 365 offers it, checked against a local introspection endpoint.
            ext = self.root / "dovecot-oauth2.conf.ext"
            ext.write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "username_attribute = username\nactive_attribute = active\n"
                "active_value = true\n",
                encoding="utf-8",
            )
            ext.chmod(0o644)
            oauth = (
                f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {ext}\n}}\n"
            )
            mechanisms = "plain login xoauth2 oauthbearer"
        capability = f"imap_capability = {self.capabilities}\n" if self.capabilities else ""
        self.config_file.write_text(
            f"""{capability}
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
{ssl_lines}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_user}
first_valid_uid = 1
mail_location = {self.mail_format}:{self.root}/mail/%u
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
mail_max_userip_connections = 100
{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
{imaps}}}
service anvil {{
  chroot =
}}
""",
            encoding="utf-8",
        )

    def start(self) -> None:
        # The master daemonises and its children keep our stdio: never pipe it, or we hang.
        with open(self.root / "start.log", "ab") as out:
            subprocess.run(
                [dovecot_binary(), "-c", str(self.config_file)],
                check=True,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
            )
        self._running = True
        wait_for_port(self.port)
        if self.tls_port:
            wait_for_port(self.tls_port)
        # The daemonised master listens before it writes its pid file; stop() needs the pid.
        if self._master_pid(timeout=15.0) is None:
            raise RuntimeError(f"Dovecot wrote no pid file; see {self.root / 'dovecot.log'}")

    def stop(self) -> None:
        if not self._running:
            return
        pid_file = self.root / "run" / "master.pid"
        pid = self._master_pid(timeout=5.0)
        group = None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                # Only a group the daemonised master leads is ours to kill.
                group = pid if os.getpgid(pid) == pid else None
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pid = None
        if pid is not None:
            _exited(pid, 0.5)
        if group is not None:
            # The master lingers for seconds waiting on its children, and a child that outlives
            # it can keep the listener open; a test world need not wait for either.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        if pid is not None:
            _exited(pid, 10)
        wait_for_port(self.port, up=False)
        # A zombie master still answers kill(pid, 0): Dovecot would think it is running.
        pid_file.unlink(missing_ok=True)
        self._running = False

    def _master_pid(self, timeout: float) -> int | None:
        pid_file = self.root / "run" / "master.pid"
        deadline = time.monotonic() + timeout
        while True:
            try:
                return int(pid_file.read_text().strip())
            except (OSError, ValueError):
                if time.monotonic() >= deadline:
                    return None
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user

    def reset_uidvalidity(self, user: str) -> int:
        """Make the server renumber INBOX, as a restored or rebuilt mailbox does."""
        was_running = self._running
        self.stop()
        maildir = self.maildir(user)
        old = 0
        uidlist = maildir / "dovecot-uidlist"
        if uidlist.exists():
            header = uidlist.read_text(encoding="ascii", errors="replace").split()
            old = next((int(w[1:]) for w in header if w.startswith("V")), 0)
        for path in maildir.glob("dovecot*"):
            if path.is_file():
                path.unlink()
        # A fresh uidlist with a new UIDVALIDITY: Dovecot numbers every file again from 1.
        new = old + 1000
        uidlist.write_text(f"3 V{new} N1\n", encoding="ascii")
        if os.geteuid() == 0:
            _login, _internal, uid, gid = self._ids()
            os.chown(uidlist, uid, gid)
        if was_running:
            self.start()
        return new


def _exited(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def _alive(pid: int) -> bool:
    """False for a gone or zombie process (nobody may reap a daemon's master here)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
