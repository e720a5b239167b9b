package schemas

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// DefaultDatabase is the Glue/Athena database used when Options.Database
// is empty. CreateDatabaseDDL creates it.
const DefaultDatabase = "ddblake"

// DefaultFirstPartition is the start of the dt projection range of a table
// whose schema has no FirstPartition yet (nothing written so far). It is
// the day DynamoDB became available (2012), so no change data can be
// older: a backfill of old exports later is still inside the range, and
// Athena queries that filter on dt pay nothing for the unused days.
const DefaultFirstPartition = "2012-01-01"

// DefaultCompression is the parquet.compression table property used when
// Options.Compression is empty. It only affects files Athena itself writes
// (CTAS, INSERT INTO); readers take the codec from each file.
const DefaultCompression = "ZSTD"

// Hive/Athena class names of the Parquet storage.
const (
	ParquetSerDe        = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
	ParquetInputFormat  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	ParquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	// SymlinkInputFormat reads, in each partition's location, manifest
	// files listing the data files (the lake's tables: see ManifestDir).
	SymlinkInputFormat = "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
	// SymlinkOutputFormat goes with SymlinkInputFormat; Athena never
	// writes these tables.
	SymlinkOutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
)

// ManifestDir is the folder, in a table's folder, that holds one folder
// per partition with the partition's manifest: the list of its data
// files. A table's LOCATION and storage template point there, so Athena
// reads a partition's files as one set that compaction replaces with one
// write (see sink/manifest).
const ManifestDir = "_symlink_format_manifest"

// maxCommentLen is the longest column comment Glue stores, in UTF-16 units.
const maxCommentLen = 255

// MaxStatementBytes is the longest statement Athena accepts.
const MaxStatementBytes = 262144

// Options say where the lake lives and how its tables are catalogued. The
// same options drive every output format (Athena, Glue, CloudFormation,
// Firehose), so they always agree.
type Options struct {
	// Database is the Glue/Athena database; DefaultDatabase when empty.
	Database string
	// Location is the lake root, s3://bucket or s3://bucket/prefix. Table
	// data lives at <Location>/<table>/dt=YYYY-MM-DD/ (and hr=HH/).
	Location string
	// Compression is the parquet.compression table property: ZSTD,
	// SNAPPY, GZIP or UNCOMPRESSED (any case); DefaultCompression when
	// empty.
	Compression string
	// States are the tables' materialized latest states, by table (see
	// sink/latest): a table with one gets its state table, and a latest
	// view over the state and the days after it (LatestStateViewDDL).
	States map[string]LatestState
}

// Validate reports whether the options can be used: a valid database name,
// an s3:// location and a known compression.
func (o Options) Validate() error {
	if o.Database != "" && !validName(o.Database) {
		return fmt.Errorf("%w: database %q: want 1-%d bytes of [a-z0-9_]", ErrBadName, o.Database, MaxNameLen)
	}
	if _, _, err := SplitS3Location(o.Location); err != nil {
		return err
	}
	switch strings.ToUpper(o.Compression) {
	case "", "ZSTD", "SNAPPY", "GZIP", "UNCOMPRESSED":
	default:
		return fmt.Errorf("%w: compression %q: want ZSTD, SNAPPY, GZIP or UNCOMPRESSED", ErrBadOption, o.Compression)
	}
	for table, st := range o.States {
		if err := st.Validate(); err != nil {
			return fmt.Errorf("table %s: %w", table, err)
		}
	}
	return nil
}

// DatabaseName returns the database, DefaultDatabase when none is set.
func (o Options) DatabaseName() string {
	if o.Database == "" {
		return DefaultDatabase
	}
	return o.Database
}

func (o Options) compression() string {
	if o.Compression == "" {
		return DefaultCompression
	}
	return strings.ToUpper(o.Compression)
}

// SplitS3Location splits s3://bucket/prefix into the bucket and the prefix
// (no leading or trailing slash; empty for the bucket root). It fails with
// ErrBadLocation for another scheme, a bad bucket name or an empty path
// segment.
func SplitS3Location(loc string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%w: %q: want s3://bucket[/prefix]", ErrBadLocation, loc)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if len(bucket) < 3 || len(bucket) > 63 {
		return "", "", fmt.Errorf("%w: %q: bucket name must be 3-63 characters", ErrBadLocation, loc)
	}
	for i := 0; i < len(bucket); i++ {
		if c := bucket[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "", "", fmt.Errorf("%w: %q: bucket name must be [a-z0-9.-]", ErrBadLocation, loc)
		}
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		for _, seg := range strings.Split(prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return "", "", fmt.Errorf("%w: %q: empty, . or .. path segment", ErrBadLocation, loc)
			}
		}
	}
	return bucket, prefix, nil
}

