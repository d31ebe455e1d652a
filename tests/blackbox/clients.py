"""tests/blackbox/clients.py: one request interface, two ways to reach r2mpu.

CgiClient runs the binary once per request as a plain CGI program (no web
server), the way cgit's and git's tests do. HttpClient talks HTTP to a real
web server that runs r2mpu as FastCGI. The case list (cases.py) only sees
`request()`, so every case runs unchanged in every setting.
"""

import http.client
import os
import socket
import subprocess
import time
import urllib.parse


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (last one wins)
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        import json
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:200])


class CgiClient:
    """r2mpu as plain CGI: environment in, stdin body, stdout answer."""

    name = "cgi"

    def __init__(self, binary, env, wrapper=(), logfile=None):
        self.binary = binary
        self.env = dict(env)
        self.wrapper = list(wrapper)   # e.g. valgrind and its options
        self.logfile = logfile         # each request's stderr is appended here
        if logfile:
            Logs.watch(logfile)

    def request(self, method, target, headers=None, body=None,
                content_length=None, env=None):
        """target is the raw request-target ("/k%20y?action=get").
        content_length overrides the real length (None: len(body), or unset
        without a body); pass "absent" to send no CONTENT_LENGTH at all."""
        path, _, query = target.partition("?")
        # The peer a server would name: this machine, unless a case says otherwise.
        e = {"REMOTE_ADDR": "127.0.0.1"}
        e.update(self.env)
        e.update({
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "r2mpu-tests",
            "REQUEST_METHOD": method,
            "REQUEST_URI": target,
            "QUERY_STRING": query,
            "SCRIPT_NAME": "",
            # Servers give PATH_INFO decoded; NUL cannot be in the environment.
            "PATH_INFO": urllib.parse.unquote(path, errors="replace").replace("\0", ""),
        })
        if content_length is None and body is not None:
            content_length = len(body)
        if content_length is not None and content_length != "absent":
            e["CONTENT_LENGTH"] = str(content_length)
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            e[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
        if env:
            e.update(env)
        p = subprocess.run(self.wrapper + [self.binary], input=body or b"", env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600)
        if self.logfile and p.stderr:
            with open(self.logfile, "ab") as f:
                f.write(b"[%s %s] " % (method.encode(), target.encode("latin-1", "replace")[:200]))
                f.write(p.stderr if p.stderr.endswith(b"\n") else p.stderr + b"\n")
        if p.returncode != 0:
            raise AssertionError("r2mpu exited %d: %s" % (p.returncode, p.stderr))
        return self.parse(p.stdout)

    @staticmethod
    def parse(out):
        head, sep, body = out.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("CGI output has no header end: %r" % out[:200])
        status, headers = 200, {}
        for line in head.split(b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            value = value.strip()
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers[name.lower()] = value
        return Response(status, headers, body)


class HttpClient:
    """A real web server on loopback; raw request-targets are sent as given."""

    def __init__(self, name, host, port):
        self.name = name
        self.host = host
        self.port = port

    def request(self, method, target, headers=None, body=None,
                content_length=None, env=None):
        if env:
            raise NotImplementedError("per-request environment is CGI-only")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.putrequest(method, target, skip_host=False,
                            skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if content_length is None and body is not None:
                content_length = len(body)
            if content_length == "absent":
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                if body:
                    conn.send(b"%x\r\n%s\r\n" % (len(body), body))
                conn.send(b"0\r\n\r\n")
            else:
                if content_length is not None:
                    conn.putheader("Content-Length", str(content_length))
                conn.endheaders()
                if body:
                    conn.send(body)
            r = conn.getresponse()
            data = r.read()
            headers = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, headers, data)
        finally:
            conn.close()

    def send_truncated(self, target, declared, sent):
        """PUT declaring `declared` bytes, send `sent` bytes, then vanish."""
        s = socket.create_connection((self.host, self.port), timeout=30)
        s.sendall(("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n"
                   % (target, self.host, declared)).encode("latin-1"))
        s.sendall(b"x" * sent)
        time.sleep(0.2)
        s.close()


class Logs:
    """The server and store logs of a test run, for the failing case's story.

    Every web server, S3 server and CGI client a test starts registers its
    log here. A runner calls mark() before a case; when the case fails,
    dump() prints what each log gained since, so CI's output shows the
    server's and the store's side of the failure, not just the assertion."""

    offsets = {}   # path -> size at the last mark

    @classmethod
    def watch(cls, path):
        cls.offsets.setdefault(path, cls._size(path))

    @staticmethod
    def _size(path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    @classmethod
    def mark(cls):
        for path in cls.offsets:
            cls.offsets[path] = cls._size(path)

    @classmethod
    def dump(cls, limit=6000):
        for path, start in cls.offsets.items():
            try:
                with open(path, "rb") as f:
                    f.seek(start)
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            if not text.strip():
                continue
            cut = text[-limit:]
            print("---- %s (%d bytes since the case began%s) ----" % (
                path, len(text), ", the last %d" % limit if len(text) > limit else ""))
            print(cut.rstrip("\n"))
        print("---- end of logs ----", flush=True)
        cls.mark()


RESULTS = []   # every check()'s outcome, in order: a suite passes when all are true


def check(name, ok, detail=""):
    """One named assertion of a suite that goes on after a failure: prints
    ok/FAIL (and, on a failure, the detail and the logs since the last check)."""
    RESULTS.append(bool(ok))
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + str(detail)) if detail and not ok else ""),
          flush=True)
    if ok:
        Logs.mark()
    else:
        Logs.dump()
    return ok


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "Sanitizer CHECK failed")


