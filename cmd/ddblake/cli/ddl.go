package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/cfn"
	"github.com/ddblake/ddblake/schemas/firehosedef"
	"github.com/ddblake/ddblake/schemas/gluedef"
	"github.com/ddblake/ddblake/sink"
)

// DDL output formats.
const (
	ddlAthena         = "athena"
	ddlGlue           = "glue"
	ddlCloudFormation = "cloudformation"
	ddlFirehose       = "firehose"
	ddlAlter          = "alter"
)

func (s *session) ddlCommand() *cobra.Command {
	var o ddlOptions
	cmd := &cobra.Command{
		Use:   "ddl [--config F] --lake DIR|s3://... [--location s3://...] [--database DB] [--format athena|glue|cloudformation|firehose|alter] [--previous DIR|s3://...] [--include-database] [--role-arn ARN]",
		Short: "Print the table definitions of a lake",
		Long: `Ddl reads the schema registry of the lake (<lake>/_ddblake/schemas/) and prints
the definition of every table in one of these formats:

  athena          (default) an Athena script: CREATE DATABASE, and per table
                  CREATE EXTERNAL TABLE with partition projection and
                  CREATE OR REPLACE VIEW <table>_latest (each item's current
                  state), statements separated by blank lines
  glue            a JSON array holding one Glue TableInput per table, each as
                  aws glue create-table --table-input takes it
                  (jq -c '.[]' splits it)
  cloudformation  one CloudFormation template (YAML) with an AWS::Glue::Table
                  per table (and the database with --include-database)
  firehose        a JSON object mapping each table name to the
                  ExtendedS3DestinationConfiguration of a delivery stream that
                  lands its rows in the lake as Parquet
  alter           the Athena statements that bring the tables defined from an
                  earlier copy of the registry (--previous, a directory or
                  s3:// location holding _ddblake/schemas/, or schemas/ as
                  cp -r lake/_ddblake DIR leaves it) up to date: ALTER
                  TABLE ... ADD COLUMNS and the re-created <table>_latest view
                  for tables that gained columns, the whole definition for new
                  tables. Types never change, so nothing else is ever needed.
                  A --previous holding no registry is refused. 'ddblake
                  catalog sync' does the same through the Glue API.

--location is the S3 location Athena and Glue read the lake from: required
when --lake is a local directory (the place it is uploaded to), and the --lake
URI itself by default when that is s3://. --database defaults to ddblake. The
parquet.compression table property follows the configuration's default
compression.`,
		Example: `  ddblake ddl --lake ./lake --location s3://my-lake/ddb > lake.sql
  ddblake ddl --lake s3://my-lake/ddb --database chat --format glue | jq -c '.[]' |
    while read -r t; do aws glue create-table --database-name chat --table-input "$t"; done
  ddblake ddl --lake s3://my-lake/ddb --format cloudformation --include-database > glue.yaml
  ddblake ddl --lake s3://my-lake/ddb --format firehose --role-arn arn:aws:iam::123456789012:role/firehose
  cp -r lake/_ddblake before/ && ddblake replay new-exports/ &&
    ddblake ddl --lake ./lake --location s3://my-lake/ddb --format alter --previous before`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usage("ddl: takes no arguments (got %s); name the lake with --lake", strings.Join(args, " "))
			}
			return s.ddl(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "configuration file (YAML)")
	f.StringVar(&o.lake, "lake", "", "the lake: a local directory or s3://bucket/prefix (required)")
	f.StringVar(&o.location, "location", "", "S3 location of the lake for Athena and Glue (default: --lake when it is s3://)")
	f.StringVar(&o.database, "database", schemas.DefaultDatabase, "Glue/Athena database")
	f.StringVar(&o.format, "format", ddlAthena, "output: athena, glue, cloudformation, firehose or alter (with --previous)")
	f.BoolVar(&o.includeDatabase, "include-database", false, "cloudformation: add the AWS::Glue::Database resource")
	f.StringVar(&o.roleARN, "role-arn", "", "firehose: the IAM role the delivery stream assumes")
	f.StringVar(&o.previous, "previous", "", "alter: an earlier copy of the lake's registry (a directory or s3:// location holding _ddblake/schemas/)")
	return cmd
}

type ddlOptions struct {
	config, lake, location, database, format string
	includeDatabase                          bool
	roleARN                                  string
	previous                                 string
	older                                    *schemas.Registry              // loaded from previous
	olderStates                              map[string]schemas.LatestState // the states previous knew
}

