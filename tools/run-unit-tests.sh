#!/bin/sh
# Runs each cmocka test program given as an argument and sums their results
# into one line: "ukernel-unit: N passed, N failed".  A program that crashes
# or prints no cmocka summary counts as one failure.
passed=0; failed=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -E '^\[ *(OK|FAILED|ERROR) *\]|^\[ *RUN' | grep -v RUN
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
    if [ -z "$p" ]; then
        printf '%s\n' "$out" | tail -20
        echo "$(basename "$t"): no summary (exit $rc)"; failed=$((failed + 1)); continue
    fi
    passed=$((passed + p)); failed=$((failed + ${f:-0}))
    [ "$rc" -ne 0 ] && [ -z "$f" ] && failed=$((failed + 1))
done
echo "ukernel-unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
