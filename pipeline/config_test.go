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
		{"bad size", "defaults:\n  target_file_size: huge\n", "huge"},
		{"tiny size", "defaults:\n  target_file_size: 10KiB\n", "1MiB"},
		{"bad route", "tables:\n  t:\n    routes: [{table: msgs, attribute: sk}]\n", "prefix"},
		{"not yaml", "tables: [\n", ""},
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
