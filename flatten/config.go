package flatten

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ddblake/ddblake/schemas"
)

// DefaultDepth is the map depth past which a value is kept as JSON.
const DefaultDepth = 8

// DefaultMaxColumns caps the data columns of a table when the
// configuration sets no max_columns. Athena refuses statements over
// 262,144 bytes: a thousand columns of usual names and paths keep the
// CREATE TABLE statement near 100 KB.
const DefaultMaxColumns = 1000

// Column directives: values of TableConfig.Columns that are not types.
const (
	// ColumnMap keeps the map at a path whole, as one map<string,V>
	// column whose value type V is decided from the values, as for any
	// new column.
	ColumnMap = "map"
	// ColumnFlatten flattens the map at a path into one column per key,
	// whatever its keys look like.
	ColumnFlatten = "flatten"
)

// TableConfig holds the flattening rules of one DynamoDB table. Paths are
// attribute names joined with '.' (sender.profile.phone); a segment '*'
// matches any one name. The zero value applies the defaults.
type TableConfig struct {
	// Columns declares column types by path: "decimal(12,2)", "json",
	// "map<string,bigint>", ...; or, for a map, "map" (one map column,
	// value type from the data) or "flatten" (one column per key).
	Columns map[string]string `yaml:"columns,omitempty" json:"columns,omitempty"`
	// Omit lists paths to drop, with everything below them.
	Omit []string `yaml:"omit,omitempty" json:"omit,omitempty"`
	// Mask lists paths whose values are replaced by their mask: the hex
	// HMAC-SHA-256 under MaskKey (see Redactor for what is hashed).
	Mask []string `yaml:"mask,omitempty" json:"mask,omitempty"`
	// MaskKey is the key of the masks; New refuses mask rules without
	// one. It is never read from or written to a configuration file.
	MaskKey []byte `yaml:"-" json:"-"`
	// Expand lists S attributes that hold JSON text to be parsed and
	// flattened like a map (text that is not a JSON object stays a string).
	Expand []string `yaml:"expand,omitempty" json:"expand,omitempty"`
	// Depth is the map depth past which values are kept as a JSON string
	// column (default 8; top-level attributes are depth 1).
	Depth int `yaml:"depth,omitempty" json:"depth,omitempty"`
	// Explode lists paths of lists of maps to flatten element by element,
	// as <path>_<index>_<name> columns, instead of one JSON column.
	Explode []string `yaml:"explode,omitempty" json:"explode,omitempty"`
	// MaxColumns caps the table's data columns (default
	// DefaultMaxColumns): past it, attributes of new paths are kept in
	// _extra.
	MaxColumns int `yaml:"max_columns,omitempty" json:"max_columns,omitempty"`
	// Routes map items of a single-table design to logical tables; the
	// first rule that matches wins, and an item no rule matches stays in
	// the physical table.
	Routes []Route `yaml:"routes,omitempty" json:"routes,omitempty"`
}

// Route sends an item to Table when its attribute Attribute (a top-level
// S or N) equals Equals or begins with Prefix. Exactly one of Equals and
// Prefix is set.
type Route struct {
	Table     string `yaml:"table" json:"table"`
	Attribute string `yaml:"attribute" json:"attribute"`
	Prefix    string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	Equals    string `yaml:"equals,omitempty" json:"equals,omitempty"`
}

// lakeName is a logical table name: [a-z0-9_], not starting with '_'
// (the lake's own folders do), at most schemas.MaxTableNameLen bytes.
var lakeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// Validate checks declared types, paths, depth and routes.
func (c TableConfig) Validate() error {
	for p, t := range c.Columns {
		if p == "" {
			return fmt.Errorf("%w: columns: empty path", ErrBadConfig)
		}
		if _, ok := directive(t); ok {
			continue
		}
		if _, err := schemas.ParseType(t); err != nil {
			return fmt.Errorf("%w: columns: %s: %v (or %s or %s for a map)", ErrBadConfig, p, err, ColumnMap, ColumnFlatten)
		}
	}
	if c.MaxColumns < 0 {
		return fmt.Errorf("%w: max_columns %d: want a positive number (0 for the default %d)", ErrBadConfig, c.MaxColumns, DefaultMaxColumns)
	}
	for name, list := range map[string][]string{"omit": c.Omit, "mask": c.Mask, "expand": c.Expand, "explode": c.Explode} {
		for _, p := range list {
			if strings.TrimSpace(p) == "" {
				return fmt.Errorf("%w: %s: empty path", ErrBadConfig, name)
			}
		}
	}
	if n := len(c.MaskKey); n > 0 && n < MinMaskKeyBytes {
		return fmt.Errorf("%w: the mask key has %d bytes, want at least %d", ErrBadConfig, n, MinMaskKeyBytes)
	}
	if c.Depth < 0 || c.Depth > MaxDepth {
		return fmt.Errorf("%w: depth %d: want 1-%d (0 for the default %d)", ErrBadConfig, c.Depth, MaxDepth, DefaultDepth)
	}
	for i, r := range c.Routes {
		if !lakeName.MatchString(r.Table) || len(r.Table) > schemas.MaxTableNameLen {
			return fmt.Errorf("%w: routes[%d]: table %q: want 1-%d of [a-z0-9_], not starting with '_'", ErrBadConfig, i, r.Table, schemas.MaxTableNameLen)
		}
		if r.Attribute == "" {
			return fmt.Errorf("%w: routes[%d]: attribute is required", ErrBadConfig, i)
		}
		if (r.Prefix == "") == (r.Equals == "") {
			return fmt.Errorf("%w: routes[%d]: set exactly one of prefix and equals", ErrBadConfig, i)
		}
	}
	return nil
}