func (s *session) ddl(ctx context.Context, o ddlOptions) error {
	switch o.format {
	case ddlAthena, ddlGlue, ddlCloudFormation, ddlFirehose:
	case ddlAlter:
		if o.previous == "" {
			return usage("ddl: --format alter needs --previous: an earlier copy of the registry to compare with")
		}
	default:
		return usage("ddl: --format %q: want athena, glue, cloudformation, firehose or alter", o.format)
	}
	cfg, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	if o.lake == "" {
		return usage("ddl: --lake is required: the lake directory or s3://bucket/prefix whose tables to define")
	}
	if o.location == "" {
		if !isS3(o.lake) {
			return usage("ddl: --location s3://bucket/prefix is required when --lake is a local directory: it is where Athena reads the lake")
		}
		o.location = o.lake
	}
	opts := schemas.Options{Database: o.database, Location: strings.TrimSuffix(o.location, "/"), Compression: compression(cfg)}
	if err := opts.Validate(); err != nil {
		return usage("ddl: %v", err)
	}

	store, err := s.openLake(ctx, o.lake, false)
	if err != nil {
		return err
	}
	reg, err := sink.NewRegistry(store).LoadAll(ctx)
	if err != nil {
		return exit(ExitFailed, fmt.Errorf("ddl: lake %s: %w", o.lake, err))
	}
	var tables []*schemas.Schema
	for _, name := range reg.Tables() {
		t, _ := reg.Get(name)
		tables = append(tables, t)
	}
	if len(tables) == 0 {
		return exit(ExitFailed, fmt.Errorf("ddl: lake %s: %w (no %s*.json; replay into it first)", o.lake, ErrNoTables, sink.SchemasPrefix))
	}

	if opts.States, err = latestStates(ctx, store, tables); err != nil {
		return exit(ExitFailed, fmt.Errorf("ddl: lake %s: %w", o.lake, err))
	}
	if o.format == ddlAlter {
		prev, err := s.openPrevious(ctx, o.previous)
		if err != nil {
			return err
		}
		if o.older, err = sink.NewRegistry(prev).LoadAll(ctx); err != nil {
			return exit(ExitFailed, fmt.Errorf("ddl: previous registry %s: %w", o.previous, err))
		}
		if o.olderStates, err = latestStates(ctx, prev, tables); err != nil {
			return exit(ExitFailed, fmt.Errorf("ddl: previous registry %s: %w", o.previous, err))
		}
	}
	out, err := ddlOutput(o, opts, tables)
	if err != nil {
		return exit(ExitFailed, fmt.Errorf("ddl: %w", err))
	}
	if _, err := s.stdout.Write(out); err != nil {
		return exit(ExitFailed, fmt.Errorf("ddl: standard output: %w", err))
	}
	return nil
}

// ddlOutput renders the definitions of tables in o.format.
func ddlOutput(o ddlOptions, opts schemas.Options, tables []*schemas.Schema) ([]byte, error) {
	switch o.format {
	case ddlGlue:
		docs := make([][]byte, len(tables))
		for i, t := range tables {
			in, err := gluedef.LakeTable(t, opts)
			if err != nil {
				return nil, err
			}
			doc, err := gluedef.JSON(in)
			if err != nil {
				return nil, err
			}
			docs[i] = doc
		}
		for _, t := range tables {
			if _, ok := opts.States[t.Table]; !ok {
				continue
			}
			in, err := gluedef.StateTable(t, opts)
			if err != nil {
				return nil, err
			}
			doc, err := gluedef.JSON(in)
			if err != nil {
				return nil, err
			}
			docs = append(docs, doc)
		}
		return jsonArray(docs)
	case ddlCloudFormation:
		return cfn.YAML(tables, opts, cfn.Options{IncludeDatabase: o.includeDatabase})
	case ddlFirehose:
		names := make([]string, len(tables))
		docs := make([][]byte, len(tables))
		for i, t := range tables {
			doc, err := firehosedef.DestinationJSON(t, opts, firehosedef.Options{RoleARN: o.roleARN})
			if err != nil {
				return nil, err
			}
			names[i], docs[i] = t.Table, doc
		}
		return jsonObject(names, docs)
	case ddlAlter:
		return alterScript(o.older, o.olderStates, tables, opts)
	}
	script, err := schemas.AthenaScript(tables, opts)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(script, "\n") {
		script += "\n"
	}
	return []byte(script), nil
}

// alterScript returns the statements that bring the tables of older up to
// tables: ADD COLUMNS and the view for tables that gained columns, the
// whole definition for new ones, nothing for unchanged ones. A table with
// a materialized state also gets its state table (created, or given the
// new columns) and the view over the state, whenever the state changed
// since older's (olderStates).
func alterScript(older *schemas.Registry, olderStates map[string]schemas.LatestState, tables []*schemas.Schema, opts schemas.Options) ([]byte, error) {
	var b strings.Builder
	var created []*schemas.Schema
	for _, t := range tables {
		old, ok := older.Get(t.Table)
		if !ok {
			created = append(created, t)
			continue
		}
		alter, err := schemas.AddColumnsDDL(old, t, opts)
		if err != nil {
			return nil, err
		}
		if alter != "" {
			fmt.Fprintf(&b, "%s;\n\n", alter)
		}
		st, hasState := opts.States[t.Table]
		oldSt, hadState := olderStates[t.Table]
		switch {
		case hasState && !hadState:
			ddl, err := schemas.StateTableDDL(t, opts)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, "%s;\n\n", ddl)
		case hasState && alter != "":
			ddl, err := schemas.StateAddColumnsDDL(old, t, opts)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, "%s;\n\n", ddl)
		}
		if len(t.Keys) == 0 || (alter == "" && st == oldSt && hasState == hadState) {
			continue
		}
		view, err := schemas.LatestViewDDL(t, opts)
		if hasState {
			view, err = schemas.LatestStateViewDDL(t, opts, st)
		}
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%s;\n\n", view)
	}
	if len(created) > 0 {
		script, err := schemas.AthenaScript(created, opts)
		if err != nil {
			return nil, err
		}
		b.WriteString(strings.TrimSuffix(script, "\n") + "\n")
	}
	if b.Len() == 0 {
		b.WriteString("-- no table changed since the previous registry\n")
	}
	return []byte(b.String()), nil
}

// compression is the parquet.compression table property of the
// configuration's default compression.
func compression(cfg *pipeline.Config) string {
	c := cfg.Table("").Compression
	if c == "none" {
		return "UNCOMPRESSED"
	}
	return strings.ToUpper(c)
}

// jsonArray joins JSON documents into one indented array.
func jsonArray(docs [][]byte) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, d := range docs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(d)
	}
	b.WriteByte(']')
	return indent(b.Bytes())
}

// jsonObject makes one indented JSON object of names and documents.
func jsonObject(names []string, docs [][]byte) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, d := range docs {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(names[i])
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(d)
	}
	b.WriteByte('}')
	return indent(b.Bytes())
}

func indent(doc []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
