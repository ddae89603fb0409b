#!/bin/bash
# bench_tui.sh — responsiveness of the terminal workbench: time from a keystroke written to the
# terminal (a pty, 120×40) until the TUI has echoed it on the command line, idle and while
# `train` runs on the worker thread (goal: well under 50 ms).  Peer: the same measurement for
# bash's readline prompt.  Also reports how many bytes per second the screen updates cost while
# training (redraws are capped at 20 per second).  Usage: bench/bench_tui.sh [KEYS] (default 30)
set -u
cd "$(dirname "$0")/.."
BIN=${QVAE_BIN:-$PWD/build/rel/qvae}
[ -x "$BIN" ] || { echo "bench_tui: no binary $BIN"; exit 0; }
command -v python3 >/dev/null || { echo "bench_tui: python3 missing, skipped"; exit 0; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
BIN="$BIN" TMP="$TMP" N="${1:-30}" python3 - <<'PY'
import os, pty, time, fcntl, termios, struct, select, signal, statistics
BIN, TMP, N = os.environ["BIN"], os.environ["TMP"], int(os.environ["N"])
MARK = "\u00a7".encode()          # '§': never printed by qvae itself

def spawn(argv, env):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    return pid, fd

class Term:
    def __init__(self, fd): self.fd, self.buf, self.nbytes = fd, b"", 0
    def pump(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if r:
            try: d = os.read(self.fd, 65536)
            except OSError: return False
            self.buf = (self.buf + d)[-200000:]; self.nbytes += len(d)
        return True
    def wait(self, text, limit=120):
        end = time.time() + limit
        while time.time() < end:
            if text in self.buf: return True
            self.pump(0.05)
        raise SystemExit("bench_tui: timed out waiting for %r" % text)

def measure(t, label):
    lat = []
    for _ in range(N):
        t.buf = b""
        t0 = time.perf_counter()
        os.write(t.fd, MARK)
        while MARK not in t.buf:
            t.pump(0.5)
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)
    os.write(t.fd, b"\x15")          # Ctrl-U: clear the line
    lat.sort()
    print("%-30s median %6.2f ms   p90 %6.2f ms   max %6.2f ms   (n=%d)" %
          (label, statistics.median(lat), lat[int(0.9 * (len(lat) - 1))], lat[-1], len(lat)))
    return statistics.median(lat)

env = dict(os.environ, HOME=TMP, XDG_STATE_HOME=TMP, TERM="xterm-256color", LANG="C.UTF-8",
           LC_ALL="C.UTF-8", QVAE_SESSIONS=TMP + "/s",
           QVAE_TUI_STARTUP="data load mnist; prior new chimera 2 2 4; model new --hidden 200")
pid, fd = spawn([BIN], env)
t = Term(fd)
t.wait(b"Ready. Try")
idle = measure(t, "qvae, idle")
os.write(fd, b"train 50\r")
t.wait(b"ETA")
b0, s0 = t.nbytes, time.time()
busy = measure(t, "qvae, while training")
rate = (t.nbytes - b0) / (time.time() - s0)
os.write(fd, b"\x03")
t.wait(b"stopped")
os.write(fd, b"quit\r")
try:
    while t.pump(0.2): pass
except Exception: pass
os.waitpid(pid, 0)
print("screen output while training: %.1f kB/s" % (rate / 1000))

env2 = dict(os.environ, HOME=TMP, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8", PS1="qvae> ")
pid, fd = spawn(["bash", "--norc", "--noprofile", "-i"], env2)
t = Term(fd)
t.wait(b"qvae> ", 10)
peer = measure(t, "peer: bash readline prompt")
os.write(fd, b"exit\r")
try:
    while t.pump(0.2): pass
except Exception: pass
os.waitpid(pid, 0)
print("ratio qvae-while-training / bash: %.2f" % (busy / peer))
PY
