package schemas

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Metadata column names, present in every table before the data columns.
const (
	ColEventName = "_event_name"
	ColEventID   = "_event_id"
	ColEventTime = "_event_time"
	ColSequence  = "_sequence_number"
	ColTTLDelete = "_ttl_delete"
	ColExtra     = "_extra"
	ColOldImage  = "_old_image"
)

// Partition column names. Data columns never take them.
const (
	PartitionDay  = "dt"
	PartitionHour = "hr"
)

// MetadataColumns lists the metadata columns with their types, in table order.
func MetadataColumns() []Column {
	return []Column{
		{Name: ColEventName, Type: String},
		{Name: ColEventID, Type: String},
		{Name: ColEventTime, Type: Timestamp},
		{Name: ColSequence, Type: String},
		{Name: ColTTLDelete, Type: Boolean},
		{Name: ColExtra, Type: JSON},
		{Name: ColOldImage, Type: JSON},
	}
}

// MaxNameLen is the longest column or table name, in bytes.
const MaxNameLen = 255

// MaxTableNameLen is the longest lake table name made from a DynamoDB
// table name, in bytes. It leaves room in a 255-byte name for what is
// built from a table name: the view <table>_latest, the registry file
// <table>.json and the temporary and lock files beside it, and a
// collision suffix.
const MaxTableNameLen = 200

// Column is one data column: the DynamoDB attribute path it holds, the
// name it was given, its type, and what it was created from.
type Column struct {
	// Name is the column name, [a-z0-9_], unique in the table, never moved.
	Name string `json:"name"`
	// Path is the attribute path (see flatten.JoinPath), unique in the table.
	Path string `json:"path"`
	// Type is fixed at creation.
	Type Type `json:"type"`
	// Source is the DynamoDB type tag whose values the column holds
	// ("S", "N", "B", "BOOL", "SS", "NS", "BS", "L", "M"; "M" for a map
	// column); empty for declared columns, which accept every value that
	// converts to Type.
	Source string `json:"source,omitempty"`
	// Declared is true when the type came from the configuration.
	Declared bool `json:"declared,omitempty"`
	// FirstSeen is the event time of the batch that created the column.
	FirstSeen time.Time `json:"first_seen"`
}

// Origin names whose records a lake table holds: those of one DynamoDB
// table (DynamoDBTable, as the records name it, or as the configuration
// renames it for a source), or those routed to one logical table of the
// configuration's routing rules (Route). Exactly one is set. Two origins
// never share a lake table: the first to ask for a name keeps it, later
// ones get a collision suffix (see the registry's Claim).
type Origin struct {
	DynamoDBTable string `json:"dynamodb_table,omitempty"`
	Route         string `json:"route,omitempty"`
}

// String is "dynamodb table chat-messages" or "route messages".
func (o Origin) String() string {
	if o.Route != "" {
		return "route " + o.Route
	}
	return "dynamodb table " + o.DynamoDBTable
}

// Source is the AWS account and region of a DynamoDB table, from its ARN.
type Source struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

// Known reports whether both the account and the region are known.
func (s Source) Known() bool { return s.Account != "" && s.Region != "" }

// String is "account 123456789012 region us-east-1".
func (s Source) String() string {
	if !s.Known() {
		return "an unknown account and region"
	}
	return "account " + s.Account + " region " + s.Region
}

// Schema is the registry entry of one table: its origin and sources, its
// data columns in creation order, the key attribute names, and the
// partitioning. It owns the rules of evolution: columns are only
// appended, a path keeps its column and a column keeps its type; the
// origin never changes once set, and sources are only added. A Schema is
// not safe for concurrent use.
type Schema struct {
	// Table is the lake table name (sanitized).
	Table string `json:"table"`
	// Origin is whose records the table holds; nil for a table written
	// before origins were recorded (the first origin to ask adopts it).
	Origin *Origin `json:"origin,omitempty"`
	// Sources are the accounts and regions whose records the table holds,
	// in the order they were first admitted.
	Sources []Source `json:"sources,omitempty"`
	// Keys are the key attribute names (hash, then range), from stream Keys.
	Keys []string `json:"keys,omitempty"`
	// Hourly is true when the table is partitioned by dt and hr.
	Hourly bool `json:"hourly,omitempty"`
	// FirstPartition is the earliest dt written, YYYY-MM-DD.
	FirstPartition string `json:"first_partition,omitempty"`
	// Columns are the data columns, in creation order.
	Columns []Column `json:"columns"`
	// MaxColumns caps the data columns: Add refuses, and Merge leaves
	// out, a column past it. 0 means no cap. It comes from the
	// configuration and is not stored: a schema that already holds more
	// columns keeps them all.
	MaxColumns int `json:"-"`

	byPath  map[string]int
	byName  map[string]int
	parents map[string]struct{} // every proper prefix path of a column's path
}

// NewSchema returns an empty schema for table.
func NewSchema(table string) *Schema {
	s := &Schema{Table: table}
	s.index()
	return s
}

