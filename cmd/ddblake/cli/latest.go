package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/latest"
)

func (s *session) latestCommand() *cobra.Command {
	var o latestOptions
	cmd := &cobra.Command{
		Use:   "latest [--config F] --lake DIR|s3://... [--table T] [--through YYYY-MM-DD] [--settle D] [--force] [--rebuild]",
		Short: "Materialize each table's current state, for a cheaper <table>_latest view",
		Long: `Latest writes each table's current state (one row per item: its newest change
by _event_time then _sequence_number, REMOVEs and TTL deletes left out) over
the partitions up to a closed day, as Parquet in the lake
(_ddblake/latest/<table>/), and switches the table's pointer to it
(_ddblake/latest/<table>.json) with one write. The <table>_latest view then
reads that state and only the days after it, instead of the whole history:
run 'ddblake ddl' and re-create the view after each run (the view names the
state it reads, so it stays right until then; the state before is kept).

Each run starts from the previous state and reads only the days after it and
the days whose files changed since (late arrivals, compaction); --rebuild
starts from the partitions alone. --through is the last day to cover (default:
the last closed day, one whose end is --settle ago, 26h by default; --force
allows a later one). A run stopped at any point leaves the previous state in
place; running it again with nothing new changes nothing.

Tables whose key attributes the registry does not know (a lake built from
table exports alone) have no latest view and are left out.

Exit codes: 0 done; 1 some tables could not be done (listed after the summary
line); 2 bad usage or configuration.`,
		Example: `  ddblake latest --lake s3://my-lake/ddb && ddblake ddl --lake s3://my-lake/ddb > lake.sql
  ddblake latest --lake ./lake --table chat_messages --through 2026-04-30`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usage("latest: takes no arguments (got %s); name the lake with --lake", strings.Join(args, " "))
			}
			return s.latest(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "configuration file (YAML)")
	f.StringVar(&o.lake, "lake", "", "the lake: a local directory or s3://bucket/prefix (required)")
	f.StringSliceVar(&o.tables, "table", nil, "lake table (repeat or comma-separate; default: every table with keys)")
	f.StringVar(&o.through, "through", "", "last day to cover, YYYY-MM-DD (default: the last closed day)")
	f.DurationVar(&o.settle, "settle", latest.DefaultSettle, "a day is closed this long after its end")
	f.BoolVar(&o.force, "force", false, "allow a --through day that may still receive writes")
	f.BoolVar(&o.rebuild, "rebuild", false, "build from the partitions alone, not from the previous state")
	return cmd
}

type latestOptions struct {
	config, lake, through string
	tables                []string
	settle                time.Duration
	force, rebuild        bool
}

func (s *session) latest(ctx context.Context, o latestOptions) error {
	start := time.Now()
	cfg, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	if o.lake == "" {
		return usage("latest: --lake is required: the lake directory or s3://bucket/prefix")
	}
	if o.through != "" {
		if err := (sink.Partition{Day: o.through}).Validate(); err != nil {
			return usage("latest: --through %q: want YYYY-MM-DD", o.through)
		}
	}
	if o.settle < 0 {
		return usage("latest: --settle must not be negative")
	}
	if closed := latest.LastClosed(time.Now(), o.settle); o.through > closed && !o.force {
		return usage("latest: --through %s may still receive writes (the last closed day is %s); --force to build it anyway", o.through, closed)
	}
	store, err := s.openLake(ctx, o.lake, false)
	if err != nil {
		return err
	}
	reg, err := sink.NewRegistry(store).LoadAll(ctx)
	if err != nil {
		return exit(ExitFailed, fmt.Errorf("latest: lake %s: %w", o.lake, err))
	}
	tables, err := pickTables(reg, o.tables, "latest", o.lake)
	if err != nil {
		return err
	}
	var parts, problems []string
	for _, table := range tables {
		t, _ := reg.Get(table)
		res, err := latest.Build(ctx, store, t, latest.Options{
			Through: o.through, Settle: o.settle, Force: o.force, Rebuild: o.rebuild,
			Parquet: tableRules(cfg, t).Parquet(),
		})
		switch {
		case errors.Is(err, schemas.ErrNoKeys):
			parts = append(parts, table+" has no keys")
		case err != nil:
			problems = append(problems, fmt.Sprintf("error: %s: %v", table, err))
		case res.State == nil:
			parts = append(parts, table+" has nothing")
		case !res.Changed:
			parts = append(parts, fmt.Sprintf("%s unchanged through %s", table, res.State.Through))
		default:
			how := "from the previous state and " + plural(res.Partitions, "partition")
			if res.Full {
				how = "from " + plural(res.Partitions, "partition")
			}
			parts = append(parts, fmt.Sprintf("%s through %s: %s (%s, %s) %s, %s read",
				table, res.State.Through, plural(int(res.State.Items), "item"), res.State.Generation,
				plural(int(res.State.Tombstones), "tombstone"), how, iecBytes(res.Bytes)))
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintf(s.stderr, "latest: %s: %s; %s\n", plural(len(tables), "table"), strings.Join(parts, "; "), seconds(time.Since(start)))
	if len(problems) > 0 {
		listErrors(s.stderr, problems, 0)
		return exit(ExitFailed, nil)
	}
	if err := ctx.Err(); err != nil {
		return exit(ExitFailed, fmt.Errorf("interrupted: %w", context.Cause(ctx)))
	}
	return nil
}

// latestStates reads the pointers of the tables' materialized states, for
// the DDL.
func latestStates(ctx context.Context, store sink.Store, tables []*schemas.Schema) (map[string]schemas.LatestState, error) {
	out := map[string]schemas.LatestState{}
	for _, t := range tables {
		st, _, err := latest.Load(ctx, store, t.Table)
		if err != nil {
			return nil, err
		}
		if st != nil {
			out[t.Table] = schemas.LatestState{Generation: st.Generation, Through: st.Through}
		}
	}
	return out, nil
}
