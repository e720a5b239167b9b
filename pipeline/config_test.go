package pipeline

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
defaults:
  omit: [debug]
  compression: snappy
tables:
  chat-messages:
    columns:
      price: decimal(12,2)
      payload: json
    omit: [sender.profile.tmp]
    mask: [sender.phone]
    expand: [meta]
    depth: 4
    partition: hour
    compression_level: 1
    target_file_size: 64MiB
    routes:
      - {table: messages, attribute: sk, prefix: "MSG#"}
  messages:
    columns: {price: "decimal(10,2)"}
`))
	require.NoError(t, err)
	m := c.Table("chat-messages")
	require.Equal(t, []string{"debug", "sender.profile.tmp"}, m.Omit)
	require.Equal(t, "decimal(12,2)", m.Columns["price"])
	require.Equal(t, "hour", m.Partition)
	require.Equal(t, "snappy", m.Compression)
	require.Equal(t, 1, m.Parquet().CompressionLevel)
	require.Equal(t, 0, c.Table("chat-rooms").Parquet().CompressionLevel, "the default level")
	require.Equal(t, ByteSize(64<<20), m.TargetFileSize)
	require.Equal(t, 4, m.Depth)
	require.Len(t, m.Routes, 1)

	other := c.Table("chat-rooms")
	require.Equal(t, []string{"debug"}, other.Omit)
	require.Equal(t, "day", other.Partition)
	require.Equal(t, DefaultTargetFileSize, other.TargetFileSize)

	var none *Config
	require.Equal(t, "zstd", none.Table("x").Compression)
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown top key", "tabels: {}\n", "tabels"},
		{"unknown table key", "tables:\n  t:\n    omitt: [a]\n", "omitt"},
		{"bad type", "tables:\n  t:\n    columns:\n      a: decimal(50,2)\n", "decimal(50,2)"},
		{"bad partition", "tables:\n  t:\n    partition: minute\n", "minute"},
		{"bad compression", "defaults:\n  compression: lz4\n", "lz4"},
		{"bad compression level", "defaults:\n  compression_level: 23\n", "compression_level 23"},
		{"bad size", "defaults:\n  target_file_size: huge\n", "huge"},
		{"tiny size", "defaults:\n  target_file_size: 10KiB\n", "1MiB"},
		{"bad route", "tables:\n  t:\n    routes: [{table: msgs, attribute: sk}]\n", "prefix"},
		{"not yaml", "tables: [\n", ""},
		{"bad quarantine mode", "quarantine: all\n", "quarantine"},
		{"key in the config", "mask_key: 0123456789abcdef0123\n", "DDBLAKE_MASK_KEY"},
		{"s3 key without a key", "mask_key: s3://bucket\n", "s3://bucket/key"},
		{"empty file path", "mask_key: file://\n", "file://PATH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml))
			require.ErrorIs(t, err, flatten.ErrBadConfig)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"128MiB": 128 << 20, "64MB": 64e6, "1GiB": 1 << 30, "512KiB": 512 << 10, "100": 100, " 2 MiB ": 2 << 20} {
		got, err := ParseByteSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ParseByteSize("-1")
	require.Error(t, err)
}

func TestMaskKeyConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte("mask_key: s3://b/k/mask.key\nquarantine: none\ntables:\n  t:\n    mask: [a]\n"))
	require.NoError(t, err)
	scheme, loc, err := ParseMaskKeySource(cfg.MaskKeySource)
	require.NoError(t, err)
	require.Equal(t, "s3", scheme)
	require.Equal(t, "b/k/mask.key", loc)
	require.Equal(t, QuarantineNone, cfg.QuarantineMode())
	require.True(t, cfg.Masks())
	require.Equal(t, QuarantineRedacted, (*Config)(nil).QuarantineMode())
	require.False(t, (*Config)(nil).Masks())

	require.ErrorIs(t, cfg.SetMaskKey([]byte(" short \n")), flatten.ErrBadConfig)
	require.NoError(t, cfg.SetMaskKey([]byte("  a key of sixteen+ bytes\n")))
	require.Equal(t, "a key of sixteen+ bytes", string(cfg.MaskKey), "white space around the key is not part of it")
	require.Equal(t, cfg.MaskKey, cfg.Table("t").MaskKey, "every table masks with the key")
	_, err = flatten.New(cfg.Table("t").TableConfig)
	require.NoError(t, err)
	_, err = flatten.New((&Config{Tables: cfg.Tables}).Table("t").TableConfig)
	require.ErrorIs(t, err, flatten.ErrNoMaskKey)
}
