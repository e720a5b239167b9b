#!/bin/sh
# Replays a generated 1 GiB (uncompressed) full export with the ddblake
# binary and prints MB/s and peak RSS; exits non-zero when the replay
# fails or its peak RSS reaches 512 MiB. Extra flags go to the program
# (see go run ./bench/replay1gib -h), e.g. -export DIR to reuse an export,
# -profile DIR to write heap profiles of an in-process replay.
set -eu
cd "$(dirname "$0")/.."
exec go run ./bench/replay1gib "$@"