// TableLocation returns the S3 folder of table: <location>/<table>/, with
// exactly one slash between parts.
func TableLocation(location, table string) (string, error) {
	bucket, prefix, err := SplitS3Location(location)
	if err != nil {
		return "", err
	}
	return "s3://" + joinKey(bucket, prefix, table) + "/", nil
}

// ManifestLocation returns the folder of table's manifests, the table's
// LOCATION: <location>/<table>/_symlink_format_manifest/.
func ManifestLocation(location, table string) (string, error) {
	loc, err := TableLocation(location, table)
	if err != nil {
		return "", err
	}
	return loc + ManifestDir + "/", nil
}

// joinKey joins non-empty parts with slashes.
func joinKey(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(p)
	}
	return b.String()
}

// validName reports whether name is an Athena name: 1-255 bytes of
// [a-z0-9_].
func validName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ValidateForAthena reports whether s can be turned into table
// definitions: the table and every column name are Athena names, data
// columns do not take metadata or partition names, names are unique,
// types are valid (decimal precision at most 38) and FirstPartition, when
// set, is a YYYY-MM-DD date. The error is a *DefinitionError naming the
// column at fault and wrapping ErrBadName, ErrBadType or ErrBadSchema.
func ValidateForAthena(s *Schema) error {
	if !validName(s.Table) || len(s.Table)+len(latestSuffix) > MaxNameLen {
		return &DefinitionError{Table: s.Table, Err: fmt.Errorf(
			"%w: table name must be 1-%d bytes of [a-z0-9_]", ErrBadName, MaxNameLen-len(latestSuffix))}
	}
	if s.FirstPartition != "" {
		if _, err := time.Parse(time.DateOnly, s.FirstPartition); err != nil {
			return &DefinitionError{Table: s.Table, Err: fmt.Errorf(
				"%w: first partition %q is not YYYY-MM-DD", ErrBadSchema, s.FirstPartition)}
		}
	}
	seen := make(map[string]bool, len(s.Columns))
	for _, c := range s.Columns {
		switch {
		case !validName(c.Name):
			return &DefinitionError{Table: s.Table, Column: c.Name, Err: fmt.Errorf(
				"%w: want 1-%d bytes of [a-z0-9_] (path %q)", ErrBadName, MaxNameLen, c.Path)}
		case Reserved(c.Name):
			return &DefinitionError{Table: s.Table, Column: c.Name, Err: fmt.Errorf(
				"%w: reserved for a metadata or partition column (path %q)", ErrBadName, c.Path)}
		case seen[c.Name]:
			return &DefinitionError{Table: s.Table, Column: c.Name, Err: fmt.Errorf(
				"%w: used by two columns (path %q)", ErrBadName, c.Path)}
		}
		seen[c.Name] = true
		if err := c.Type.Validate(); err != nil {
			return &DefinitionError{Table: s.Table, Column: c.Name, Err: err}
		}
	}
	return nil
}

// TableColumns returns every non-partition column of the table in table
// order: MetadataColumns, then the data columns in registry order.
func TableColumns(s *Schema) []Column {
	cols := MetadataColumns()
	return append(cols, s.Columns...)
}

// PartitionColumns returns the partition columns of the table: dt, and hr
// when the table is hourly. Both are strings (YYYY-MM-DD and HH).
func PartitionColumns(s *Schema) []Column {
	cols := []Column{{Name: PartitionDay, Type: String}}
	if s.Hourly {
		cols = append(cols, Column{Name: PartitionHour, Type: String})
	}
	return cols
}

// metadataComments describe the metadata and partition columns.
var metadataComments = map[string]string{
	ColEventName:  "INSERT, MODIFY, REMOVE or SNAPSHOT",
	ColEventID:    "DynamoDB stream eventID; empty for exports",
	ColEventTime:  "when the change happened (UTC)",
	ColSequence:   "stream sequence number, zero-padded to sort as text; empty for exports",
	ColTTLDelete:  "REMOVE caused by TTL expiry",
	ColExtra:      "attributes or values without a typed column, DynamoDB JSON",
	ColOldImage:   "the old image of a MODIFY whose stream carries no new image (OLD_IMAGE), DynamoDB JSON",
	PartitionDay:  "day of _event_time (UTC), YYYY-MM-DD",
	PartitionHour: "hour of _event_time (UTC), HH",
}

