package pipeline

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// Config is the optional YAML configuration: defaults for every table and
// rules per DynamoDB table name (or per logical table of a routing rule).
// Unknown keys are an error.
//
//	defaults:
//	  compression: zstd
//	tables:
//	  chat-messages:
//	    columns: {price: "decimal(12,2)", payload: json}
//	    omit: [debug]
//	    mask: [sender.phone]
//	    expand: [meta]
//	    max_columns: 1000
//	    partition: hour
//	    keys: [roomId, sk]
//	    routes:
//	      - {table: messages, attribute: sk, prefix: "MSG#"}
//	mask_key: file:///etc/ddblake/mask.key
//	quarantine: redacted
type Config struct {
	Defaults TableConfig            `yaml:"defaults,omitempty"`
	Tables   map[string]TableConfig `yaml:"tables,omitempty"`
	// MaskKeySource names where the mask key is: file://PATH (a path
	// relative to the configuration file, or absolute: file:///etc/k)
	// or s3://bucket/key. The key itself never is in the configuration;
	// the commands read it (or take DDBLAKE_MASK_KEY) into MaskKey.
	MaskKeySource string `yaml:"mask_key,omitempty"`
	// Quarantine says what the quarantine keeps of a record that cannot
	// be read far enough to apply the omit and mask rules: redacted (the
	// default: the reason, the position and the envelope fields read
	// before the break), raw (its bytes as read) or none (no bytes of any
	// record, only reasons and positions).
	Quarantine string `yaml:"quarantine,omitempty"`
	// MaskKey is the key of the masks (HMAC-SHA-256), set by the
	// commands; it is never read from or written to YAML.
	MaskKey []byte `yaml:"-"`
}

// Quarantine modes (Config.Quarantine).
const (
	QuarantineRedacted = "redacted"
	QuarantineRaw      = "raw"
	QuarantineNone     = "none"
)

// TableConfig holds the rules of one table: flattening, partitioning,
// compression and file size.
type TableConfig struct {
	flatten.TableConfig `yaml:",inline"`
	// Partition is "day" (dt=, the default) or "hour" (dt=/hr=).
	Partition string `yaml:"partition,omitempty"`
	// Compression is zstd (default), snappy, gzip or none.
	Compression string `yaml:"compression,omitempty"`
	// CompressionLevel is the zstd level, as zstd numbers them (1 fastest
	// ... 22 smallest, mapped to the encoder's four speeds: 1, 2-5, 6-9,
	// 10 and up); 0 keeps the default, 3.
	CompressionLevel int `yaml:"compression_level,omitempty"`
	// TargetFileSize bounds Parquet files: "128MiB" (default), "64MB", bytes.
	TargetFileSize ByteSize `yaml:"target_file_size,omitempty"`
	// Keys names the table's key attributes (hash, then range) for the
	// registry and the _latest view, for inputs that carry none (full
	// exports); stream records' Keys are used otherwise.
	Keys []string `yaml:"keys,omitempty"`
	// Sources lists the accounts and regions whose records of this
	// DynamoDB table the lake takes, and where each goes: the records of
	// every source without As share the table's lake table (a global
	// table's regions); a source with As gets a lake table of its own.
	// Records of a source not listed are set aside (ErrOtherSource).
	// Empty: the first source seen keeps the lake table, and the records
	// of any other are set aside.
	Sources []SourceRule `yaml:"sources,omitempty"`
}

// SourceRule matches the records of one AWS account (and region) of a
// DynamoDB table.
type SourceRule struct {
	// Account is the 12-digit AWS account id.
	Account string `yaml:"account"`
	// Region is a region name; empty matches every region.
	Region string `yaml:"region,omitempty"`
	// As, when set, takes the records as those of the DynamoDB table so
	// named: its own lake table (TableName(As), with a collision suffix
	// when taken) and its rules (its tables: entry when it has one, else
	// the rules of the table the records came from). It keeps dev and
	// prod, or two customers' accounts, apart.
	As string `yaml:"as,omitempty"`
}

// matches reports whether the rule takes src.
func (r SourceRule) matches(src schemas.Source) bool {
	return r.Account == src.Account && (r.Region == "" || r.Region == src.Region)
}

// String is "account 123456789012 region us-east-1" or "account
// 123456789012 (every region)".
func (r SourceRule) String() string {
	if r.Region == "" {
		return "account " + r.Account + " (every region)"
	}
	return "account " + r.Account + " region " + r.Region
}

// Defaults for TableConfig fields left empty.
const (
	DefaultPartition      = "day"
	DefaultCompression    = "zstd"
	DefaultTargetFileSize = ByteSize(128 << 20)
)

// ByteSize is a size in bytes, written in YAML as 134217728, "128MiB",
// "64MB", "512KiB" or "1GiB".
type ByteSize int64

// UnmarshalText reads a size.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText writes the size in bytes.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(strconv.FormatInt(int64(b), 10)), nil }