// Route returns the logical table an item belongs to, or "" when no rule
// matches (the item stays in its physical table).
func (c TableConfig) Route(item []Attr) string {
	for _, r := range c.Routes {
		for _, a := range item {
			if a.Name != r.Attribute || (a.Value.Kind != S && a.Value.Kind != N) {
				continue
			}
			if (r.Equals != "" && a.Value.S == r.Equals) || (r.Prefix != "" && strings.HasPrefix(a.Value.S, r.Prefix)) {
				return r.Table
			}
		}
	}
	return ""
}

// RouteItem is Route of an Item.
func (c TableConfig) RouteItem(item Item) string {
	for _, r := range c.Routes {
		for i := 0; i < len(item.nodes); i += int(item.nodes[i].size) {
			a := &item.nodes[i]
			if a.name != r.Attribute || (a.kind != S && a.kind != N) {
				continue
			}
			if (r.Equals != "" && a.text == r.Equals) || (r.Prefix != "" && strings.HasPrefix(a.text, r.Prefix)) {
				return r.Table
			}
		}
	}
	return ""
}

// ColumnCap is MaxColumns, or DefaultMaxColumns when it is 0.
func (c TableConfig) ColumnCap() int {
	if c.MaxColumns == 0 {
		return DefaultMaxColumns
	}
	return c.MaxColumns
}

// directive reads a column directive (map or flatten, any case).
func directive(t string) (string, bool) {
	switch d := strings.ToLower(strings.TrimSpace(t)); d {
	case ColumnMap, ColumnFlatten:
		return d, true
	}
	return "", false
}

func (c TableConfig) depth() int {
	if c.Depth == 0 {
		return DefaultDepth
	}
	return c.Depth
}

// pathSet matches attribute paths against configured dotted patterns.
//
// A dot of a pattern separates names, and stands as well for a dot inside
// a name: "user.email" names the attribute "email" of the map "user" and
// the attribute named "user.email" (DynamoDB names may hold dots), so
// that a rule written for either hides both. "*" stands for one whole
// name, dots included, or for one dot-separated part of a name.
type pathSet [][]string

func newPathSet(patterns []string) pathSet {
	ps := make(pathSet, 0, len(patterns))
	for _, p := range patterns {
		ps = append(ps, strings.Split(p, "."))
	}
	return ps
}

// match reports whether segs (the segments of a path) equal a pattern.
func (ps pathSet) match(segs []string) bool {
	dotted := hasDot(segs)
	for _, p := range ps {
		if dotted {
			if reach(p, segs, 0, func(end int) bool { return end == len(p) }) {
				return true
			}
			continue
		}
		if len(p) != len(segs) {
			continue
		}
		ok := true
		for i := range p {
			if p[i] != "*" && p[i] != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// below reports whether a pattern names a path strictly below segs: one
// longer than segs whose first segments match segs.
func (ps pathSet) below(segs []string) bool {
	dotted := hasDot(segs)
	for _, p := range ps {
		if dotted {
			if reach(p, segs, 0, func(end int) bool { return end < len(p) }) {
				return true
			}
			continue
		}
		if len(p) <= len(segs) {
			continue
		}
		ok := true
		for i := range segs {
			if p[i] != "*" && p[i] != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// hasDot reports whether a name of segs holds a dot.
func hasDot(segs []string) bool {
	for _, s := range segs {
		if strings.IndexByte(s, '.') >= 0 {
			return true
		}
	}
	return false
}

// reach matches segs against pattern p from its segment i on, each name
// matching one segment of p ("*" or itself) or, when it holds dots, as
// many segments as it has dot-separated parts; it reports whether done
// accepts an index of p where a match of all of segs ends.
func reach(p, segs []string, i int, done func(end int) bool) bool {
	if len(segs) == 0 {
		return done(i)
	}
	if i >= len(p) {
		return false
	}
	seg := segs[0]
	if (p[i] == "*" || p[i] == seg) && reach(p, segs[1:], i+1, done) {
		return true
	}
	if strings.IndexByte(seg, '.') < 0 {
		return false
	}
	j := i
	for part := range strings.SplitSeq(seg, ".") {
		if j >= len(p) || p[j] != "*" && p[j] != part {
			return false
		}
		j++
	}
	return reach(p, segs[1:], j, done)
}
