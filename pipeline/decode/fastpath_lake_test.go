package decode_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/eventtest"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// lakeConfig has rules of every kind, so that the lakes compared hold
// masked, omitted, expanded, exploded, declared and routed values, and
// quarantine lines redacted by them.
const lakeConfig = `
tables:
  chat-messages:
    columns:
      price: decimal(12,2)
      readBy: map
    mask: [secret, sender.phone, body]
    omit: [debug]
    expand: [meta]
    explode: [attachments]
    routes:
      - {table: notices, attribute: sk, prefix: "NOTICE#"}
  chat-rooms:
    partition: hour
`

// lakeOf decodes each input with dec into one batch and processes it
// into a new lake under dir; it returns the lake's files by path.
func lakeOf(t *testing.T, dir string, dec *decode.Decoder, inputs [][]byte, format decode.Format) map[string][]byte {
	t.Helper()
	cfg, err := pipeline.ParseConfig([]byte(lakeConfig))
	require.NoError(t, err)
	require.NoError(t, cfg.SetMaskKey([]byte("fast-path-lake-test-mask-key")))
	store, err := localstore.New(dir)
	require.NoError(t, err)
	p := &pipeline.Processor{Config: cfg, Schemas: pipeline.NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: pipeline.NewLakeErrors(store)}
	ctx := context.Background()
	for i, in := range inputs {
		b := &pipeline.Batch{ID: "batch-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)}
		fn := func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
			if rerr != nil {
				b.Errors = append(b.Errors, rerr)
			} else {
				b.Records = append(b.Records, rec)
			}
			return nil
		}
		if format == "" {
			_ = dec.DecodeEvent(in, "event", fn)
		} else {
			_ = dec.Decode(ctx, bytes.NewReader(in), "in.json", format, fn)
		}
		_, err := p.Process(ctx, b)
		require.NoError(t, err)
	}
	files := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = b
		return err
	}))
	return files
}

// TestFastPathLakesMatch processes the same batches decoded by the fast
// path and by the parser path into two lakes, with rules of every kind,
// and requires the same files byte for byte: Parquet files, registry,
// and the quarantine's lines (reasons, positions and redacted bytes).
func TestFastPathLakesMatch(t *testing.T) {
	good := eventtest.Good(t)
	var elements []string
	for _, r := range decode.HostileRecords(t) {
		if len(r) < 1<<20 {
			elements = append(elements, r)
		}
	}
	var events, lines [][]byte
	for i := 0; i < len(elements); i += 16 {
		chunk := append([]string{good[0]}, elements[i:min(i+16, len(elements))]...)
		chunk = append(chunk, good[1], good[2])
		events = append(events, eventtest.Event(chunk...))
		lines = append(lines, []byte(strings.Join(chunk, "\n")))
	}
	exports := [][]byte{
		[]byte(`{"Item":{"roomId":{"S":"room-1"},"sk":{"S":"MSG#1"},"secret":{"S":"pw"},"readBy":{"M":{"u1":{"N":"1"},"u2":{"N":"2"}}}}}` + "\n" +
			`{"Item":{"roomId":{"S":"room-1"},"sk":{"S":"NOTICE#1"},"body":{"S":"\ud800"}}}` + "\n" + `{"Item":{"roomId":{"S":"room-1"},"debug":{"S":"x"},"meta":{"S":"{\"a\":{\"b\":1}}"}}}`),
	}
	for _, c := range []struct {
		name   string
		inputs [][]byte
		format decode.Format
		opts   decode.Options
	}{
		{"events", events, "", decode.Options{UnusedOldImages: true}},
		{"jsonl", lines, decode.FormatJSONL, decode.Options{}},
		{"export", exports, decode.FormatExport, decode.Options{Table: "chat-messages", ExportTime: time.Unix(1775001600, 0)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fast, err := decode.NewDecoder(c.opts)
			require.NoError(t, err)
			parser, err := decode.NewDecoder(c.opts)
			require.NoError(t, err)
			decode.ParserOnly(parser)
			want := lakeOf(t, t.TempDir(), parser, c.inputs, c.format)
			got := lakeOf(t, t.TempDir(), fast, c.inputs, c.format)
			require.Greater(t, len(want), 3, "a lake with files")
			quarantine := 0
			for path, b := range want {
				require.Contains(t, got, path)
				require.True(t, bytes.Equal(b, got[path]), "%s differs:\nparser: %s\nfast:   %s", path, clipped(b), clipped(got[path]))
				if strings.HasPrefix(path, "_errors") {
					quarantine++
				}
			}
			require.Len(t, got, len(want))
			if c.name != "export" {
				require.Positive(t, quarantine, "records set aside")
			}
		})
	}
}

func clipped(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}