func (s *Schema) index() {
	s.byPath = make(map[string]int, len(s.Columns))
	s.byName = make(map[string]int, len(s.Columns))
	s.parents = make(map[string]struct{}, len(s.Columns))
	for i, c := range s.Columns {
		s.byPath[c.Path] = i
		s.byName[c.Name] = i
		s.noteParents(c.Path)
	}
}

// noteParents records the proper prefixes of path ("a" and "a.b" of
// "a.b.c"), splitting at the '.' that are not escaped by a backslash.
func (s *Schema) noteParents(path string) {
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '\\':
			i++
		case '.':
			s.parents[path[:i]] = struct{}{}
		}
	}
}

// HasColumnsUnder reports whether some column holds a path below path
// (path.x, path.x.y, ...): the map at path was flattened into columns.
func (s *Schema) HasColumnsUnder(path string) bool {
	if s.parents == nil {
		s.index()
	}
	_, ok := s.parents[path]
	return ok
}

// Lookup returns the index of the column holding path.
func (s *Schema) Lookup(path string) (int, bool) {
	if s.byPath == nil {
		s.index()
	}
	i, ok := s.byPath[path]
	return i, ok
}

// Column returns the column named name.
func (s *Schema) Column(name string) (Column, bool) {
	if s.byName == nil {
		s.index()
	}
	i, ok := s.byName[name]
	if !ok {
		return Column{}, false
	}
	return s.Columns[i], true
}

// Reserved reports whether name is taken by a metadata or partition column.
func Reserved(name string) bool {
	switch name {
	case ColEventName, ColEventID, ColEventTime, ColSequence, ColTTLDelete, ColExtra, ColOldImage,
		PartitionDay, PartitionHour:
		return true
	}
	return false
}

// UniqueName returns base if no column or reserved name has it, else
// base_2, base_3, ... the first free one. Names longer than MaxNameLen are
// cut to leave room for the suffix.
func (s *Schema) UniqueName(base string) string {
	if s.byName == nil {
		s.index()
	}
	free := func(n string) bool {
		_, taken := s.byName[n]
		return !taken && !Reserved(n)
	}
	if len(base) > MaxNameLen {
		base = base[:MaxNameLen]
	}
	if free(base) {
		return base
	}
	for i := 2; ; i++ {
		suffix := "_" + strconv.Itoa(i)
		b := base
		if len(b)+len(suffix) > MaxNameLen {
			b = b[:MaxNameLen-len(suffix)]
		}
		if n := b + suffix; free(n) {
			return n
		}
	}
}

// Add appends a column for c.Path named UniqueName(c.Name) and returns it.
// It fails with ErrPathExists when the path has a column already, with
// ErrBadType for an invalid type, and with ErrTooManyColumns when the
// schema holds MaxColumns columns already.
func (s *Schema) Add(c Column) (Column, error) {
	if _, ok := s.Lookup(c.Path); ok {
		return Column{}, fmt.Errorf("%w: %q in table %s", ErrPathExists, c.Path, s.Table)
	}
	if err := c.Type.Validate(); err != nil {
		return Column{}, fmt.Errorf("column %q: %w", c.Path, err)
	}
	if s.full() {
		return Column{}, fmt.Errorf("%w: %q in table %s (%d columns)", ErrTooManyColumns, c.Path, s.Table, s.MaxColumns)
	}
	c.Name = s.UniqueName(c.Name)
	s.append(c)
	return c, nil
}

// full reports whether the schema has reached MaxColumns.
func (s *Schema) full() bool { return s.MaxColumns > 0 && len(s.Columns) >= s.MaxColumns }

// append adds c, named and checked, to the columns and the indexes.
func (s *Schema) append(c Column) {
	s.Columns = append(s.Columns, c)
	s.byPath[c.Path] = len(s.Columns) - 1
	s.byName[c.Name] = len(s.Columns) - 1
	s.noteParents(c.Path)
}

// Merge folds other (a newer copy of the same table, typically read back
// from the store) into s: columns of other come first, in other's order,
// then the columns only s has, renamed where other took their name. A
// path both have keeps other's column. Keys, Hourly and FirstPartition
// are merged the same way; other's origin wins, and the sources are
// other's followed by those only s has. Merge never changes a type: when both have a
// path with different types, other wins and s's proposal is dropped.
// Columns only s has are left out once the result holds s.MaxColumns
// columns (the caller finds them missing), and so are those whose path
// lies under a map column of other, or that hold a map where other has
// columns below: the first writer's choice between one map column and
// flattened columns stands.
func (s *Schema) Merge(other *Schema) {
	mine := s.Columns
	s.Columns = append([]Column(nil), other.Columns...)
	s.index()
	for _, c := range mine {
		if _, ok := s.byPath[c.Path]; ok {
			continue
		}
		if s.full() || (c.Type.Kind == KindMap && s.HasColumnsUnder(c.Path)) || s.underMap(c.Path) {
			continue
		}
		c.Name = s.UniqueName(c.Name)
		s.append(c)
	}
	if len(other.Keys) > 0 {
		s.Keys = append([]string(nil), other.Keys...)
	}
	if other.Origin != nil {
		o := *other.Origin
		s.Origin = &o
	}
	sources := append([]Source(nil), other.Sources...)
	for _, src := range s.Sources {
		if !slices.Contains(sources, src) {
			sources = append(sources, src)
		}
	}
	s.Sources = sources
	s.Hourly = s.Hourly || other.Hourly
	if other.FirstPartition != "" && (s.FirstPartition == "" || other.FirstPartition < s.FirstPartition) {
		s.FirstPartition = other.FirstPartition
	}
}

