#!/usr/bin/env python3
"""A small AT client for the cellota-modem integration tests.

It opens the emulator's pty as a device would open a modem's serial port, brings the modem up,
and fetches a file from an HTTP(S) server with the model's own socket commands (or the SIM7600's
HTTP client), then checks its SHA-256. With --parity-check it instead verifies that bytes the
corrupt fault damaged arrive marked the way Linux termios PARMRK marks parity errors.

Exit status 0 when the fetch is byte-exact (or the expected failure happened), 1 otherwise.
"""
import argparse
import hashlib
import os
import re
import select
import sys
import termios
import time
import tty


class Modem:
    def __init__(self, path, parmrk=False):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd, termios.TCSANOW)  # TCSAFLUSH would throw away an early RDY
        if parmrk:
            attributes = termios.tcgetattr(self.fd)
            attributes[0] |= termios.INPCK | termios.PARMRK
            attributes[0] &= ~(termios.IGNPAR | termios.ISTRIP)
            termios.tcsetattr(self.fd, termios.TCSANOW, attributes)
        self.buffer = bytearray()

    def fill(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            self.buffer += os.read(self.fd, 65536)

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        while data:
            written = os.write(self.fd, data)
            data = data[written:]

    def wait_for(self, *needles, timeout=10.0):
        """Consumes the buffer through the first needle found; returns (index, text before)."""
        end = time.time() + timeout
        while True:
            best = None
            for index, needle in enumerate(needles):
                position = self.buffer.find(needle)
                if position >= 0 and (best is None or position < best[1]):
                    best = (index, position, needle)
            if best:
                before = bytes(self.buffer[: best[1]])
                del self.buffer[: best[1] + len(best[2])]
                return best[0], before
            if time.time() > end:
                raise TimeoutError("waited for %r; have %r" % (needles, bytes(self.buffer[-300:])))
            self.fill(0.05)

    def read_exact(self, count, timeout=10.0):
        end = time.time() + timeout
        while len(self.buffer) < count:
            if time.time() > end:
                raise TimeoutError("wanted %d bytes, have %d" % (count, len(self.buffer)))
            self.fill(0.05)
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def drain(self, quiet=0.1):
        """Reads and forgets until the line has been quiet for `quiet` seconds."""
        while select.select([self.fd], [], [], quiet)[0]:
            os.read(self.fd, 65536)
        self.buffer.clear()

    def command(self, line, *expect, timeout=10.0):
        self.buffer.clear()
        self.write(line + "\r")
        return self.wait_for(*(expect or (b"OK\r\n",)), timeout=timeout)

    def skip_notices(self, prefixes):
        """Drops URC lines (a quirk puts them between a read header and its data)."""
        while True:
            self.fill(0.02)
            if any(self.buffer.startswith(b"\r\n" + prefix) for prefix in prefixes):
                del self.buffer[:2]
                self.wait_for(b"\r\n")
                continue
            return

    def ready(self):
        try:
            self.wait_for(b"RDY", timeout=10)
        except TimeoutError:
            pass  # it booted before we listened: it answers AT all the same
        time.sleep(0.2)
        self.command("ATE0")
        end = time.time() + 60
        while time.time() < end:
            _, text = self.command("AT+CGREG?")
            if b"+CGREG: 0,1" in text or b"+CGREG: 0,5" in text:
                return
            time.sleep(0.3)
        raise TimeoutError("no registration")


def request(path, host):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode()


def read_number(modem, header, endings=(b"\r\n",)):
    modem.wait_for(header, timeout=10)
    _, number = modem.wait_for(*endings, timeout=5)
    return int(number.split(b",")[0])


class Response:
    """Collects an HTTP response and says when the body is complete."""

    STALL_LIMIT = 20.0  # seconds without a byte: the rest is not coming

    def __init__(self):
        self.data = bytearray()
        self.length = None
        self.head_end = None
        self.last_data = time.time()

    def add(self, chunk):
        if chunk:
            self.last_data = time.time()
        self.data += chunk
        if self.head_end is None:
            end = self.data.find(b"\r\n\r\n")
            if end >= 0:
                self.head_end = end + 4
                match = re.search(rb"Content-Length: *(\d+)", bytes(self.data[:end]), re.I)
                self.length = int(match.group(1)) if match else None

    def done(self):
        return self.length is not None and len(self.data) - self.head_end >= self.length

    def check_stalled(self):
        """Fails a read loop that only ever hears "no data": once bytes went missing (a lost
        header line, a cut connection) the body never completes, and polling on would hang."""
        if time.time() - self.last_data > self.STALL_LIMIT:
            raise TimeoutError("no data for %.0f s with %d response bytes (body length %s)"
                               % (self.STALL_LIMIT, len(self.data), self.length))

    def body(self):
        return bytes(self.data[self.head_end : self.head_end + self.length])


def fetch_socket(modem, model, tls, host, port, path):
    """Opens a socket with the model's commands, sends a GET and reads the response."""
    response = Response()
    get = request(path, host)
    if model == "sim7600" and not tls:
        modem.command("AT+CIPRXGET=1")
        modem.command("AT+NETOPEN", b"+NETOPEN: 0")
        modem.command('AT+CIPOPEN=0,"TCP","%s",%d' % (host, port), b"+CIPOPEN: 0,0", timeout=20)
        modem.command("AT+CIPSEND=0,%d" % len(get), b">")
        modem.write(get)
        modem.wait_for(b"+CIPSEND: 0,")
        while not response.done():
            modem.buffer.clear()
            modem.write("AT+CIPRXGET=2,0,1500\r")
            which, _ = modem.wait_for(b"+CIPRXGET: 2,0,", b"+IP ERROR: No data")
            if which == 1:
                response.check_stalled()
                time.sleep(0.02)
                continue
            _, line = modem.wait_for(b"\r\n")
            count = int(line.split(b",")[0])
            modem.skip_notices([b"+CIPRXGET: 1"])
            response.add(modem.read_exact(count))
            modem.wait_for(b"OK\r\n")
    elif model == "sim7600":
        modem.command("AT+CCHSET=0,1")
        modem.command("AT+CCHSTART", b"+CCHSTART: 0")
        modem.command('AT+CCHOPEN=0,"%s",%d,2' % (host, port), b"+CCHOPEN: 0,0", timeout=20)
        modem.command("AT+CCHSEND=0,%d" % len(get), b">")
        modem.write(get)
        modem.wait_for(b"OK\r\n")
        while not response.done():
            modem.buffer.clear()
            modem.write("AT+CCHRECV=0,1500\r")
            which, _ = modem.wait_for(b"+CCHRECV: DATA,0,", b"+CCHRECV: 0,0")
            if which == 1:
                response.check_stalled()
                time.sleep(0.02)
                continue
            _, line = modem.wait_for(b"\r\n")
            response.add(modem.read_exact(int(line)))
            modem.wait_for(b"+CCHRECV: 0,0")
    elif model in ("sim800", "sim7000"):
        if tls:
            modem.command("AT+CIPSSL=1")
            modem.command('AT+CIPSTART="TCP","%s","%d"' % (host, port))
            which, _ = modem.wait_for(b"CONNECT OK", b"CONNECT FAIL", timeout=20)
            return None if which == 1 else b""
        modem.command('AT+CIPMUX=1;+CIPRXGET=1;+CSTT="internet"')
        modem.command("AT+CIICR", timeout=20)
        modem.command("AT+CIFSR", b"\r\n", timeout=5)
        modem.wait_for(b"\r\n")
        modem.command('AT+CIPSTART=0,"TCP","%s","%d"' % (host, port), b"0, CONNECT OK", timeout=20)
        modem.command("AT+CIPSEND=0,%d" % len(get), b"> ")
        modem.write(get)
        modem.wait_for(b"0, SEND OK", timeout=10)
        while not response.done():
            modem.buffer.clear()
            modem.write("AT+CIPRXGET=2,0,1460\r")
            modem.wait_for(b"+CIPRXGET: 2,0,")
            _, line = modem.wait_for(b"\r\n")
            count = int(line.split(b",")[0])
            if count == 0:
                modem.wait_for(b"OK\r\n")
                response.check_stalled()
                time.sleep(0.02)
                continue
            modem.skip_notices([b"+CIPRXGET: 1"])
            response.add(modem.read_exact(count))
            modem.wait_for(b"OK\r\n")
    else:  # sim7070
        if tls:
            modem.command('AT+CSSLCFG="sslversion",0,3')
            modem.command('AT+CASSLCFG=0,"SSL",1')
        modem.command("AT+CNACT=0,1", b"+APP PDP: 0,ACTIVE")
        modem.command('AT+CAOPEN=0,0,"TCP","%s",%d' % (host, port), b"+CAOPEN: 0,0", timeout=20)
        modem.command("AT+CASEND=0,%d" % len(get), b"> ")
        modem.write(get)
        modem.wait_for(b"OK\r\n")
        while not response.done():
            modem.buffer.clear()
            modem.write("AT+CARECV=0,1460\r")
            modem.wait_for(b"+CARECV: ")
            which, number = modem.wait_for(b",", b"\r\n")
            if which == 1:
                modem.wait_for(b"OK\r\n")
                response.check_stalled()
                time.sleep(0.02)
                continue
            response.add(modem.read_exact(int(number)))
            modem.wait_for(b"OK\r\n")
    return response.body()


def fetch_http(modem, url):
    """The SIM7600's HTTP client: the body by HTTPREAD, and again through its file system."""
    modem.command("AT+HTTPINIT")
    modem.command('AT+HTTPPARA="URL","%s"' % url)
    modem.command("AT+HTTPACTION=0", b"OK\r\n")
    _, line = modem.wait_for(b"+HTTPACTION: 0,", timeout=60)
    _, line = modem.wait_for(b"\r\n")
    status, length = [int(part) for part in line.split(b",")]
    if status != 200:
        raise RuntimeError("HTTP status %d" % status)
    body = bytearray()
    while len(body) < length:
        before = len(body)
        modem.command("AT+HTTPREAD=%d,4096" % len(body), b"OK\r\n")
        while True:
            which, _ = modem.wait_for(b"+HTTPREAD: DATA,", b"+HTTPREAD: 0\r\n")
            if which == 1:
                break
            _, count = modem.wait_for(b"\r\n")
            body += modem.read_exact(int(count))
        if len(body) == before:  # asking again would loop forever
            raise RuntimeError("HTTPREAD at %d of %d gave no data" % (before, length))
    modem.command('AT+HTTPREADFILE="image.bin"', b"+HTTPREADFILE: 0")
    staged = bytearray()
    while len(staged) < length:
        before = len(staged)
        modem.command('AT+CFTRANTX="c:/image.bin",%d,8192' % len(staged), b"+CFTRANTX: DATA,")
        while True:
            _, count = modem.wait_for(b"\r\n")
            staged += modem.read_exact(int(count))
            which, _ = modem.wait_for(b"+CFTRANTX: DATA,", b"+CFTRANTX: 0")
            if which == 1:
                break
        modem.wait_for(b"OK\r\n")
        if len(staged) == before:
            raise RuntimeError("CFTRANTX at %d of %d gave no data" % (before, length))
    if bytes(staged) != bytes(body):
        raise RuntimeError("the file system copy differs from HTTPREAD")
    modem.command("AT+HTTPTERM")
    return bytes(body)


def decode_parmrk(raw):
    """Termios PARMRK stream -> (bytes, set of flagged positions)."""
    out, flagged, index = bytearray(), set(), 0
    while index < len(raw):
        if raw[index] == 0xFF and index + 1 < len(raw):
            if raw[index + 1] == 0xFF:
                out.append(0xFF)
                index += 2
                continue
            if raw[index + 1] == 0x00 and index + 2 < len(raw):
                flagged.add(len(out))
                out.append(raw[index + 2])
                index += 3
                continue
        out.append(raw[index])
        index += 1
    return bytes(out), flagged


def parity_check(modem, rounds):
    """With parity on and the corrupt fault, every damaged byte must arrive marked."""
    expected = b"\r\nSIM800 R14.18\r\n\r\nOK\r\n"
    time.sleep(3.5)  # booted by then; the boot lines themselves may carry damaged bytes
    modem.write("ATE0\r")
    time.sleep(0.3)
    marked = 0
    for _ in range(rounds):
        modem.drain()
        modem.write("ATI\r")
        end = time.time() + 1.0
        while time.time() < end:
            modem.fill(0.02)
            text, flagged = decode_parmrk(bytes(modem.buffer))
            if len(text) >= len(expected):
                break
        time.sleep(0.03)
        modem.fill(0.01)
        text, flagged = decode_parmrk(bytes(modem.buffer))
        if len(text) != len(expected):
            raise RuntimeError("a reply of the wrong length: %r" % bytes(modem.buffer))
        for position, byte in enumerate(text):
            if position not in flagged and byte != expected[position]:
                raise RuntimeError("an unmarked byte differs: %r" % bytes(modem.buffer))
        marked += len(flagged)
    if marked == 0:
        raise RuntimeError("the corrupt fault marked nothing in %d replies" % rounds)
    print("parity: %d replies, %d bytes marked as parity errors" % (rounds, marked))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pty", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--path", default="/file.bin")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--http", help="fetch this URL with the SIM7600 HTTP client")
    parser.add_argument("--sha256")
    parser.add_argument("--expect-fail", action="store_true", help="the connection must fail")
    parser.add_argument("--parity-check", type=int, metavar="ROUNDS")
    options = parser.parse_args()

    modem = Modem(options.pty, parmrk=options.parity_check is not None)
    if options.parity_check:
        parity_check(modem, options.parity_check)
        return 0
    modem.ready()
    started = time.time()
    if options.http:
        body = fetch_http(modem, options.http)
    else:
        body = fetch_socket(modem, options.model, options.tls, options.host, options.port,
                            options.path)
    if options.expect_fail:
        if body is None:
            print("%s: the connection failed as expected" % options.model)
            return 0
        print("%s: the connection should have failed" % options.model)
        return 1
    digest = hashlib.sha256(body).hexdigest()
    print("%s%s: %d bytes in %.1f s, sha256 %s" % (options.model, " tls" if options.tls else "",
                                                  len(body), time.time() - started,
                                                  "matches" if digest == options.sha256 else "DIFFERS"))
    return 0 if digest == options.sha256 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # one line for the test log
        print("modem_client: %s" % error)
        sys.exit(1)
