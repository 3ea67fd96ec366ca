"""tally.py: the pass/fail count every Python test part keeps.

Each part prints a FAIL line per failed check and ends with
`PART: N passed, N failed`, which tests/run.sh adds up.
"""


class Tally:
    def __init__(self, part):
        self.part = part
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s: %s %s" % (self.part, name, detail))
        return ok

    def report(self):
        """The closing line; the exit status of the part."""
        print("%s: %d passed, %d failed" % (self.part, self.passed, self.failed))
        return 1 if self.failed else 0
