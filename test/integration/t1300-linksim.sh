#!/bin/sh
# t1300: linksim passes bytes intact both ways, delays each round trip by at
# least the configured RTT and never goes faster than the configured rate.
# Only lower bounds on time are checked, so a slow machine cannot fail it.
. "$top_srcdir/test/integration/lib.sh"

LINKSIM="$top_builddir/test/bench/linksim"
[ -x "$LINKSIM" ] || bail_out "$LINKSIM is missing: run make"
command -v python3 >/dev/null || bail_out "python3 is missing: apt-get install python3"
require_root

RTT=200		# ms
MBIT=16		# 2,000,000 bytes/s each way
NBYTES=2000000	# one second at MBIT
# The bucket starts full: 64 KiB, 33 ms at 16 Mbit/s; allow 50 ms.
MIN_XFER=0.95

# A server with three modes chosen by the first line:
# "echo" sends back what it reads; "sink" reads to EOF then replies
# "COUNT SHA256"; "source N" sends N bytes of seeded data then closes.
cat >"$TEST_DIR/server.py" <<'PY'
import hashlib, random, socket, socketserver, sys

class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        mode = self.rfile.readline().split()
        s = self.request
        if mode[0] == b"echo":
            while True:
                b = self.rfile.read1(65536)
                if not b:
                    break
                s.sendall(b)
        elif mode[0] == b"sink":
            h, n = hashlib.sha256(), 0
            while True:
                b = self.rfile.read1(65536)
                if not b:
                    break
                h.update(b)
                n += len(b)
            s.sendall(b"%d %s\n" % (n, h.hexdigest().encode()))
        elif mode[0] == b"source":
            s.sendall(random.Random(7).randbytes(int(mode[1])))
        s.shutdown(socket.SHUT_WR)

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128	# the default 5 resets bursts of connections

srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY

# client.py MODE PORT [N [K]]: prints the elapsed seconds, fails on bad data.
cat >"$TEST_DIR/client.py" <<'PY'
import hashlib, random, socket, sys, threading, time

mode, port = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 0

def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=30)

def recv_all(s):
    out = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            return bytes(out)
        out += b

def echo(seed):
    data = random.Random(seed).randbytes(n)
    s = connect()
    def send():
        s.sendall(b"echo\n" + data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = recv_all(s)
    t.join()
    if got != data:
        sys.exit("echo: %d bytes back of %d, or different" % (len(got), len(data)))

start = time.monotonic()
if mode == "echo":
    echo(1)
elif mode == "many":
    errors = []
    def one(i):
        try:
            echo(100 + i)
        except BaseException as e:
            errors.append(repr(e))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(int(sys.argv[4]))]
    for t in ts: t.start()
    for t in ts: t.join()
    if errors:
        sys.exit("; ".join(errors))
elif mode == "rtt":
    s = connect()
    s.sendall(b"echo\n")
    start = time.monotonic()
    s.sendall(b"x")
    if s.recv(1) != b"x":
        sys.exit("rtt: wrong byte back")
elif mode == "sink":
    data = random.Random(3).randbytes(n)
    s = connect()
    s.sendall(b"sink\n" + data)
    s.shutdown(socket.SHUT_WR)
    want = b"%d %s\n" % (n, hashlib.sha256(data).hexdigest().encode())
    got = recv_all(s)
    if got != want:
        sys.exit("sink: server got %r, want %r" % (got, want))
elif mode == "source":
    s = connect()
    s.sendall(b"source %d\n" % n)
    got = recv_all(s)
    if got != random.Random(7).randbytes(n):
        sys.exit("source: %d bytes, or different" % len(got))
print("%.6f" % (time.monotonic() - start))
PY

# at_least GOT MIN: GOT >= MIN as decimals.
at_least() {
	echo "elapsed $1 s, at least $2 s expected"
	python3 -c "import sys; sys.exit(0 if float('$1') >= float('$2') else 1)"
}

# start_linksim VAR TARGET_PORT: start a proxy, store its port in VAR.
start_linksim() {
	"$LINKSIM" -l 0 -t "127.0.0.1:$2" -r "$RTT" -b "$MBIT" -T 120 \
	    >"$TEST_DIR/$1.port" 2>"$TEST_DIR/$1.log" &
	at_exit "kill $! 2>/dev/null"
	wait_for test -s "$TEST_DIR/$1.port" || bail_out "linksim did not start: $(cat "$TEST_DIR/$1.log")"
	eval "$1=\$(cat \"\$TEST_DIR/\$1.port\")"
}

