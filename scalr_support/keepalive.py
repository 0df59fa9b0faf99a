"""Keep one `make run` process alive: restart it when it crashes, stop it on request.

honcho stops the whole stack when any one process exits, so a worker killed by
the OOM killer (or ``kill -9``) used to take the web server down with it. Each
line of the Procfile runs under this wrapper instead::

    python -m scalr_support.keepalive worker -- celery -A scalr_support worker

A crash (any exit other than a clean one or a stop signal) is reported and the
command started again after a second; five crashes within a minute mean it
cannot start at all, so the wrapper gives up and exits, and honcho stops the
stack with that message last on screen. SIGINT and SIGTERM (Ctrl-C, honcho's
shutdown) are passed on to the command and end the wrapper once it has exited.
The outbox and the sweeps make the crashed process's unfinished work happen
once anyway (docs/reliability.md).
"""

import signal
import subprocess
import sys
import time
from types import FrameType

MAX_CRASHES = 5
CRASH_WINDOW = 60.0  # seconds
RESTART_DELAY = 1.0
STOP_TIMEOUT = 20.0


class Supervisor:
    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.command = command
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def say(self, text: str) -> None:
        print(f"keepalive[{self.name}]: {text}", flush=True)

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)
        crashes: list[float] = []
        while True:
            # The Procfile's own command line, never anything from outside.
            self.child = subprocess.Popen(self.command)  # noqa: S603
            code = self.wait(self.child)
            if self.stopping or code in (0, -signal.SIGINT, -signal.SIGTERM):
                return 0 if self.stopping else code
            now = time.monotonic()
            crashes = [t for t in crashes if now - t < CRASH_WINDOW] + [now]
            how = f"signal {-code}" if code < 0 else f"status {code}"
            if len(crashes) >= MAX_CRASHES:
                self.say(
                    f"exited with {how}, {len(crashes)} times within a minute; "
                    "giving up, so `make run` stops. See the lines above for why."
                )
                return 1
            self.say(f"exited with {how}; starting it again in {RESTART_DELAY:.0f} s")
            time.sleep(RESTART_DELAY)
            if self.stopping:
                return 0

    def wait(self, child: "subprocess.Popen[bytes]") -> int:
        while True:
            try:
                return child.wait(timeout=STOP_TIMEOUT if self.stopping else None)
            except subprocess.TimeoutExpired:
                self.say("did not stop in time; killing it")
                child.kill()


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 1 or len(argv) < 3:
        print("usage: python -m scalr_support.keepalive NAME -- COMMAND...")
        return 2
    return Supervisor(argv[0], argv[2:]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
