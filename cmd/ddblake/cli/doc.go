// Package cli is the ddblake command line: replay, ddl, infer, flatten and
// version. It is the one place that reads flags, environment variables and
// files (the --config file, parsed with pipeline.ParseConfig); everything
// else is the library's. main calls Run, and so do the tests, in process.
//
//	ddblake replay  [--config F] [--to DIR|s3://...] [--format auto|lambda|kinesis|jsonl|export|incremental] [--table NAME] SOURCE...
//	ddblake ddl     [--config F] --lake DIR|s3://... [--location s3://...] [--database DB] [--format athena|glue|cloudformation|firehose|alter] [--previous DIR|s3://...] [--include-database] [--role-arn ARN]
//	ddblake infer   [--config F] SOURCE...        proposed column declarations as YAML
//	ddblake flatten [--config F] SOURCE...        flat rows as JSON lines (debugging)
//	ddblake version
//
// Exit codes (see the Exit constants): 0 everything written; 3 done, but
// some records or inputs were set aside or could not be read to the end;
// 2 bad usage or configuration; 1 could not finish.
//
// S3 (s3:// sources and lakes) uses the default AWS configuration chain
// (environment, shared files, instance roles). AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL point it at an S3-compatible server; --s3-path-style (or
// DDBLAKE_S3_PATH_STYLE=true) addresses buckets in the path, as such
// servers often need, and is implied for an endpoint that is an IP address
// or localhost.
//
// Example:
//
//	code := cli.Run(ctx, []string{"replay", "--to", "lake", "exports/"}, os.Stdin, os.Stdout, os.Stderr)
package cli
