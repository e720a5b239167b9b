package deploy

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline"
)

// TestConfigExample parses the example with the parser the CLI and the
// Lambda use (strict: unknown keys fail) and checks that it says what its
// comments say.
func TestConfigExample(t *testing.T) {
	data, err := os.ReadFile("config.example.yaml")
	require.NoError(t, err)
	cfg, err := pipeline.ParseConfig(data)
	require.NoError(t, err)

	app := cfg.Table("chat-app")
	require.Len(t, app.Routes, 3)
	require.Equal(t, []pipeline.SourceRule{{Account: "111111111111", Region: "ap-northeast-2"}, {Account: "111111111111", Region: "us-west-2"}}, app.Sources)
	item := func(sk string) []flatten.Attr {
		return []flatten.Attr{
			{Name: "pk", Value: flatten.Value{Kind: flatten.S, S: "ROOM#r1"}},
			{Name: "sk", Value: flatten.Value{Kind: flatten.S, S: sk}},
		}
	}
	for sk, want := range map[string]string{
		"MSG#2026-04-01T12:00:00Z#m1": "chat_messages",
		"MEMBER#u1":                   "chat_members",
		"ROOM":                        "chat_rooms",
		"ROOMS":                       "", // equals, not prefix
		"INVITE#u2":                   "",
	} {
		require.Equal(t, want, app.Route(item(sk)), sk)
	}

	msgs := cfg.Table("chat_messages")
	require.Equal(t, "hour", msgs.Partition)
	require.Equal(t, "decimal(12,2)", msgs.Columns["tip.amount"])
	require.Equal(t, "zstd", msgs.Compression, "from the defaults")
	require.Contains(t, msgs.Mask, "*.email", "the defaults' mask is kept")
	require.Contains(t, msgs.Mask, "sender.phone")
	require.Equal(t, 4, msgs.Depth)

	members := cfg.Table("chat_members")
	require.Equal(t, "snappy", members.Compression)
	require.Equal(t, pipeline.ByteSize(32<<20), members.TargetFileSize)
	require.Equal(t, "day", members.Partition)

	require.Equal(t, "file://mask.key", cfg.MaskKeySource)
	require.Equal(t, pipeline.QuarantineRedacted, cfg.QuarantineMode())
	require.True(t, cfg.Masks(), "the example masks, so it needs its key")

	for name := range cfg.Tables {
		require.NoError(t, cfg.Table(name).TableConfig.Validate(), name)
	}
}
