"""tally.py: the pass/fail count every Python test part keeps.

Each part prints a FAIL line per failed check and ends with
`PART: N passed, N failed` (and `, K skipped` when some of it could not
run: the data beside the repository is absent), which tests/run.sh adds
up.
"""


class Tally:
    def __init__(self, part):
        self.part = part
        self.passed = self.failed = self.skipped = 0

    def skip(self):
        """A piece that could not run here (and said why)."""
        self.skipped += 1

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s: %s %s" % (self.part, name, detail))
        return ok

    def report(self):
        """The closing line; the exit status of the part."""
        print("%s: %d passed, %d failed%s" % (self.part, self.passed, self.failed,
                                             ", %d skipped" % self.skipped if self.skipped else ""))
        return 1 if self.failed else 0
