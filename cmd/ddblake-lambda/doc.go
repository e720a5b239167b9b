// Command ddblake-lambda is the AWS Lambda function (provided.al2023,
// arm64, built as "bootstrap" with CGO off and -tags lambda.norpc) that a
// DynamoDB stream, or a Kinesis data stream fed by DynamoDB, triggers. It
// turns each batch of change records into rows of the lake: Parquet files
// written straight to S3 (DDBLAKE_SINK=s3, the default) or flat JSON rows
// sent to Firehose (DDBLAKE_SINK=firehose), which converts them.
//
// Environment:
//
//	DDBLAKE_LAKE             s3://bucket/prefix (required)
//	DDBLAKE_SINK             s3 (default) | firehose
//	DDBLAKE_FIREHOSE_STREAM  delivery stream name, or a template: ddblake-{table}
//	DDBLAKE_CONFIG           YAML config: a path in the package, or s3://bucket/key
//	DDBLAKE_S3_PATH_STYLE    true to address an S3-compatible server path-style
//	DDBLAKE_DEADLINE_MARGIN  stop this long before the deadline (default: 10% of
//	                         the time left, within 1s-5s)
//	AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_FIREHOSE, AWS_REGION, credentials:
//	                         read by the AWS SDK
//
// Everything is built once at start (SDK clients, configuration, the
// Processor and its schema cache) and reused by every invocation. An
// invocation decodes the raw payload without reflection, names the batch
// from the stream ARN, the shard (Kinesis) and its first and last
// sequence numbers (so a retried batch overwrites its own objects), and
// processes it with a deadline short of the function's. It answers for
// ReportBatchItemFailures:
//
//	{"batchItemFailures":[]}                                   all delivered
//	{"batchItemFailures":[{"itemIdentifier":"4958...0001"}]}   redeliver from that record
//
// Records that cannot be read, or that no sink accepts, go to the lake's
// quarantine (_errors/) and are not failures, so one bad record never
// blocks a shard. When the first record not delivered has no readable
// sequence number, the nearest earlier one is named (redelivery is safe,
// skipping is not); when there is none, the invocation fails and Lambda
// retries the whole batch.
//
// The same function serves the backfill state machine (deploy/backfill.yaml,
// see backfill.go): a Distributed Map batch {"Items":[<manifest-files.json
// lines>],"BatchInput":{"export":"s3://.../AWSDynamoDB/<id>/"}} has its data
// files read and written as `ddblake replay` reads and writes them, and
// fails whole (error type BatchIncomplete, retried by the state machine)
// when it cannot finish before its deadline; {"plan":...} and
// {"finish":...} locate an export's file list and check that its counts
// add up. Each answers with a small JSON result.
//
// Each invocation writes two lines to stdout: a slog JSON summary (msg
// "batch": records, rows, set_aside, misfits, files, bytes, tables,
// failed_from, iterator_age_ms, duration_ms, request_id, ...) and a
// CloudWatch Embedded Metric Format line (namespace ddblake, dimension
// FunctionName: Records, Rows, SetAside, Bytes, FailedRecords,
// IteratorAgeMs, DurationMs).
//
// Build (from the repository root):
//
//	make lambda   # dist/lambda/bootstrap and dist/lambda/ddblake-lambda.zip
package main
