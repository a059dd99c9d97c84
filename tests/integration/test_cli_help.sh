#!/bin/sh
# --help works on the program and on every command, prints the usage on standard output and
# exits 0; the program's help lists every command and the exit codes.
. "$(dirname "$0")/cli_common.sh"

expect 0 "" "$cellota" --help
check "the help lists the exit codes" grep -q 'exit codes' "$scratch/out"
commands=$(sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p' "$scratch/out")
check "the help lists commands" [ -n "$commands" ]
for command in keygen pack verify inspect cost; do
    check "the help lists $command" sh -c "printf '%s\n' \"$commands\" | grep -qx $command"
done
expect 0 "" "$cellota" -h
expect 0 "" "$cellota" help

for command in $commands; do
    expect 0 "" "$cellota" "$command" --help
    check "$command --help prints its usage" grep -q "^usage: cellota $command" "$scratch/out"
    check "$command --help lists --help" grep -q -- '--help' "$scratch/out"
    check "$command --help says nothing on standard error" [ ! -s "$scratch/err" ]
    expect 0 "" "$cellota" "$command" -h
    expect 0 "" "$cellota" help "$command"
    check "help $command is $command --help" grep -q "^usage: cellota $command" "$scratch/out"
    # --help wins over anything else on the line, even what would be an error.
    expect 0 "" "$cellota" "$command" --no-such-option --help
done
expect 2 "unknown command" "$cellota" help frobnicate

finish
