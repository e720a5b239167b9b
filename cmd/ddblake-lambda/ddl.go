package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/latest"
)

// athenaScript returns the Athena statements of every table of the lake,
// as `ddblake ddl --lake <lake>` prints them (database ddblake; the
// materialized latest states' tables and views where there are some).
func athenaScript(ctx context.Context, store sink.Store, lake string, cfg *pipeline.Config) (string, error) {
	reg, err := sink.NewRegistry(store).LoadAll(ctx)
	if err != nil {
		return "", err
	}
	var tables []*schemas.Schema
	for _, name := range reg.Tables() {
		t, _ := reg.Get(name)
		tables = append(tables, t)
	}
	if len(tables) == 0 {
		return "", fmt.Errorf("the lake has no tables")
	}
	c := strings.ToUpper(cfg.Table("").Compression)
	if c == "NONE" {
		c = "UNCOMPRESSED"
	}
	opts := schemas.Options{Database: schemas.DefaultDatabase, Location: strings.TrimSuffix(lake, "/"), Compression: c}
	if err := opts.Validate(); err != nil {
		return "", err
	}
	opts.States = map[string]schemas.LatestState{}
	for _, t := range tables {
		st, _, err := latest.Load(ctx, store, t.Table)
		if err != nil {
			return "", err
		}
		if st != nil {
			opts.States[t.Table] = schemas.LatestState{Generation: st.Generation, Through: st.Through}
		}
	}
	script, err := schemas.AthenaScript(tables, opts)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(script, "\n") {
		script += "\n"
	}
	return script, nil
}
