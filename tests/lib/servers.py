# SPDX-License-Identifier: MIT
"""tests/lib/servers.py: the web servers and S3 servers a suite runs r2mpu behind.

Each is started from the config r2mpu ships (lighttpd-conf/, apache-conf/,
nginx-conf/) on a free loopback port, as a context manager whose `with`
gives the client to reach r2mpu through it: web_server(mode, ...) picks the
server of a mode. S3Server starts tests/s3/<name>.sh and gives the store's
R2MPU_S3_* settings. Every log they write is registered with checks.Logs.
"""

import os
import pwd
import random
import shutil
import socket
import subprocess
import time

from lib import BIN, TOP, procs, scratch_metrics_file
from lib.checks import Logs
from lib.clients import HttpClient, PrefixedClient

# Every web server r2mpu ships a config for, as the suites' --mode names them.
MODES = ("lighttpd", "apache-cgi", "apache-fcgid", "apache-proxy-fcgi", "nginx")


def _ephemeral_low():
    """Where the kernel's ephemeral ports start (bind(0), connect())."""
    try:
        return int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_handed_out = set()


def free_port():
    """A loopback port that was free a moment ago and that this process has not
    handed out before.

    Not bind(0)'s: two bind(0)s in a row return the same port about once in
    15,000 pairs (measured here), and an Apache given the standalone r2mpu's
    port then made r2mpu exit 1 before it listened. Ports are picked at random
    below the ephemeral range, so neither bind(0) nor a client's connect()
    elsewhere in the suite can take one before its server binds it."""
    low = _ephemeral_low()
    for _ in range(1000):
        port = random.randrange(min(10000, low // 2), low)
        if port in _handed_out:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port below %d" % low)


def wait_for_port(port, proc, timeout=15):
    """Wait until something listens on 127.0.0.1:port; RuntimeError if proc
    exits first or nothing listens within timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            Logs.dump()     # why it exited: its log, before the sandbox goes
            raise RuntimeError("server exited early with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen on %d" % port)


def stop(proc):
    """SIGTERM, and SIGKILL for a process still there 20 s later."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def standalone(binary, port, workers, env, stderr):
    """r2mpu as its own FastCGI server (--listen 127.0.0.1:port, `workers`
    processes), the way nginx and mod_proxy_fcgi reach it."""
    return subprocess.Popen([binary, "--listen", "127.0.0.1:%d" % port, "--workers", str(workers)],
                            env=env, stderr=stderr)


def read_env(path):
    """A file of KEY=value lines (tests/s3/*.sh write one): a dict."""
    settings = {}
    for line in open(path):
        name, _, value = line.strip().partition("=")
        if name:
            settings[name] = value
    return settings


def write_tokens(path, text, mode):
    """A tokens file (R2MPU_TOKENS_FILE) as r2mpu wants it, 0600, owned by
    www-data where Apache runs r2mpu (mode apache-*)."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    if mode.startswith("apache"):
        www = pwd.getpwnam("www-data")
        os.chown(path, www.pw_uid, www.pw_gid)
    return path


def web_server(mode, settings, logfile, workdir):
    """The web server of a mode (MODES), not started yet: `with` starts it and
    gives its client (lighttpd serves r2mpu at /, the others at /r2mpu/)."""
    if mode == "lighttpd":
        return Lighttpd(settings, logfile)
    if mode == "nginx":
        return Nginx(settings, logfile, workdir)
    if mode.startswith("apache-"):
        return Apache(mode[len("apache-"):], settings, logfile, workdir)
    raise ValueError("no web server %r (one of %s)" % (mode, ", ".join(MODES)))


class Lighttpd:
    """tests/lighttpd/serve.sh (the shipped lighttpd config) on a free port,
    with r2mpu's settings in its environment."""

    def __init__(self, settings, logfile):
        self.settings = dict(settings)
        self.settings.setdefault("R2MPU_METRICS_FILE", scratch_metrics_file())
        self.logfile = logfile
        self.proc = None
        self.port = None
        # serve.sh's choice: R2MPU_TEST_BIN, from the settings or the environment
        self.binary = settings.get("R2MPU_TEST_BIN") or BIN

    def __enter__(self):
        self.port = free_port()
        e = dict(os.environ)
        e.update(self.settings)
        e["PORT"] = str(self.port)
        e["R2MPU_ERRORLOG"] = self.logfile
        # r2mpu's stderr is lighttpd's own (inherited), not lighttpd's error
        # log: send both to the one file, appending, so its lines are there too.
        self.stderr = open(self.logfile, "ab")
        Logs.watch(self.logfile)
        self.proc = subprocess.Popen([os.path.join(TOP, "tests/lighttpd/serve.sh")],
                                     env=e, stderr=self.stderr)
        wait_for_port(self.port, self.proc)
        self.wait_for_pool(int(e.get("R2MPU_PROCS") or 4))
        return HttpClient("lighttpd", "127.0.0.1", self.port)

    def wait_for_pool(self, n, timeout=10):
        """lighttpd listens before it has spawned all its r2mpu processes: wait
        for the n the config starts, so that a suite that notes them at the
        start (to see none die) notes them all. Under a wrapper (valgrind) the
        processes run another program: nothing to wait for."""
        if not self.binary.endswith(".fcgi"):
            return
        deadline = time.time() + timeout
        while len(self.r2mpu_pids()) < n and time.time() < deadline:
            time.sleep(0.05)

    def __exit__(self, *exc):
        stop(self.proc)
        self.stderr.close()

    def r2mpu_pids(self):
        """The r2mpu processes this lighttpd spawned (serve.sh -> lighttpd ->
        r2mpu), sorted: never those of another run on this machine."""
        return procs.r2mpu_pids(self.proc.pid, self.binary)


class S3Server:
    """tests/s3/<name>.sh: a real S3 server on loopback that checks signatures."""

    def __init__(self, name, workdir):
        self.script = os.path.join(TOP, "tests", "s3", name + ".sh")
        self.dir = os.path.join(workdir, name)
        # One server shared by several suites (tests/s3/with.sh): used, never stopped.
        self.shared = os.environ.get("R2MPU_TEST_%s_DIR" % name.upper())

    class Unavailable(Exception):
        pass

    def __enter__(self):
        if self.shared:
            self.dir = self.shared
            self.watch_logs()
            return read_env(os.path.join(self.dir, "env"))
        os.makedirs(self.dir)
        for attempt in range(2):
            # A one-node Ceph now and then fails to come up: one more try.
            p = subprocess.run([self.script, "start", self.dir, str(free_port())],
                               stdout=subprocess.DEVNULL)
            if p.returncode in (0, 3):
                break
            subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL)
        if p.returncode == 3:
            raise S3Server.Unavailable(os.path.basename(self.script) + ": not installed here")
        if p.returncode != 0:
            raise RuntimeError("%s start failed (exit %d)" % (self.script, p.returncode))
        self.watch_logs()
        return read_env(os.path.join(self.dir, "env"))

    def watch_logs(self):
        for log in ("moto.log", "log/client.rgw.log", "log/rgw.out"):
            Logs.watch(os.path.join(self.dir, log))

    def __exit__(self, *exc):
        if not self.shared:
            subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL)


