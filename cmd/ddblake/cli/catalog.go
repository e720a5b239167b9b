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
	"github.com/ddblake/ddblake/sink/catalog"
	"github.com/ddblake/ddblake/sink/catalog/glueapi"
)

func (s *session) catalogCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "catalog",
		Short: "Keep the Glue Data Catalog in step with the lake's registry",
	}
	var o catalogOptions
	sync := &cobra.Command{
		Use:   "sync [--config F] --lake DIR|s3://... [--location s3://...] --database DB [--table T] [--no-views]",
		Short: "Create or update the lake's Glue tables and <table>_latest views",
		Long: `Sync reads the schema registry of the lake (<lake>/_ddblake/schemas/) and
brings the Glue database's definitions up to it, table by table:

  - the table: created when missing; else given the columns it lacks, at the
    end, with UpdateTable carrying the VersionId read (a concurrent change
    makes it read and merge again). Types are never changed (a column whose
    stored type differs is reported and kept) and no column is removed;
  - the state table <table>__state, when 'ddblake latest' built one;
  - the view <table>_latest (tables with keys), stored as Athena stores a
    view, over the materialized state when there is one.

Nothing is written when nothing changed. The database must exist. The Lambda
and replay do the same by themselves when they add columns, where a database
is configured (DDBLAKE_GLUE_DATABASE, replay --database).

--location is the S3 location Athena and Glue read the lake from: required
when --lake is a local directory, --lake itself by default. Glue is reached
through the default AWS configuration (AWS_ENDPOINT_URL_GLUE overrides the
endpoint).

Exit codes: 0 done; 1 some tables could not be synced (listed after the
summary line); 2 bad usage or configuration.`,
		Example: `  ddblake catalog sync --lake s3://my-lake/ddb --database chat
  ddblake catalog sync --lake ./lake --location s3://my-lake/ddb --database chat --table chat_messages`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usage("catalog sync: takes no arguments (got %s); name the lake with --lake", strings.Join(args, " "))
			}
			return s.catalogSync(cmd.Context(), o)
		},
	}
	f := sync.Flags()
	f.StringVar(&o.config, "config", "", "configuration file (YAML)")
	f.StringVar(&o.lake, "lake", "", "the lake: a local directory or s3://bucket/prefix (required)")
	f.StringVar(&o.location, "location", "", "S3 location of the lake for Athena and Glue (default: --lake when it is s3://)")
	f.StringVar(&o.database, "database", "", "Glue database (required; it must exist)")
	f.StringSliceVar(&o.tables, "table", nil, "lake table (repeat or comma-separate; default: every table)")
	f.BoolVar(&o.noViews, "no-views", false, "leave the <table>_latest views alone")
	root.AddCommand(sync)
	return root
}

type catalogOptions struct {
	config, lake, location, database string
	tables                           []string
	noViews                          bool
}