// ColumnComment is the comment a column carries in the catalog: the
// original DynamoDB attribute path for a data column, a description for
// metadata and partition columns. Control characters and invalid UTF-8
// become U+FFFD, and the text is cut to the 255 UTF-16 units Glue allows
// (ending in "…" when cut).
func ColumnComment(c Column) string {
	if c.Path == "" {
		if d, ok := metadataComments[c.Name]; ok {
			return d
		}
	}
	return cleanComment(c.Path)
}

func cleanComment(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	clean := func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffe || r == 0xffff {
			return '\uFFFD'
		}
		return r
	}
	s = strings.Map(clean, s)
	total := 0
	for _, r := range s {
		total += utf16.RuneLen(r)
	}
	if total <= maxCommentLen {
		return s
	}
	var b strings.Builder
	units := 0
	for _, r := range s {
		n := utf16.RuneLen(r)
		if units+n > maxCommentLen-1 {
			break
		}
		units += n
		b.WriteRune(r)
	}
	b.WriteRune('…')
	return b.String()
}

// quoteIdent quotes an identifier with backticks, for Hive DDL.
func quoteIdent(name string) string { return "`" + name + "`" }

// quoteSQLIdent quotes an identifier with double quotes, for Trino and
// DuckDB SQL. Names are [a-z0-9_], so nothing inside needs escaping; a
// double quote is doubled anyway.
func quoteSQLIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// hiveString quotes s as a Hive DDL string literal: single quotes, with
// backslash and single quote escaped by a backslash.
func hiveString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// property is one table property, kept in a fixed order for output.
type property struct{ key, value string }

// tableProperties are the TBLPROPERTIES (Glue Parameters) of a table:
// partition projection over dt (and hr), the storage template (the
// partitions' manifest folders under loc), the codec and the
// classification.
func tableProperties(s *Schema, o Options, loc string) []property {
	first := s.FirstPartition
	if first == "" {
		first = DefaultFirstPartition
	}
	template := loc + "dt=${dt}/"
	if s.Hourly {
		template += "hr=${hr}/"
	}
	props := []property{
		{"projection.enabled", "true"},
		{"projection.dt.type", "date"},
		{"projection.dt.range", first + ",NOW"},
		{"projection.dt.format", "yyyy-MM-dd"},
		{"projection.dt.interval", "1"},
		{"projection.dt.interval.unit", "DAYS"},
	}
	if s.Hourly {
		props = append(props,
			property{"projection.hr.type", "integer"},
			property{"projection.hr.range", "0,23"},
			property{"projection.hr.digits", "2"},
		)
	}
	return append(props,
		property{"storage.location.template", template},
		property{"parquet.compression", o.compression()},
		property{"classification", "parquet"},
	)
}

// prepare validates the options and the schema and returns the table's
// location: the folder of its manifests.
func prepare(s *Schema, o Options) (string, error) {
	if err := o.Validate(); err != nil {
		return "", &DefinitionError{Table: s.Table, Err: err}
	}
	if err := ValidateForAthena(s); err != nil {
		return "", err
	}
	return ManifestLocation(o.Location, s.Table)
}

// qualifiedHive is `db`.`name`.
func qualifiedHive(db, name string) string { return quoteIdent(db) + "." + quoteIdent(name) }

// QualifiedName is "db"."name", the way Trino and DuckDB SQL name a table
// or view.
func QualifiedName(db, name string) string { return quoteSQLIdent(db) + "." + quoteSQLIdent(name) }

// CreateDatabaseDDL returns the Athena statement that creates the
// database of o when it does not exist yet.
func CreateDatabaseDDL(o Options) (string, error) {
	if o.Database != "" && !validName(o.Database) {
		return "", fmt.Errorf("%w: database %q", ErrBadName, o.Database)
	}
	return "CREATE DATABASE IF NOT EXISTS " + quoteIdent(o.DatabaseName()), nil
}

