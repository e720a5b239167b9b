package sink

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ddblake/ddblake/schemas"
)

// Fixed directories of the lake, relative to its root.
const (
	// ErrorsDir holds the quarantine: records set aside, with the reason.
	ErrorsDir = "_errors"
	// MetaDir holds ddblake's own state.
	MetaDir = "_ddblake"
	// SchemasPrefix is where the schema registry keeps one JSON per table.
	SchemasPrefix = MetaDir + "/schemas/"
	// UnknownTable is the quarantine folder of records with no valid table.
	UnknownTable = "_unknown"
	// InputsDir is the quarantine folder listing the inputs that could not
	// be read to the end, one JSON-lines file per input.
	InputsDir = "_inputs"
)

// MaxObjectNameLen is the longest object name (without extension) that
// the layout accepts, leaving room for the extension in a 255-byte file
// name.
const MaxObjectNameLen = 240

// validTableName reports whether table is 1-255 bytes of [a-z0-9_]. A
// loop, not a regular expression: `[a-z0-9_]{1,255}` compiles into 255
// copies of its class, a millisecond of every Lambda cold start.
func validTableName(table string) bool {
	if len(table) == 0 || len(table) > 255 {
		return false
	}
	for i := 0; i < len(table); i++ {
		if c := table[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

var (
	objectName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
)

// dayText reports whether s is written YYYY-MM-DD (digits and dashes).
func dayText(s string) bool {
	if len(s) != len("2006-01-02") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidateTable reports whether table may name a lake table: 1-255 bytes
// of [a-z0-9_], and not one of the lake's own folders (_errors, _ddblake,
// _unknown). The error wraps ErrBadName.
func ValidateTable(table string) error {
	if !validTableName(table) {
		return fmt.Errorf("%w: table %q: want 1-255 characters of [a-z0-9_]", ErrBadName, table)
	}
	switch table {
	case ErrorsDir, MetaDir, UnknownTable, InputsDir:
		return fmt.Errorf("%w: table %q is reserved for the lake's own folders", ErrBadName, table)
	}
	return nil
}

// ValidateName reports whether name may name an object (before its
// extension): 1-240 bytes of [A-Za-z0-9._-], starting with a letter, digit
// or '_', with no "..". The error wraps ErrBadName.
func ValidateName(name string) error {
	if len(name) == 0 || len(name) > MaxObjectNameLen || !objectName.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("%w: object name %q: want 1-%d characters of [A-Za-z0-9._-], no '..'", ErrBadName, name, MaxObjectNameLen)
	}
	return nil
}

// Partition is the Hive-style partition of a row: its day (dt) and, for
// hourly tables, its hour (hr).
type Partition struct {
	// Day is YYYY-MM-DD (UTC).
	Day string
	// Hour is HH (UTC), or "" for tables partitioned by day only.
	Hour string
}

// PartitionOf returns the partition of an event time in Unix milliseconds:
// its UTC day, and its UTC hour when hourly.
func PartitionOf(eventTimeMillis int64, hourly bool) Partition {
	t := time.UnixMilli(eventTimeMillis).UTC()
	p := Partition{Day: t.Format(time.DateOnly)}
	if hourly {
		p.Hour = fmt.Sprintf("%02d", t.Hour())
	}
	return p
}

// Partitions is PartitionOf for a run of event times, most of them of
// the partition of the one before: it formats a partition once per run
// of such times, not once per time. The zero value is ready to use.
type Partitions struct {
	ok     bool
	hourly bool
	span   int64 // the partition's position: days or hours since 1970
	p      Partition
	valid  error // p.Validate()
}

// Of returns PartitionOf(eventTimeMillis, hourly) and its Validate error.
func (c *Partitions) Of(eventTimeMillis int64, hourly bool) (Partition, error) {
	unit := int64(24 * time.Hour / time.Millisecond)
	if hourly {
		unit = int64(time.Hour / time.Millisecond)
	}
	span := eventTimeMillis / unit
	if eventTimeMillis%unit < 0 {
		span--
	}
	if !c.ok || c.hourly != hourly || c.span != span {
		p := PartitionOf(eventTimeMillis, hourly)
		*c = Partitions{ok: true, hourly: hourly, span: span, p: p, valid: p.Validate()}
	}
	return c.p, c.valid
}

// Validate reports whether p is a real date (years 0000-9999) and an hour
// 00-23 or empty. The error wraps ErrBadName.
func (p Partition) Validate() error {
	if !dayText(p.Day) {
		return fmt.Errorf("%w: partition day %q: want YYYY-MM-DD", ErrBadName, p.Day)
	}
	if _, err := time.Parse(time.DateOnly, p.Day); err != nil {
		return fmt.Errorf("%w: partition day %q: %v", ErrBadName, p.Day, err)
	}
	if p.Hour != "" {
		h, err := strconv.Atoi(p.Hour)
		if err != nil || len(p.Hour) != 2 || h < 0 || h > 23 {
			return fmt.Errorf("%w: partition hour %q: want 00-23", ErrBadName, p.Hour)
		}
	}
	return nil
}

// Path is the partition's folder: "dt=2026-04-01" or "dt=2026-04-01/hr=07".
func (p Partition) Path() string {
	if p.Hour == "" {
		return schemas.PartitionDay + "=" + p.Day
	}
	return schemas.PartitionDay + "=" + p.Day + "/" + schemas.PartitionHour + "=" + p.Hour
}

// String is Path.
func (p Partition) String() string { return p.Path() }

// DataKey is the key of a data file: <table>/dt=YYYY-MM-DD[/hr=HH]/<name>.parquet.
// It fails with ErrBadName when any part would not be a clean name.
func DataKey(table string, p Partition, name string) (string, error) {
	if err := ValidateTable(table); err != nil {
		return "", err
	}
	if err := p.Validate(); err != nil {
		return "", err
	}
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return table + "/" + p.Path() + "/" + name + ".parquet", nil
}

// TablePrefix is the prefix of every data file of table: "<table>/".
func TablePrefix(table string) (string, error) {
	if err := ValidateTable(table); err != nil {
		return "", err
	}
	return table + "/", nil
}

// QuarantineKey is the key of a quarantine file:
// _errors/<table>/dt=YYYY-MM-DD/<name>.jsonl. A table that is empty or not
// a valid lake table name is filed under _unknown, so a bad table name
// never becomes a path. It fails with ErrBadName for a bad day or name.
func QuarantineKey(table, day, name string) (string, error) {
	if ValidateTable(table) != nil {
		table = UnknownTable
	}
	p := Partition{Day: day}
	if err := p.Validate(); err != nil {
		return "", err
	}
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return ErrorsDir + "/" + table + "/" + p.Path() + "/" + name + ".jsonl", nil
}

// InputErrorKey is the key of the quarantine file that lists where one
// input could not be read: _errors/_inputs/<name>.jsonl.
func InputErrorKey(name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return ErrorsDir + "/" + InputsDir + "/" + name + ".jsonl", nil
}

// SchemaKey is the registry key of table: _ddblake/schemas/<table>.json.
func SchemaKey(table string) (string, error) {
	if err := ValidateTable(table); err != nil {
		return "", err
	}
	return SchemasPrefix + table + ".json", nil
}

// ReplayBatchID names the chunk'th chunk of a replayed input. source is
// the input's identity (an absolute path or s3:// URI), size its length in
// bytes and etag its S3 ETag or content hash, either may be zero; the same
// input and chunk always give the same ID, so a rerun overwrites its files
// instead of adding new ones. The ID starts with a readable stem of the
// source's base name, then a hash of the identity.
func ReplayBatchID(source string, size int64, etag string, chunk int) string {
	h := sha256.New()
	fmt.Fprintf(h, "replay\x00%s\x00%d\x00%s", source, size, etag)
	base := source
	if i := strings.LastIndexAny(base, "/\\"); i >= 0 {
		base = base[i+1:]
	}
	return fmt.Sprintf("%s-%s-c%06d", nameStem(base, 64, "input"), hex.EncodeToString(h.Sum(nil))[:16], chunk)
}

// ReplayInputOf returns the part of a replayed file's key that names its
// input, "<stem>-<hash>" of ReplayBatchID, so that the files of one input
// are known whatever chunks and parts they hold; ok is false for keys not
// named by ReplayBatchID and FileName.
func ReplayInputOf(key string) (input string, ok bool) {
	name := strings.TrimSuffix(key[strings.LastIndexByte(key, '/')+1:], ".parquet")
	i := strings.LastIndexByte(name, '-') // before the part
	if i < 0 || !allDigits(name[i+1:]) {
		return "", false
	}
	name = name[:i]
	j := strings.LastIndexByte(name, '-') // before the chunk
	if j < 0 || len(name)-j < 3 || name[j+1] != 'c' || !allDigits(name[j+2:]) {
		return "", false
	}
	name = name[:j]
	k := strings.LastIndexByte(name, '-') // before the hash
	if k < 1 || len(name)-k-1 != 16 || strings.Trim(name[k+1:], "0123456789abcdef") != "" {
		return "", false
	}
	return name, true
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// LambdaBatchID names one Lambda batch from its event source ARN (the
// DynamoDB or Kinesis stream), shard and the batch's first and last
// sequence numbers; a retried batch gets the same ID.
func LambdaBatchID(streamARN, shard, firstSeq, lastSeq string) string {
	h := sha256.Sum256([]byte("lambda\x00" + streamARN))
	return fmt.Sprintf("%s-%s-%s-%s", hex.EncodeToString(h[:])[:12],
		nameStem(shard, 64, "shard"), nameStem(firstSeq, 56, "0"), nameStem(lastSeq, 56, "0"))
}

// FileName is the object name of the part'th file a batch writes into one
// table partition: "<batch>-<part, 4 digits>".
func FileName(batchID string, part int) string {
	return fmt.Sprintf("%s-%04d", batchID, part)
}

// nameStem maps s to [A-Za-z0-9._-] (others become '_'), without "..",
// starting with a letter, digit or '_', at most max bytes; empty gives def.
func nameStem(s string, max int, def string) string {
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		c := s[i]
		switch {
		case isLeadChar(c) || c == '-':
		case c == '.' && len(b) > 0 && b[len(b)-1] != '.':
		default:
			c = '_'
		}
		b = append(b, c)
	}
	if len(b) == 0 {
		return def
	}
	if !isLeadChar(b[0]) {
		b[0] = '_'
	}
	return string(b)
}
