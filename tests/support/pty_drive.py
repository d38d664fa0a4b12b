"""Runs a command on a pseudo-terminal and answers its prompts, as a person would.

usage: pty_drive.py '<json: [[expected text, answer], ...]>' command [args...]
Prints the whole transcript, then a last line `exit=<code>`.
"""
import json
import os
import pty
import select
import sys
import time

script = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

transcript = b""
deadline = time.time() + 60


def read_some(timeout):
    global transcript
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return False
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return None
    if not chunk:
        return None
    transcript += chunk
    return True


seen = 0
for expected, answer in script:
    while expected.encode() not in transcript[seen:]:
        if time.time() > deadline or read_some(0.2) is None:
            sys.stdout.write(transcript.decode(errors="replace"))
            print(f"\nexit=timeout waiting for {expected!r}")
            sys.exit(0)
    seen = transcript.index(expected.encode(), seen) + len(expected)
    # A person answers after reading the prompt; by then a password prompt
    # has switched echo off.
    time.sleep(0.3)
    os.write(fd, answer.encode() + b"\r")

while read_some(0.2) is not None and time.time() < deadline:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(transcript.decode(errors="replace"))
print(f"\nexit={os.waitstatus_to_exitcode(status)}")