func (s *session) catalogSync(ctx context.Context, o catalogOptions) error {
	start := time.Now()
	cfg, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	if o.lake == "" {
		return usage("catalog sync: --lake is required: the lake directory or s3://bucket/prefix")
	}
	if o.database == "" {
		return usage("catalog sync: --database is required: the Glue database to write the tables in")
	}
	if o.location == "" {
		if !isS3(o.lake) {
			return usage("catalog sync: --location s3://bucket/prefix is required when --lake is a local directory: it is where Athena reads the lake")
		}
		o.location = o.lake
	}
	client, err := s.glueClientFor(ctx)
	if err != nil {
		return err
	}
	c, err := catalog.New(client, catalog.Config{Database: o.database, Location: strings.TrimSuffix(o.location, "/"),
		Compression: compression(cfg), NoViews: o.noViews})
	if err != nil {
		return usage("catalog sync: %v", err)
	}
	store, err := s.openLake(ctx, o.lake, false)
	if err != nil {
		return err
	}
	reg, err := sink.NewRegistry(store).LoadAll(ctx)
	if err != nil {
		return exit(ExitFailed, fmt.Errorf("catalog sync: lake %s: %w", o.lake, err))
	}
	names, err := pickTables(reg, o.tables, "catalog sync", o.lake)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return exit(ExitFailed, fmt.Errorf("catalog sync: lake %s: %w (no %s*.json; replay into it first)", o.lake, ErrNoTables, sink.SchemasPrefix))
	}
	var tables []*schemas.Schema
	for _, n := range names {
		t, _ := reg.Get(n)
		tables = append(tables, t)
	}
	states, err := latestStates(ctx, store, tables)
	if err != nil {
		return exit(ExitFailed, fmt.Errorf("catalog sync: lake %s: %w", o.lake, err))
	}
	var parts, problems []string
	changed := 0
	for _, t := range tables {
		var st *schemas.LatestState
		if v, ok := states[t.Table]; ok {
			st = &v
		}
		res, err := c.Sync(ctx, t, st)
		for _, ch := range res.Changes {
			switch ch.Action {
			case catalog.Created:
				parts = append(parts, fmt.Sprintf("%s created (%s)", ch.Name, plural(len(ch.Added), "column")))
				changed++
			case catalog.Updated:
				parts = append(parts, fmt.Sprintf("%s updated (%s)", ch.Name, addedText(ch)))
				changed++
			}
			for _, k := range ch.Kept {
				problems = append(problems, fmt.Sprintf("note: %s: column %s kept: types never change", ch.Name, k))
			}
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("error: %s: %v", t.Table, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if changed == 0 {
		parts = append(parts, "nothing changed")
	}
	fmt.Fprintf(s.stderr, "catalog sync: %s in %s: %s; %s\n", plural(len(tables), "table"), o.database, strings.Join(parts, "; "), seconds(time.Since(start)))
	failed := false
	for _, p := range problems {
		failed = failed || strings.HasPrefix(p, "error: ")
	}
	if len(problems) > 0 {
		listErrors(s.stderr, problems, 0)
	}
	if failed {
		return exit(ExitFailed, nil)
	}
	if err := ctx.Err(); err != nil {
		return exit(ExitFailed, fmt.Errorf("interrupted: %w", context.Cause(ctx)))
	}
	return nil
}

func addedText(ch catalog.Change) string {
	if strings.HasSuffix(ch.Name, schemas.LatestViewSuffix) {
		return "re-created"
	}
	if len(ch.Added) == 0 {
		return "parameters"
	}
	return "+" + strings.Join(ch.Added, ", +")
}

// glueClientFor returns the session's Glue client, made on first use from
// the default AWS configuration chain with the session's call bounds
// (AWS_ENDPOINT_URL_GLUE names another endpoint). Each call is made once:
// the catalog retries whole merges.
func (s *session) glueClientFor(ctx context.Context) (*glueapi.Client, error) {
	if s.glue != nil {
		return s.glue, nil
	}
	cfg, err := s.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	endpoint := s.getenv("AWS_ENDPOINT_URL_GLUE")
	c, err := glueapi.New(cfg, glueapi.Options{Endpoint: endpoint})
	if err != nil {
		return nil, exit(ExitUsage, fmt.Errorf("aws configuration: %w", err))
	}
	s.glue = c
	return s.glue, nil
}

// catalogSyncer returns the function that brings a table's Glue
// definitions up to its schema (the view over its materialized state
// when it has one), for replay's commits.
func (s *session) catalogSyncer(ctx context.Context, database, location string, cfg *pipeline.Config, store sink.Store) (func(context.Context, *schemas.Schema) error, error) {
	client, err := s.glueClientFor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := catalog.New(client, catalog.Config{Database: database, Location: strings.TrimSuffix(location, "/"), Compression: compression(cfg)})
	if err != nil {
		return nil, usage("--database %s: %v", database, err)
	}
	return func(ctx context.Context, t *schemas.Schema) error {
		states, err := latestStates(ctx, store, []*schemas.Schema{t})
		if err != nil {
			return err
		}
		var st *schemas.LatestState
		if v, ok := states[t.Table]; ok {
			st = &v
		}
		_, err = c.Sync(ctx, t, st)
		return err
	}, nil
}