APACHE_MODULES = {   # reqtimeout: the shipped configs set its limits
    "fcgid": ["alias", "fcgid", "reqtimeout"],
    "cgi": ["alias", "env", "cgid", "reqtimeout"],
    "proxy-fcgi": ["proxy", "proxy_fcgi", "reqtimeout"],
}


class ServerProcesses:
    """What Apache and Nginx share: processes to stop, newest first, and a log."""

    procs = ()   # the Popen objects, oldest first

    def max_part(self):
        """R2MPU_MAX_PART for the config: the settings' R2MPU_MAX_PART_SIZE (digits, or nM)."""
        v = self.settings.get("R2MPU_MAX_PART_SIZE", "16M")
        return int(v[:-1]) << 20 if v.endswith("M") else int(v)

    def start_standalone(self, env):
        """r2mpu --listen on self.fcgi_port with R2MPU_PROCS workers (8 by default)."""
        self.procs.append(standalone(BIN, self.fcgi_port, self.settings.get("R2MPU_PROCS", "8"),
                                     env, self.stderr))

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            stop(p)
        self.stderr.close()


def apache_prologue(state, port, log):
    """The start of an httpd.conf of ours: its state, port and log; www-data's processes."""
    return """ServerRoot %(state)s
ServerName 127.0.0.1
Listen 127.0.0.1:%(port)d
PidFile %(state)s/httpd.pid
DefaultRuntimeDir %(state)s
ErrorLog %(log)s
LogLevel warn
User www-data
Group www-data
""" % {"state": state, "port": port, "log": log}


