package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/compact"
)

func (s *session) compactCommand() *cobra.Command {
	var o compactOptions
	cmd := &cobra.Command{
		Use:   "compact [--config F] --lake DIR|s3://... [--table T] [--dt FROM..TO] [--force] [--settle D] [--grace D]",
		Short: "Rewrite the lake's small files into files of the target size",
		Long: `Compact rewrites each partition's small files into files of the table's
target size (target_file_size in the configuration, 128MiB by default),
holding the same rows. Queries never count a row twice or miss one: a
partition's files are what its manifest lists, and each group of files is
replaced by its compacted file in one write of the manifest.

Only closed partitions are compacted: those whose end (the end of their day,
or hour) is --settle ago (26h by default: a DynamoDB stream keeps records a
day, and the Lambda retries until then); --force compacts the others too.
Every run also lists, in their partitions' manifests, the files no manifest
lists yet (files Firehose delivered, or files of a writer stopped between its
write and its listing), open partitions included. Replaced files are deleted
by a later run, --grace after the manifest stopped listing them, so queries
that started before can finish.

A run stopped at any point (even kill -9) leaves every partition as it was or
as compacted; the next run finishes its work. Running it twice changes nothing
the second time.

Exit codes: 0 done; 1 some partitions could not be finished (listed after the
summary line); 2 bad usage or configuration.`,
		Example: `  ddblake compact --lake s3://my-lake/ddb
  ddblake compact --lake ./lake --table chat_messages --dt 2026-04-01..2026-04-30
  ddblake compact --lake ./lake --force --grace 0s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usage("compact: takes no arguments (got %s); name the lake with --lake", strings.Join(args, " "))
			}
			return s.compact(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "configuration file (YAML)")
	f.StringVar(&o.lake, "lake", "", "the lake: a local directory or s3://bucket/prefix (required)")
	f.StringSliceVar(&o.tables, "table", nil, "lake table to compact (repeat or comma-separate; default: every table)")
	f.StringVar(&o.dt, "dt", "", "partitions by day: YYYY-MM-DD, FROM..TO, FROM.. or ..TO")
	f.BoolVar(&o.force, "force", false, "compact partitions that may still receive writes too")
	f.DurationVar(&o.settle, "settle", compact.DefaultSettle, "a partition is closed this long after its end")
	f.DurationVar(&o.grace, "grace", compact.DefaultGrace, "replaced files are deleted this long after they stopped being listed (0s: at once)")
	return cmd
}

type compactOptions struct {
	config, lake, dt string
	tables           []string
	force            bool
	settle, grace    time.Duration
}

func (s *session) compact(ctx context.Context, o compactOptions) error {
	start := time.Now()
	cfg, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	if o.lake == "" {
		return usage("compact: --lake is required: the lake directory or s3://bucket/prefix to compact")
	}
	from, to, err := parseDays(o.dt)
	if err != nil {
		return usage("compact: --dt %q: %v", o.dt, err)
	}
	if o.settle < 0 || o.grace < 0 {
		return usage("compact: --settle and --grace must not be negative")
	}
	store, err := s.openLake(ctx, o.lake, false)
	if err != nil {
		return err
	}
	reg, err := sink.NewRegistry(store).LoadAll(ctx)
	if err != nil {
		return exit(ExitFailed, fmt.Errorf("compact: lake %s: %w", o.lake, err))
	}
	tables, err := pickTables(reg, o.tables, "compact", o.lake)
	if err != nil {
		return err
	}
	grace := o.grace
	if grace == 0 {
		grace = -1 // compact.Options: negative deletes at once
	}
	sum, err := compact.Run(ctx, store, compact.Options{
		Tables: tables, From: from, To: to, Force: o.force, Settle: o.settle, Grace: grace,
		Parquet: func(table string) sink.ParquetOptions {
			t, _ := reg.Get(table)
			return tableRules(cfg, t).Parquet()
		},
	})
	if err != nil {
		return exit(ExitFailed, fmt.Errorf("compact: %w", err))
	}
	fmt.Fprintln(s.stderr, compactLine(sum, time.Since(start)))
	if len(sum.Errors) > 0 {
		lines := make([]string, len(sum.Errors))
		for i, e := range sum.Errors {
			lines[i] = "error: " + e.Error()
		}
		listErrors(s.stderr, lines, 0)
		return exit(ExitFailed, nil)
	}
	if err := ctx.Err(); err != nil {
		return exit(ExitFailed, fmt.Errorf("interrupted: %w", context.Cause(ctx)))
	}
	return nil
}

// compactLine is the one line that ends a compaction.
func compactLine(sum compact.Summary, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "compacted %s: %s looked at", plural(sum.Tables, "table"), plural(sum.Partitions, "partition"))
	if sum.Open > 0 {
		fmt.Fprintf(&b, " (%s open)", group(sum.Open))
	}
	fmt.Fprintf(&b, ", %s compacted", group(sum.Compacted))
	if sum.Compacted > 0 {
		fmt.Fprintf(&b, ": %s → %s, %s → %s", plural(sum.FilesBefore, "file"), plural(sum.FilesAfter, "file"),
			iecBytes(sum.BytesBefore), iecBytes(sum.BytesAfter))
	}
	fmt.Fprintf(&b, "; %s written, %s listed, %s deleted", plural(sum.Outputs, "file"), plural(sum.Listed, "file"), plural(sum.Deleted, "replaced file"))
	if len(sum.Errors) > 0 {
		fmt.Fprintf(&b, "; %s not finished", plural(len(sum.Errors), "partition"))
	}
	fmt.Fprintf(&b, "; %s", seconds(elapsed))
	return b.String()
}

// parseDays reads --dt: "", "YYYY-MM-DD", "FROM..TO", "FROM.." or "..TO".
func parseDays(s string) (from, to string, err error) {
	if s == "" {
		return "", "", nil
	}
	from, to, ranged := strings.Cut(s, "..")
	if !ranged {
		to = from
	}
	for _, d := range []string{from, to} {
		if d == "" {
			continue
		}
		if err := (sink.Partition{Day: d}).Validate(); err != nil {
			return "", "", fmt.Errorf("want YYYY-MM-DD, FROM..TO, FROM.. or ..TO")
		}
	}
	if from == "" && to == "" {
		return "", "", fmt.Errorf("want YYYY-MM-DD, FROM..TO, FROM.. or ..TO")
	}
	if from != "" && to != "" && from > to {
		return "", "", fmt.Errorf("%s is after %s", from, to)
	}
	return from, to, nil
}

// pickTables checks the --table names against the registry; none means
// every table.
func pickTables(reg *schemas.Registry, names []string, command, lake string) ([]string, error) {
	if len(reg.Tables()) == 0 {
		return nil, exit(ExitFailed, fmt.Errorf("%s: lake %s: %w (no %s*.json; replay into it first)", command, lake, ErrNoTables, sink.SchemasPrefix))
	}
	if len(names) == 0 {
		return reg.Tables(), nil
	}
	for _, n := range names {
		if _, ok := reg.Get(n); !ok {
			return nil, usage("%s: --table %q: no such table in %s (tables: %s)", command, n, lake, strings.Join(reg.Tables(), ", "))
		}
	}
	return names, nil
}

// tableRules returns the configuration's rules of a lake table, found by
// the origin its registry entry records (a DynamoDB table, renamed or
// not, or a route's logical table).
func tableRules(cfg *pipeline.Config, s *schemas.Schema) pipeline.TableConfig {
	name := ""
	if s != nil {
		name = s.Table
		if s.Origin != nil {
			name = s.Origin.DynamoDBTable
			if s.Origin.Route != "" {
				name = s.Origin.Route
			}
		}
	}
	return cfg.Table(name)
}
