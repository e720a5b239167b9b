package pipeline

import (
	"cmp"
	"fmt"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/schemas"
)

// Routed is where a record goes: its lake table's origin and the name it
// asks for, the name its rules are found under, the rules, the image its
// row is made from, and the account and region it came from.
type Routed struct {
	// Origin identifies the lake table: the record's DynamoDB table (or
	// the table its source is taken as, SourceRule.As), or a routing
	// rule's logical table.
	Origin schemas.Origin
	// Table is the lake table name the origin asks for: the DynamoDB
	// table name sanitized, or the logical table. The registry gives it
	// when no other origin holds it, else the first free name with a
	// collision suffix (_2, _3, ...); see Processor.
	Table string
	// ConfigName is the name the rules were found under in the
	// configuration: the logical table when it has an entry of its own,
	// else the DynamoDB table name (or As, when it has an entry of its
	// own).
	ConfigName string
	// Config holds the rules (without routes).
	Config TableConfig
	// Image is what the row's data columns are made from (see Route).
	Image flatten.Item
	// OldImage is the record's OldImage when Image is neither it nor a
	// NewImage: it goes to the row's _old_image, not to its columns.
	OldImage flatten.Item
	// Source is the record's account and region; not Known when the
	// input named none.
	Source schemas.Source
}

// Route picks a record's lake table, rules and images. The row's data
// columns are the item's state after the change when the record carries
// it, and never an earlier state presented as the current one:
//
//   - the NewImage, when there is one (INSERT and MODIFY of NEW_IMAGE and
//     NEW_AND_OLD_IMAGES streams, export items);
//   - else for a REMOVE the OldImage, the item as it was removed;
//   - else the Keys (KEYS_ONLY streams, INSERT and MODIFY of OLD_IMAGE
//     streams), with the OldImage of such a MODIFY in _old_image.
//
// A routing rule reads the fullest image: the NewImage, else the
// OldImage, else the Keys. Route fails with ErrBadTable for a table name
// that is not a valid DynamoDB name, with ErrBadRecord for a record with
// no image and no keys, and with ErrOtherSource for a record from an
// account or region that the table's sources (in the configuration) do
// not list.
func (c *Config) Route(rec *decode.ChangeRecord) (Routed, error) {
	r := router{c: c}
	return r.route(rec)
}

// router is Route for the records of one batch, which are mostly of one
// table and source: what depends only on a record's table name and
// source (its lake table name, configuration name and rules) is worked
// out once for a run of such records, not for each record.
type router struct {
	c *Config
	// The last record's table and source, and what they gave (ok: the
	// fields below are set).
	ok         bool
	table      string
	src        schemas.Source
	name       string // the DynamoDB table name the records are taken as
	lake       string // its lake table name
	configName string
	cfg        TableConfig
}

// route is Route of rec.
func (r *router) route(rec *decode.ChangeRecord) (Routed, error) {
	c := r.c
	src := rec.SourceOf()
	fresh := !r.ok || rec.Table != r.table || src != r.src
	if fresh && !decode.ValidTableName(rec.Table) {
		return Routed{}, fmt.Errorf("%w: %q", decode.ErrBadTable, rec.Table)
	}
	image, old, full := rec.NewImage, flatten.Item{}, rec.NewImage
	switch {
	case !image.IsZero():
	case rec.EventName == decode.EventRemove && !rec.OldImage.IsZero():
		image, full = rec.OldImage, rec.OldImage
	case !rec.OldImage.IsZero():
		image, old, full = rec.Keys, rec.OldImage, rec.OldImage
		if image.IsZero() {
			image = flatten.ItemOf([]flatten.Attr{}) // no keys to show: the row holds only _old_image
		}
	default:
		image, full = rec.Keys, rec.Keys
	}
	if image.IsZero() {
		return Routed{}, fmt.Errorf("%w: %s record has no image and no keys", decode.ErrBadRecord, rec.EventName)
	}
	if fresh {
		r.ok = false
		name, err := c.sourceTable(rec.Table, src)
		if err != nil {
			return Routed{}, err
		}
		configName := rec.Table
		if _, own := c.tables()[name]; own {
			configName = name
		}
		*r = router{c: c, ok: true, table: rec.Table, src: src, name: name, lake: flatten.TableName(name),
			configName: configName, cfg: c.Table(configName)}
	}
	if to := r.cfg.RouteItem(full); to != "" {
		out := Routed{Origin: schemas.Origin{Route: to}, Table: to, ConfigName: r.configName, Config: r.cfg, Image: image, OldImage: old, Source: src}
		if _, own := c.tables()[to]; own {
			out.ConfigName, out.Config = to, c.Table(to)
		}
		out.Config.Routes = nil
		return out, nil
	}
	return Routed{Origin: schemas.Origin{DynamoDBTable: r.name}, Table: r.lake,
		ConfigName: r.configName, Config: r.cfg, Image: image, OldImage: old, Source: src}, nil
}

// sourceTable returns the DynamoDB table name the records of table from
// src are taken as: table itself, or the As of the source rule that
// matches src. A record of unknown source is taken as its own table. It
// fails with ErrOtherSource when the table lists sources and none
// matches src.
func (c *Config) sourceTable(table string, src schemas.Source) (string, error) {
	rules := c.tables()[table].Sources
	if len(rules) == 0 || !src.Known() {
		return table, nil
	}
	for _, r := range rules {
		if r.matches(src) {
			if r.As != "" {
				return r.As, nil
			}
			return table, nil
		}
	}
	return "", fmt.Errorf("%w: table %s: %s is not among the sources listed under tables.%s.sources in the configuration",
		ErrOtherSource, table, src, table)
}

// together reports whether the configuration says the records of a and b
// belong in one lake table: sources rules match both and send them to the
// same DynamoDB table name (their As, or the table they are listed under).
func (c *Config) together(a, b schemas.Source) bool {
	targets := func(src schemas.Source) map[string]bool {
		out := map[string]bool{}
		for name, t := range c.tables() {
			for _, r := range t.Sources {
				if r.matches(src) {
					out[cmp.Or(r.As, name)] = true
				}
			}
		}
		return out
	}
	tb := targets(b)
	for name := range targets(a) {
		if tb[name] {
			return true
		}
	}
	return false
}

func (c *Config) tables() map[string]TableConfig {
	if c == nil {
		return nil
	}
	return c.Tables
}