// ParseByteSize reads "128MiB", "64MB", "1GiB", "512KiB", "100B" or a number.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("%w: size %q: want a number of bytes or e.g. 128MiB", flatten.ErrBadConfig, s)
	}
	return ByteSize(n * mult), nil
}

// ParseConfig reads a YAML configuration and validates it. Unknown keys,
// bad types and bad values are errors wrapping flatten.ErrBadConfig, with
// the line where the YAML parser found them.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%w: %s", flatten.ErrBadConfig, yaml.FormatError(err, false, true))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks every table's rules, the quarantine mode, the mask
// key's source, and that sources are given only for DynamoDB tables (not
// in defaults, not for a logical table of a route).
func (c *Config) Validate() error {
	switch c.Quarantine {
	case "", QuarantineRedacted, QuarantineRaw, QuarantineNone:
	default:
		return fmt.Errorf("%w: quarantine %q: want redacted, raw or none", flatten.ErrBadConfig, c.Quarantine)
	}
	if c.MaskKeySource != "" {
		if _, _, err := ParseMaskKeySource(c.MaskKeySource); err != nil {
			return err
		}
	}
	if err := c.Defaults.Validate(); err != nil {
		return fmt.Errorf("defaults: %w", err)
	}
	if len(c.Defaults.Sources) > 0 {
		return fmt.Errorf("defaults: %w: sources belong to one DynamoDB table's entry", flatten.ErrBadConfig)
	}
	names := make([]string, 0, len(c.Tables))
	for n := range c.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	logical := map[string]string{} // logical table -> a table routing to it
	for _, n := range names {
		for _, r := range c.Tables[n].Routes {
			logical[r.Table] = n
		}
	}
	for _, n := range names {
		t := c.Tables[n]
		if err := t.Validate(); err != nil {
			return fmt.Errorf("tables.%s: %w", n, err)
		}
		if len(t.Sources) > 0 && !decode.ValidTableName(n) {
			return fmt.Errorf("tables.%s: %w: sources: %q is not a DynamoDB table name", n, flatten.ErrBadConfig, n)
		}
		if from, ok := logical[n]; ok && len(t.Sources) > 0 {
			return fmt.Errorf("tables.%s: %w: sources: %s is a logical table (routes of tables.%s); sources belong to the DynamoDB table", n, flatten.ErrBadConfig, n, from)
		}
		for i, r := range t.Sources {
			if r.As == n {
				return fmt.Errorf("tables.%s: %w: sources[%d]: as names the table itself; leave it out", n, flatten.ErrBadConfig, i)
			}
		}
	}
	return nil
}

// Validate checks the rules of one table.
func (t TableConfig) Validate() error {
	if err := t.TableConfig.Validate(); err != nil {
		return err
	}
	switch t.Partition {
	case "", "day", "hour":
	default:
		return fmt.Errorf("%w: partition %q: want day or hour", flatten.ErrBadConfig, t.Partition)
	}
	switch t.Compression {
	case "", "zstd", "snappy", "gzip", "none":
	default:
		return fmt.Errorf("%w: compression %q: want zstd, snappy, gzip or none", flatten.ErrBadConfig, t.Compression)
	}
	if t.CompressionLevel < 0 || t.CompressionLevel > 22 {
		return fmt.Errorf("%w: compression_level %d: want 1 to 22 (zstd)", flatten.ErrBadConfig, t.CompressionLevel)
	}
	if len(t.Keys) > 2 {
		return fmt.Errorf("%w: keys %v: a DynamoDB key has one or two attributes", flatten.ErrBadConfig, t.Keys)
	}
	for _, k := range t.Keys {
		if k == "" {
			return fmt.Errorf("%w: keys: empty attribute name", flatten.ErrBadConfig)
		}
	}
	if t.TargetFileSize != 0 && t.TargetFileSize < 1<<20 {
		return fmt.Errorf("%w: target_file_size %d: want at least 1MiB", flatten.ErrBadConfig, t.TargetFileSize)
	}
	for i, r := range t.Routes {
		if err := sink.ValidateTable(r.Table); err != nil {
			return fmt.Errorf("%w: routes[%d]: %v", flatten.ErrBadConfig, i, err)
		}
		if strings.HasSuffix(r.Table, schemas.LatestViewSuffix) {
			return fmt.Errorf("%w: routes[%d]: table %q: names ending in %s are the names of views", flatten.ErrBadConfig, i, r.Table, schemas.LatestViewSuffix)
		}
	}
	for i, r := range t.Sources {
		if !decode.ValidAccount(r.Account) {
			return fmt.Errorf("%w: sources[%d]: account %q: want the 12-digit AWS account id (quoted, so YAML keeps its leading zeros)", flatten.ErrBadConfig, i, r.Account)
		}
		if r.Region != "" && !decode.ValidRegion(r.Region) {
			return fmt.Errorf("%w: sources[%d]: region %q: want a region name such as us-east-1, or none for every region", flatten.ErrBadConfig, i, r.Region)
		}
		if r.As != "" && (!decode.ValidTableName(r.As) || flatten.TableName(r.As) == "") {
			return fmt.Errorf("%w: sources[%d]: as %q: want a DynamoDB table name (3-255 of a-z, A-Z, 0-9, _, - and .)", flatten.ErrBadConfig, i, r.As)
		}
		for j, o := range t.Sources[:i] {
			if o.Account == r.Account && (o.Region == "" || r.Region == "" || o.Region == r.Region) {
				return fmt.Errorf("%w: sources[%d]: %s is already matched by sources[%d] (%s)", flatten.ErrBadConfig, i, r, j, o)
			}
		}
	}
	return nil
}