def nginx_prologue(state, log, workers):
    """The start of an nginx.conf of ours, up to the inside of `http {`: its state
    (every temporary path in it) and log."""
    return """daemon off;
worker_processes %(workers)d;
pid %(s)s/nginx.pid;
error_log %(log)s warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(s)s/body;
    fastcgi_temp_path %(s)s/fastcgi;
    proxy_temp_path %(s)s/proxy;
    uwsgi_temp_path %(s)s/uwsgi;
    scgi_temp_path %(s)s/scgi;
""" % {"s": state, "log": log, "workers": workers}


class Apache(ServerProcesses):
    """Real Apache 2.4 running the shipped apache-conf/r2mpu-<variant>.conf at /r2mpu.

    r2mpu's settings go in a KEY=value file (R2MPU_CONF), as the configs
    recommend. proxy-fcgi also starts a standalone r2mpu (--listen). edit, when
    given, rewrites the shipped config's text first: a server set up wrongly, on
    purpose (r2mpu-client's check names what is wrong)."""

    def __init__(self, variant, settings, logfile, workdir, edit=None):
        self.variant = variant
        self.edit = edit
        self.settings = dict(settings)
        # In its state directory, which its www-data processes may write.
        self.settings.setdefault("R2MPU_METRICS_FILE",
                                 scratch_metrics_file(os.path.join(workdir, "apache-" + variant)))
        self.logfile = logfile
        self.state = os.path.join(workdir, "apache-" + variant)
        self.procs = []

    def __enter__(self):
        os.makedirs(os.path.join(self.state, "fcgid"))
        www = pwd.getpwnam("www-data")
        # Apache's children run as www-data, which may not reach into this
        # checkout (CI clones into a 0700 directory): serve a copy of the
        # binary, from directories it can traverse.
        for d in (os.path.dirname(self.state), self.state):
            os.chmod(d, 0o755)
        home = os.path.join(self.state, "home")
        os.makedirs(os.path.join(home, "cgi-bin"))
        shutil.copy2(BIN, os.path.join(home, "cgi-bin", "r2mpu.fcgi"))
        conf_file = os.path.join(self.state, "r2mpu.conf")
        with open(conf_file, "w") as f:
            for k, v in self.settings.items():
                if k.startswith("R2MPU_") and k not in ("R2MPU_PROCS",):
                    f.write("%s=%s\n" % (k, v))
        root = self.settings.get("R2MPU_FS_ROOT")
        if root:
            os.makedirs(root, exist_ok=True)
            os.chown(root, www.pw_uid, www.pw_gid)
        for path in (self.state, os.path.join(self.state, "fcgid"), conf_file):
            os.chown(path, www.pw_uid, www.pw_gid)
        os.chmod(conf_file, 0o600)   # it may hold the signing secret: r2mpu insists
        self.port = free_port()
        self.fcgi_port = free_port()
        mods = "".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n" % (m, m)
                       for m in ["mpm_event", "authz_core"] + APACHE_MODULES[self.variant])
        site = os.path.join(TOP, "apache-conf", "r2mpu-%s.conf" % self.variant)
        if self.edit:
            text = self.edit(open(site).read())
            site = os.path.join(self.state, "site.conf")
            with open(site, "w") as f:
                f.write(text)
        with open(os.path.join(self.state, "httpd.conf"), "w") as f:
            f.write(apache_prologue(self.state, self.port, self.logfile) + """%(mods)s
<IfModule fcgid_module>
    FcgidIPCDir %(state)s/fcgid
    FcgidProcessTableFile %(state)s/fcgid/shm
</IfModule>
<IfModule cgid_module>
    ScriptSock %(state)s/cgid.sock
</IfModule>
Define R2MPU_HOME %(home)s
Define R2MPU_CONF %(conf)s
Define R2MPU_FCGI 127.0.0.1:%(fcgi)d
Define R2MPU_MAX_PART %(max_part)d
# Inside a <VirtualHost>, as the configs ask (a server-level AllowEncodedSlashes
# would not reach one): the way Debian's sites-available/ serves them.
<VirtualHost 127.0.0.1:%(port)d>
    Include %(site)s
</VirtualHost>
""" % {"state": self.state, "port": self.port, "mods": mods,
                "site": site, "home": home, "conf": conf_file, "fcgi": self.fcgi_port,
                "max_part": self.max_part()})
        self.stderr = open(self.logfile, "ab")
        Logs.watch(self.logfile)
        if self.variant == "proxy-fcgi":
            self.start_standalone(dict(os.environ, R2MPU_CONFIG=conf_file, R2MPU_MOUNT="/r2mpu"))
        self.procs.append(subprocess.Popen(
            ["apache2", "-f", os.path.join(self.state, "httpd.conf"), "-DFOREGROUND"],
            stderr=self.stderr, env=dict(os.environ, APACHE_LOG_DIR=self.state)))
        try:
            wait_for_port(self.port, self.procs[-1])
            if self.variant == "proxy-fcgi":
                wait_for_port(self.fcgi_port, self.procs[0])
        except Exception:
            self.__exit__()
            raise
        return PrefixedClient(HttpClient("apache-" + self.variant, "127.0.0.1", self.port),
                              "/r2mpu")