// writeColumnDefs writes "  `name` type COMMENT '...'" lines, comma
// separated; data columns (those with a path) without their comment when
// comments is false.
func writeColumnDefs(b *strings.Builder, cols []Column, comments bool) {
	for i, c := range cols {
		b.WriteString("  ")
		b.WriteString(quoteIdent(c.Name))
		b.WriteByte(' ')
		b.WriteString(c.Type.AthenaName())
		if comments || c.Path == "" {
			b.WriteString(" COMMENT ")
			b.WriteString(hiveString(ColumnComment(c)))
		}
		if i < len(cols)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
}

// CreateTableDDL returns the Athena CREATE EXTERNAL TABLE IF NOT EXISTS
// statement of the table (no trailing semicolon): metadata then data
// columns with their Athena types and comments (the DynamoDB path of each
// data column), the dt (and hr) partition columns, Parquet files read
// through the partitions' manifests (SymlinkTextInputFormat) at
// <location>/<table>/_symlink_format_manifest/, and partition projection
// so new days need no MSCK REPAIR. The projection starts at
// s.FirstPartition, or at DefaultFirstPartition when the schema has none.
// A statement that would pass MaxStatementBytes is written without the
// data columns' comments; when it is still too long it fails with
// ErrStatementTooLong (the Glue TableInput has no such limit). It fails
// with a *DefinitionError when the options or the schema are not valid
// (see Options.Validate and ValidateForAthena).
func CreateTableDDL(s *Schema, o Options) (string, error) {
	loc, err := prepare(s, o)
	if err != nil {
		return "", err
	}
	ddl := createTable(s, o, loc, true)
	if len(ddl) > MaxStatementBytes {
		ddl = createTable(s, o, loc, false)
	}
	if len(ddl) > MaxStatementBytes {
		return "", tooLong(s, "CREATE TABLE", len(ddl))
	}
	return ddl, nil
}

// tooLong is the error of a statement of n bytes.
func tooLong(s *Schema, what string, n int) error {
	return &DefinitionError{Table: s.Table, Err: fmt.Errorf(
		"%w: the %s statement of %d columns is %d bytes, Athena accepts %d (lower max_columns, or define the table with --format glue)",
		ErrStatementTooLong, what, len(s.Columns), n, MaxStatementBytes)}
}

// createTable writes the CREATE TABLE statement, with or without the data
// columns' comments.
func createTable(s *Schema, o Options, loc string, comments bool) string {
	var b strings.Builder
	b.WriteString("CREATE EXTERNAL TABLE IF NOT EXISTS ")
	b.WriteString(qualifiedHive(o.DatabaseName(), s.Table))
	b.WriteString(" (\n")
	writeColumnDefs(&b, TableColumns(s), comments)
	b.WriteString(")\nPARTITIONED BY (\n")
	writeColumnDefs(&b, PartitionColumns(s), true)
	b.WriteString(")\n")
	b.WriteString("ROW FORMAT SERDE " + hiveString(ParquetSerDe) + "\n")
	b.WriteString("STORED AS INPUTFORMAT " + hiveString(SymlinkInputFormat) + "\n")
	b.WriteString("OUTPUTFORMAT " + hiveString(SymlinkOutputFormat) + "\n")
	b.WriteString("LOCATION " + hiveString(loc) + "\n")
	b.WriteString("TBLPROPERTIES (\n")
	props := tableProperties(s, o, loc)
	for i, p := range props {
		b.WriteString("  " + hiveString(p.key) + "=" + hiveString(p.value))
		if i < len(props)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(")")
	return b.String()
}

// AthenaScript returns every Athena statement a lake needs, each ending
// in ";" and separated by a blank line, ready to paste into the Athena
// console or pipe to a client: CREATE DATABASE IF NOT EXISTS, then for each
// table its CREATE EXTERNAL TABLE and, when the schema knows its key
// attributes, its latest view: over its materialized state (o.States),
// after the state table's CREATE EXTERNAL TABLE, when it has one. A table
// without keys (a lake built from table exports alone records none) gets
// an SQL comment saying why it has no view instead. It fails at the first
// table whose definition fails.
func AthenaScript(tables []*Schema, o Options) (string, error) {
	db, err := CreateDatabaseDDL(o)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(db + ";\n")
	for _, s := range tables {
		ddl, err := CreateTableDDL(s, o)
		if err != nil {
			return "", err
		}
		b.WriteString("\n" + ddl + ";\n")
		view, err := LatestViewDDL(s, o)
		if st, ok := o.States[s.Table]; ok && err == nil {
			var state string
			if state, err = StateTableDDL(s, o); err == nil {
				b.WriteString("\n" + state + ";\n")
				view, err = LatestStateViewDDL(s, o, st)
			}
		}
		switch {
		case errors.Is(err, ErrNoKeys):
			b.WriteString("\n-- no " + LatestViewName(s.Table) + " view: " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n")
		case err != nil:
			return "", err
		default:
			b.WriteString("\n" + view + ";\n")
		}
	}
	return b.String(), nil
}
