// Command ddblake turns DynamoDB change data into a Parquet data lake that
// Athena queries, and prints the lake's table definitions.
//
//	ddblake replay  [--config F] [--to DIR|s3://...] [--format auto|lambda|kinesis|jsonl|export|incremental] [--table NAME] SOURCE...
//	ddblake ddl     [--config F] --lake DIR|s3://... [--location s3://...] [--database DB] [--format athena|glue|cloudformation|firehose|alter] [--previous DIR|s3://...] [--include-database] [--role-arn ARN]
//	ddblake infer   [--config F] SOURCE...        proposed column declarations as YAML
//	ddblake flatten [--config F] SOURCE...        flat rows as JSON lines (debugging)
//	ddblake version
//
// Exit codes: 0 all written; 3 done, but some records or inputs were set
// aside; 2 bad usage or configuration; 1 could not finish. See package
// cli for the details.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
	"github.com/ddblake/ddblake/internal/membudget"
)

func main() {
	// The soft memory limit comes from the budget (GOMEMLIMIT, else
	// 448 MiB): the collector works harder before the heap's headroom
	// takes the process past it. The replay's workers follow the same
	// budget (see cli), so its live memory stays well below it.
	membudget.For(os.Getenv, runtime.NumCPU()).Apply(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks the command to stop and say what it finished;
	// a second one ends the process at once.
	context.AfterFunc(ctx, stop)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
