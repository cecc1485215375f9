"""Fault injection: one queued fault (class Fault), its fields and their validation. How a fault
is applied to an answer is in server.Handler._apply_fault and Handler.send."""


class Fault:
    """One injected fault for the next `count` requests to METHOD path (count < 0: until cleared).

    Kinds (combinable, applied in this order): latency_ms delays; reset closes the TCP
    connection without answering; raw sends its text as the whole answer (no status line,
    no headers) and closes; status and/or body replace the normal answer (body alone
    means 200 with that raw body); then body_repeat, truncate_at and trickle_bytes_per_s shape
    whichever answer is sent (the replacement or the normal one). To add a kind: a field here
    plus a branch in Handler._apply_fault (or in Handler.send for a way of sending).
    """

    FIELDS = ("method", "path", "count", "status", "headers", "body", "body_hex", "latency_ms", "reset",
              "trickle_bytes_per_s", "body_repeat", "truncate_at", "raw")
    MAX_REPEAT = 100_000_000

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(spec) - set(self.FIELDS)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        self.method = str(spec.get("method", "*")).upper()
        self.path = spec.get("path")
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ValueError("fault 'path' must be an absolute path (a trailing * matches a prefix)")
        self.count = int(spec.get("count", 1))
        self.status = spec.get("status")
        if self.status is not None and not (isinstance(self.status, int) and 100 <= self.status <= 599):
            raise ValueError("fault 'status' must be an integer HTTP status")
        self.headers = spec.get("headers") or {}
        if not isinstance(self.headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()):
            raise ValueError("fault 'headers' must map strings to strings")
        self.body = spec.get("body")
        if self.body is not None and not isinstance(self.body, str):
            raise ValueError("fault 'body' must be a string (sent as is)")
        # The same, as hex: for bodies that are not UTF-8 (a server sending raw bytes).
        body_hex = self.body_hex = spec.get("body_hex")
        if body_hex is not None:
            if self.body is not None:
                raise ValueError("fault 'body' and 'body_hex' exclude each other")
            try:
                self.body = bytes.fromhex(body_hex)
            except (TypeError, ValueError):
                raise ValueError("fault 'body_hex' must be a string of hex digits") from None
        self.latency_ms = float(spec.get("latency_ms", 0))
        if self.latency_ms < 0:
            raise ValueError("fault 'latency_ms' must be >= 0")
        self.reset = bool(spec.get("reset", False))
        self.raw = spec.get("raw")
        if self.raw is not None and not isinstance(self.raw, str):
            raise ValueError("fault 'raw' must be a string (the whole answer, sent as is)")
        self.trickle_bytes_per_s = self._int(spec, "trickle_bytes_per_s", 1, 1 << 30)
        self.body_repeat = self._int(spec, "body_repeat", 1, self.MAX_REPEAT)
        self.truncate_at = self._int(spec, "truncate_at", 0, 1 << 40)

    @staticmethod
    def _int(spec, name, low, high):
        value = spec.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"fault '{name}' must be an integer in {low}..{high}")
        return value

    @property
    def shapes(self):
        """True when the fault changes how an answer is sent (not only which answer)."""
        return any(v is not None for v in (self.trickle_bytes_per_s, self.body_repeat, self.truncate_at))

    def matches(self, method, path):
        if self.method not in ("*", method):
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def view(self):
        view = {f: getattr(self, f) for f in self.FIELDS}
        if self.body_hex is not None:
            view["body"] = None   # raw bytes: shown as body_hex
        return view