class Nginx(ServerProcesses):
    """Real nginx with the shipped nginx-conf/r2mpu.conf, before a standalone r2mpu
    (edit: as for Apache)."""

    def __init__(self, settings, logfile, workdir, edit=None):
        self.edit = edit
        self.settings = dict(settings)
        self.settings.setdefault("R2MPU_METRICS_FILE", scratch_metrics_file())
        self.logfile = logfile
        self.state = os.path.join(workdir, "nginx")
        self.procs = []

    def __enter__(self):
        os.makedirs(self.state)
        self.port = free_port()
        self.fcgi_port = free_port()
        snippet = open(os.path.join(TOP, "nginx-conf", "r2mpu.conf")).read()
        snippet = snippet.replace("127.0.0.1:9000;", "127.0.0.1:%d;" % self.fcgi_port)
        if self.edit:
            snippet = self.edit(snippet)
        with open(os.path.join(self.state, "r2mpu.conf"), "w") as f:
            f.write(snippet)
        # The snippet's "include fastcgi_params" is relative to the prefix.
        shutil.copy("/etc/nginx/fastcgi_params", self.state)
        with open(os.path.join(self.state, "nginx.conf"), "w") as f:
            f.write(nginx_prologue(self.state, self.logfile, 2) + """    server {
        listen 127.0.0.1:%(port)d;
        include %(s)s/r2mpu.conf;
    }
}
""" % {"s": self.state, "port": self.port})
        self.stderr = open(self.logfile, "ab")
        Logs.watch(self.logfile)
        env = dict(os.environ, R2MPU_MOUNT="/r2mpu")
        env.update({k: v for k, v in self.settings.items() if k.startswith("R2MPU_")})
        self.start_standalone(env)
        self.procs.append(subprocess.Popen(
            ["nginx", "-c", os.path.join(self.state, "nginx.conf"), "-p", self.state],
            stderr=self.stderr))
        try:
            wait_for_port(self.fcgi_port, self.procs[0])
            wait_for_port(self.port, self.procs[1])
        except Exception:
            self.__exit__()
            raise
        return PrefixedClient(HttpClient("nginx", "127.0.0.1", self.port), "/r2mpu")