def sanitizer_reports(logfile):
    """Lines of a server log where a sanitizer build of r2mpu reported a fault."""
    try:
        text = open(logfile, errors="replace").read()
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKS)]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for_port(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen on %d" % port)


class Lighttpd:
    """tests/lighttpd/serve.sh (the shipped lighttpd config) on a free port."""

    def __init__(self, top, env, logfile):
        self.top = top
        self.env = env
        self.logfile = logfile
        self.proc = None
        self.port = None

    def __enter__(self):
        self.port = free_port()
        e = dict(os.environ)
        e.update(self.env)
        e["PORT"] = str(self.port)
        e["R2MPU_ERRORLOG"] = self.logfile
        # r2mpu's stderr is lighttpd's own (inherited), not lighttpd's error
        # log: send both to the one file, appending, so its lines are there too.
        self.stderr = open(self.logfile, "ab")
        Logs.watch(self.logfile)
        self.proc = subprocess.Popen([os.path.join(self.top, "tests/lighttpd/serve.sh")],
                                     env=e, stderr=self.stderr)
        wait_for_port(self.port, self.proc)
        return HttpClient("lighttpd", "127.0.0.1", self.port)

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


class S3Server:
    """tests/s3/<name>.sh: a real S3 server on loopback that checks signatures."""

    def __init__(self, top, name, workdir):
        self.script = os.path.join(top, "tests", "s3", name + ".sh")
        self.dir = os.path.join(workdir, name)

    class Unavailable(Exception):
        pass

    def __enter__(self):
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
        for log in ("moto.log", "log/client.rgw.log", "log/rgw.out"):
            Logs.watch(os.path.join(self.dir, log))
        settings = {}
        for line in open(os.path.join(self.dir, "env")):
            name, _, value = line.strip().partition("=")
            if name:
                settings[name] = value
        return settings

    def __exit__(self, *exc):
        subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL)


APACHE_MODULES = {   # reqtimeout: the shipped configs set its limits
    "fcgid": ["alias", "fcgid", "reqtimeout"],
    "cgi": ["alias", "env", "cgid", "reqtimeout"],
    "proxy-fcgi": ["proxy", "proxy_fcgi", "reqtimeout"],
}


class ServerProcesses:
    """What Apache and Nginx share: processes to stop, newest first, and a log."""

    procs = ()

    def max_part(self):
        """R2MPU_MAX_PART for the config: the settings' R2MPU_MAX_PART_SIZE (digits, or nM)."""
        v = self.settings.get("R2MPU_MAX_PART_SIZE", "16M")
        return int(v[:-1]) << 20 if v.endswith("M") else int(v)

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.stderr.close()