// ParseMaskKeySource splits a mask_key value into its scheme, "file" or
// "s3", and the rest: the path, or bucket/key. Anything else is an error
// wrapping flatten.ErrBadConfig (the key itself does not belong in the
// configuration).
func ParseMaskKeySource(src string) (scheme, location string, err error) {
	if rest, ok := strings.CutPrefix(src, "file://"); ok && rest != "" {
		return "file", rest, nil
	}
	if rest, ok := strings.CutPrefix(src, "s3://"); ok {
		if bucket, key, _ := strings.Cut(rest, "/"); bucket != "" && key != "" {
			return "s3", rest, nil
		}
	}
	return "", "", fmt.Errorf("%w: mask_key: want file://PATH or s3://bucket/key, the place of the key (the key itself goes in DDBLAKE_MASK_KEY, never in the configuration)", flatten.ErrBadConfig)
}

// SetMaskKey sets MaskKey to key without the white space around it (a
// key file usually ends with a newline). A key shorter than
// flatten.MinMaskKeyBytes is an error wrapping flatten.ErrBadConfig that
// does not show the key.
func (c *Config) SetMaskKey(key []byte) error {
	key = bytes.TrimSpace(key)
	if len(key) < flatten.MinMaskKeyBytes {
		return fmt.Errorf("%w: the mask key has %d bytes, want at least %d (e.g. openssl rand -base64 32)", flatten.ErrBadConfig, len(key), flatten.MinMaskKeyBytes)
	}
	c.MaskKey = key
	return nil
}

// Masks reports whether any table has mask rules, which need MaskKey.
func (c *Config) Masks() bool {
	if c == nil {
		return false
	}
	if len(c.Defaults.Mask) > 0 {
		return true
	}
	for _, t := range c.Tables {
		if len(t.Mask) > 0 {
			return true
		}
	}
	return false
}

// QuarantineMode returns the quarantine mode, redacted by default.
func (c *Config) QuarantineMode() string {
	if c == nil || c.Quarantine == "" {
		return QuarantineRedacted
	}
	return c.Quarantine
}

// Table returns the rules for a table name (a DynamoDB table name, or a
// logical table of a routing rule): the defaults overlaid with the
// table's own entry, and every empty field filled with its default.
// A nil Config gives the defaults.
func (c *Config) Table(name string) TableConfig {
	var out TableConfig
	if c != nil {
		out = c.Defaults
		if t, ok := c.Tables[name]; ok {
			out = overlay(out, t)
		}
	}
	if out.Partition == "" {
		out.Partition = DefaultPartition
	}
	if out.Compression == "" {
		out.Compression = DefaultCompression
	}
	if out.TargetFileSize == 0 {
		out.TargetFileSize = DefaultTargetFileSize
	}
	if c != nil {
		out.MaskKey = c.MaskKey
	}
	return out
}

func overlay(base, t TableConfig) TableConfig {
	out := base
	if len(t.Columns) > 0 {
		out.Columns = map[string]string{}
		for k, v := range base.Columns {
			out.Columns[k] = v
		}
		for k, v := range t.Columns {
			out.Columns[k] = v
		}
	}
	out.Omit = append(append([]string(nil), base.Omit...), t.Omit...)
	out.Mask = append(append([]string(nil), base.Mask...), t.Mask...)
	out.Expand = append(append([]string(nil), base.Expand...), t.Expand...)
	out.Explode = append(append([]string(nil), base.Explode...), t.Explode...)
	out.Routes = t.Routes
	if t.Depth != 0 {
		out.Depth = t.Depth
	}
	if t.MaxColumns != 0 {
		out.MaxColumns = t.MaxColumns
	}
	if t.Partition != "" {
		out.Partition = t.Partition
	}
	if t.Compression != "" {
		out.Compression = t.Compression
	}
	if t.CompressionLevel != 0 {
		out.CompressionLevel = t.CompressionLevel
	}
	if t.TargetFileSize != 0 {
		out.TargetFileSize = t.TargetFileSize
	}
	if len(t.Keys) > 0 {
		out.Keys = t.Keys
	}
	out.Sources = t.Sources
	return out
}

// Parquet returns the encoder options of the table's rules.
func (t TableConfig) Parquet() sink.ParquetOptions {
	return sink.ParquetOptions{
		Compression:      sink.Compression(t.Compression),
		CompressionLevel: t.CompressionLevel,
		FileBytes:        int64(t.TargetFileSize),
	}
}

// hourly reports whether the table's rules partition it by hour.
func (t TableConfig) hourly() bool { return t.Partition == "hour" }