python3 "$TEST_DIR/server.py" >"$TEST_DIR/server.port" &
at_exit "kill $! 2>/dev/null"
wait_for test -s "$TEST_DIR/server.port" || bail_out "the python test server did not start"
SERVER_PORT=$(cat "$TEST_DIR/server.port")
start_linksim PROXY "$SERVER_PORT"
start_sshd || bail_out "cannot start a private sshd: see $SSHD_LOG"
start_linksim SSH_PROXY "$SSHD_PORT"

test_expect_success 'bytes come back intact through the link (1 MB echo)' '
	python3 "$TEST_DIR/client.py" echo $PROXY 1000000
'

test_expect_success 'twenty connections at once all come back intact' '
	python3 "$TEST_DIR/client.py" many $PROXY 50000 20
'

test_expect_success "a round trip takes at least the RTT ($RTT ms)" '
	t=$(python3 "$TEST_DIR/client.py" rtt $PROXY) &&
	at_least "$t" "$(awk "BEGIN { print $RTT / 1000 - 0.0005 }")"
'

test_expect_success "upload: $NBYTES bytes at $MBIT Mbit/s take at least $MIN_XFER s" '
	t=$(python3 "$TEST_DIR/client.py" sink $PROXY $NBYTES) &&
	at_least "$t" $MIN_XFER
'

test_expect_success "download: $NBYTES bytes at $MBIT Mbit/s take at least $MIN_XFER s" '
	t=$(python3 "$TEST_DIR/client.py" source $PROXY $NBYTES) &&
	at_least "$t" $MIN_XFER
'

test_expect_success 'ssh through the link: a file goes up and comes back intact' '
	echo "[127.0.0.1]:$SSH_PROXY $(cut -d" " -f1-2 "$SSHD_DIR/host_key.pub")" >"$TEST_DIR/kh" &&
	head -c 300000 /dev/urandom >"$TEST_DIR/blob" &&
	ssh -q -p "$SSH_PROXY" -i "$SSH_KEY" -o UserKnownHostsFile="$TEST_DIR/kh" -o BatchMode=yes \
	    root@127.0.0.1 "cat >\"$SERVER/blob\"" <"$TEST_DIR/blob" &&
	cmp "$TEST_DIR/blob" "$SERVER/blob" &&
	ssh -q -p "$SSH_PROXY" -i "$SSH_KEY" -o UserKnownHostsFile="$TEST_DIR/kh" -o BatchMode=yes \
	    root@127.0.0.1 "cat \"$SERVER/blob\"" >"$TEST_DIR/back" &&
	cmp "$TEST_DIR/blob" "$TEST_DIR/back"
'

test_expect_success 'a refused target connection is closed, not hung' '
	dead=$(free_port) || exit 1
	"$LINKSIM" -l 0 -t "127.0.0.1:$dead" -r 10 -b 1 -T 20 >"$TEST_DIR/dead.port" 2>"$TEST_DIR/dead.log" &
	pid=$!
	wait_for test -s "$TEST_DIR/dead.port" &&
	python3 -c "
import socket, sys
try:
    s = socket.create_connection((\"127.0.0.1\", $(cat "$TEST_DIR/dead.port")), timeout=5)
    sys.exit(1 if s.recv(1) else 0)
except ConnectionResetError:
    pass
"
	st=$?
	kill $pid
	test $st -eq 0 && grep -q "cannot connect to the target" "$TEST_DIR/dead.log"
'

test_expect_success 'linksim exits by itself after -T seconds' '
	timeout 10 "$LINKSIM" -l 0 -t 127.0.0.1:9 -r 1 -b 1 -T 1 >/dev/null 2>"$TEST_DIR/T.log" &&
	grep -q "time limit" "$TEST_DIR/T.log"
'

test_expect_success 'bad arguments give usage and exit status 2' '
	"$LINKSIM" -l 0 -t 127.0.0.1:9 -r x -b 1 2>"$TEST_DIR/usage" ;
	test $? -eq 2 && grep -q "usage: linksim" "$TEST_DIR/usage" &&
	{ "$LINKSIM" -l 0 -r 1 -b 1 2>/dev/null; test $? -eq 2; }
'

test_done