class Apache(ServerProcesses):
    """Real Apache 2.4 running the shipped apache-conf/r2mpu-<variant>.conf at /r2mpu.

    r2mpu's settings go in a KEY=value file (R2MPU_CONF), as the configs
    recommend. proxy-fcgi also starts a standalone r2mpu (--listen)."""

    def __init__(self, top, variant, settings, logfile, workdir):
        self.top = top
        self.variant = variant
        self.settings = dict(settings)
        self.logfile = logfile
        self.state = os.path.join(workdir, "apache-" + variant)
        self.procs = []

    def __enter__(self):
        import pwd
        import shutil
        os.makedirs(os.path.join(self.state, "fcgid"))
        www = pwd.getpwnam("www-data")
        # Apache's children run as www-data, which may not reach into this
        # checkout (CI clones into a 0700 directory): serve a copy of the
        # binary, from directories it can traverse.
        for d in (os.path.dirname(self.state), self.state):
            os.chmod(d, 0o755)
        home = os.path.join(self.state, "home")
        os.makedirs(os.path.join(home, "cgi-bin"))
        binary = os.environ.get("R2MPU_TEST_BIN") or os.path.join(self.top, "cgi-bin", "r2mpu.fcgi")
        shutil.copy2(binary, os.path.join(home, "cgi-bin", "r2mpu.fcgi"))
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
        self.port = free_port()
        fcgi_port = free_port()
        mods = "".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n" % (m, m)
                       for m in ["mpm_event", "authz_core"] + APACHE_MODULES[self.variant])
        with open(os.path.join(self.state, "httpd.conf"), "w") as f:
            f.write("""ServerRoot %(state)s
ServerName 127.0.0.1
Listen 127.0.0.1:%(port)d
PidFile %(state)s/httpd.pid
DefaultRuntimeDir %(state)s
ErrorLog %(log)s
LogLevel warn
User www-data
Group www-data
%(mods)s
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
Include %(top)s/apache-conf/r2mpu-%(variant)s.conf
""" % {"state": self.state, "port": self.port, "log": self.logfile, "mods": mods,
                "top": self.top, "home": home, "conf": conf_file, "fcgi": fcgi_port,
                "variant": self.variant, "max_part": self.max_part()})
        self.stderr = open(self.logfile, "ab")
        Logs.watch(self.logfile)
        self.fcgi_port = fcgi_port
        if self.variant == "proxy-fcgi":
            env = dict(os.environ, R2MPU_CONFIG=conf_file, R2MPU_MOUNT="/r2mpu")
            self.procs.append(subprocess.Popen(
                [binary, "--listen", "127.0.0.1:%d" % fcgi_port,
                 "--workers", self.settings.get("R2MPU_PROCS", "8")],
                env=env, stderr=self.stderr))
        self.procs.append(subprocess.Popen(
            ["apache2", "-f", os.path.join(self.state, "httpd.conf"), "-DFOREGROUND"],
            stderr=self.stderr, env=dict(os.environ, APACHE_LOG_DIR=self.state)))
        try:
            wait_for_port(self.port, self.procs[-1])
            if self.variant == "proxy-fcgi":
                wait_for_port(fcgi_port, self.procs[0])
        except Exception:
            self.__exit__()
            raise
        return PrefixedClient(HttpClient("apache-" + self.variant, "127.0.0.1", self.port),
                              "/r2mpu")



class PrefixedClient:
    """The same requests under a mount point (/r2mpu/<key>)."""

    def __init__(self, inner, prefix):
        self.inner = inner
        self.prefix = prefix
        self.name = inner.name
        self.port = inner.port

    def request(self, method, target, *args, **kw):
        return self.inner.request(method, self.prefix + target, *args, **kw)

    def send_truncated(self, target, declared, sent):
        return self.inner.send_truncated(self.prefix + target, declared, sent)


class Nginx(ServerProcesses):
    """Real nginx with the shipped nginx-conf/r2mpu.conf, before a standalone r2mpu."""

    def __init__(self, top, settings, logfile, workdir):
        self.top = top
        self.settings = dict(settings)
        self.logfile = logfile
        self.state = os.path.join(workdir, "nginx")
        self.procs = []

    def __enter__(self):
        os.makedirs(self.state)
        self.port = free_port()
        fcgi_port = free_port()
        snippet = open(os.path.join(self.top, "nginx-conf", "r2mpu.conf")).read()
        snippet = snippet.replace("127.0.0.1:9000;", "127.0.0.1:%d;" % fcgi_port)
        with open(os.path.join(self.state, "r2mpu.conf"), "w") as f:
            f.write(snippet)
        # The snippet's "include fastcgi_params" is relative to the prefix.
        import shutil
        shutil.copy("/etc/nginx/fastcgi_params", self.state)
        with open(os.path.join(self.state, "nginx.conf"), "w") as f:
            f.write("""daemon off;
worker_processes 2;
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
    server {
        listen 127.0.0.1:%(port)d;
        include %(s)s/r2mpu.conf;
    }
}
""" % {"s": self.state, "log": self.logfile, "port": self.port})
        self.stderr = open(self.logfile, "ab")
        Logs.watch(self.logfile)
        binary = os.environ.get("R2MPU_TEST_BIN") or os.path.join(self.top, "cgi-bin", "r2mpu.fcgi")
        env = dict(os.environ, R2MPU_MOUNT="/r2mpu")
        env.update({k: v for k, v in self.settings.items() if k.startswith("R2MPU_")})
        self.fcgi_port = fcgi_port
        self.procs.append(subprocess.Popen(
            [binary, "--listen", "127.0.0.1:%d" % fcgi_port,
             "--workers", self.settings.get("R2MPU_PROCS", "8")],
            env=env, stderr=self.stderr))
        self.procs.append(subprocess.Popen(
            ["nginx", "-c", os.path.join(self.state, "nginx.conf"), "-p", self.state],
            stderr=self.stderr))
        try:
            wait_for_port(fcgi_port, self.procs[0])
            wait_for_port(self.port, self.procs[1])
        except Exception:
            self.__exit__()
            raise
        return PrefixedClient(HttpClient("nginx", "127.0.0.1", self.port), "/r2mpu")