// underMap reports whether a proper prefix of path holds a map column.
func (s *Schema) underMap(path string) bool {
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '\\':
			i++
		case '.':
			if j, ok := s.byPath[path[:i]]; ok && s.Columns[j].Type.Kind == KindMap {
				return true
			}
		}
	}
	return false
}

// NotePartition lowers FirstPartition to dt when dt is earlier.
func (s *Schema) NotePartition(dt string) {
	if s.FirstPartition == "" || dt < s.FirstPartition {
		s.FirstPartition = dt
	}
}

// Clone returns a deep copy.
func (s *Schema) Clone() *Schema {
	c := *s
	c.Keys = append([]string(nil), s.Keys...)
	c.Columns = append([]Column(nil), s.Columns...)
	c.Sources = append([]Source(nil), s.Sources...)
	if s.Origin != nil {
		o := *s.Origin
		c.Origin = &o
	}
	c.index()
	return &c
}

// Equal reports whether two schemas hold the same origin, sources,
// columns, keys and partitioning.
func (s *Schema) Equal(o *Schema) bool {
	if s.Table != o.Table || s.Hourly != o.Hourly || s.FirstPartition != o.FirstPartition ||
		len(s.Keys) != len(o.Keys) || len(s.Columns) != len(o.Columns) ||
		(s.Origin == nil) != (o.Origin == nil) || (s.Origin != nil && *s.Origin != *o.Origin) ||
		!slices.Equal(s.Sources, o.Sources) {
		return false
	}
	for i := range s.Keys {
		if s.Keys[i] != o.Keys[i] {
			return false
		}
	}
	for i, c := range s.Columns {
		d := o.Columns[i]
		if c.Name != d.Name || c.Path != d.Path || !c.Type.Equal(d.Type) || c.Source != d.Source ||
			c.Declared != d.Declared || !c.FirstSeen.Equal(d.FirstSeen) {
			return false
		}
	}
	return true
}

// Validate checks the invariants a schema read from storage must hold:
// unique names and paths, valid types, no reserved names, an origin with
// exactly one name, known and distinct sources.
func (s *Schema) Validate() error {
	if o := s.Origin; o != nil && (o.DynamoDBTable == "") == (o.Route == "") {
		return fmt.Errorf("%w: table %s: origin %+v: want exactly one of dynamodb_table and route", ErrBadSchema, s.Table, *o)
	}
	for i, src := range s.Sources {
		if !src.Known() || slices.Contains(s.Sources[:i], src) {
			return fmt.Errorf("%w: table %s: source %+v", ErrBadSchema, s.Table, src)
		}
	}
	names := map[string]bool{}
	paths := map[string]bool{}
	for _, c := range s.Columns {
		if c.Name == "" || len(c.Name) > MaxNameLen || Reserved(c.Name) || names[c.Name] {
			return fmt.Errorf("%w: table %s: column name %q", ErrBadSchema, s.Table, c.Name)
		}
		if paths[c.Path] {
			return fmt.Errorf("%w: table %s: path %q twice", ErrBadSchema, s.Table, c.Path)
		}
		if err := c.Type.Validate(); err != nil {
			return fmt.Errorf("%w: table %s: column %s: %v", ErrBadSchema, s.Table, c.Name, err)
		}
		names[c.Name], paths[c.Path] = true, true
	}
	return nil
}

// UnmarshalJSON reads a schema and rebuilds its indexes.
func (s *Schema) UnmarshalJSON(b []byte) error {
	type plain Schema
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSchema, err)
	}
	*s = Schema(p)
	s.index()
	return s.Validate()
}

// Registry holds the schemas of many tables in memory. Persisting it is
// the sink's job. A Registry is not safe for concurrent use.
type Registry struct {
	tables map[string]*Schema
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{tables: map[string]*Schema{}} }

// Table returns the schema of table, creating an empty one if needed.
func (r *Registry) Table(table string) *Schema {
	s, ok := r.tables[table]
	if !ok {
		s = NewSchema(table)
		r.tables[table] = s
	}
	return s
}

// Get returns the schema of table if the registry has it.
func (r *Registry) Get(table string) (*Schema, bool) {
	s, ok := r.tables[table]
	return s, ok
}

// Put replaces the schema of s.Table.
func (r *Registry) Put(s *Schema) { r.tables[s.Table] = s }

// Tables returns the table names in sorted order.
func (r *Registry) Tables() []string {
	names := make([]string, 0, len(r.tables))
	for n := range r.tables {
		names = append(names, n)
	}
	sortStrings(names)
	return names
}
