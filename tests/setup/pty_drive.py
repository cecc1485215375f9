#!/usr/bin/python3
"""Runs a command on a pseudo-terminal, as a person at a terminal would, and answers its
prompts: each PATTERN=ANSWER pair waits (up to 30 s) until the output so far holds PATTERN
after the previous answer, then types ANSWER and Enter. Prints what the terminal showed (the
typed answers appear only when the program echoes them) and exits with the command's status
(124 when a prompt never came or the command did not end in time).
Usage: pty_drive.py 'PATTERN=ANSWER'... -- COMMAND [ARG]..."""
import os
import pty
import select
import sys
import time


def main(argv):
    sep = argv.index("--")
    pairs = [a.split("=", 1) for a in argv[:sep]]
    command = argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    seen, start, status = b"", 0, 124

    def read_some(timeout):
        nonlocal seen
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False          # the command ended (EIO)
        if not data:
            return False
        seen += data
        return True

    alive = True
    for pattern, answer in pairs:
        deadline = time.monotonic() + 30
        while alive and pattern.encode() not in seen[start:] and time.monotonic() < deadline:
            alive = read_some(0.2)
        if pattern.encode() not in seen[start:]:
            sys.stdout.write(seen.decode(errors="replace"))
            sys.stdout.write(f"\n[pty_drive: no prompt \"{pattern}\" came]\n")
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return 124
        start = len(seen)
        os.write(fd, answer.encode() + b"\n")
    deadline = time.monotonic() + 60
    while alive and time.monotonic() < deadline:
        alive = read_some(0.2)
    # The terminal closes a moment before the process ends: wait for it (bounded).
    done, wstatus = os.waitpid(pid, os.WNOHANG)
    while done == 0 and time.monotonic() < deadline + 10:
        time.sleep(0.05)
        done, wstatus = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    else:
        status = os.waitstatus_to_exitcode(wstatus)
    sys.stdout.write(seen.decode(errors="replace"))
    return status


sys.exit(main(sys.argv[1:]))
