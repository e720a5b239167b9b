// Package e2e holds ddblake's end-to-end tests: they build the ddblake
// binary, drive it as a user does (replay, ddl), and read the lake back with
// DuckDB, the way an analyst would query it.
//
// It is a module of its own (github.com/ddblake/ddblake/e2e) because DuckDB
// needs CGO and the main module stays CGO-free. Run it from this directory:
//
//	cd e2e && go test ./...
//
// What the tests expect of the lake is computed from the fixtures' JSON
// with encoding/json (the oracle), never from ddblake's own code or output:
//
//   - TestReplayFormats: each input format (lambda, kinesis, jsonl plain and
//     gzip, export, incremental, and the whole sample auto-detected) gives
//     one row per record, per table and dt partition, with the metadata
//     columns and the registry's column types, every value in its column or
//     in _extra, 38-digit numbers exact.
//   - TestMisfitsKeptInExtra: values that do not fit their column land in
//     _extra as DynamoDB JSON; column types never change.
//   - TestRerunIsIdempotent: replaying the same sources again, in any order,
//     leaves the lake byte-identical; TestFreshReplaysAgree: rebuilding the
//     lake from scratch gives the same files every time.
//   - TestBadInputs, TestInputErrorsListedInErrors: broken inputs and bad
//     records are reported (file and line or record), set aside with their
//     bytes, never stop good records, never write outside the lake.
//   - TestLatestViewOnDuckDB: the latest-state view, as `ddblake ddl` prints
//     it and as schemas.LatestSelect makes it, returns what a scan of the
//     DynamoDB table would after a scripted history (testdata/e2e/history,
//     regenerated with go test -run TestHistoryFixturesUpToDate -update);
//     TestLatestViewOnSample does the same over the sample's lake.
//
// The binary is built once, in TestMain, from the main module with
// CGO_ENABLED=0. This module requires the main module (replace ../), so
// when the main module's dependencies change, run go mod tidy here too.
package e2e
