package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
)

// streamLine is one jsonl stream record of table in account/region, with
// the given NewImage (DynamoDB JSON) at second sec.
func streamLine(account, region, table string, seq, sec int, image string) string {
	return fmt.Sprintf(`{"eventID":"e%d","eventName":"INSERT","eventSource":"aws:dynamodb","awsRegion":%q,`+
		`"dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"id":{"S":"k%d"}},"NewImage":%s,"SequenceNumber":"%021d","StreamViewType":"NEW_IMAGE"},`+
		`"eventSourceARN":"arn:aws:dynamodb:%s:%s:table/%s/stream/2026-01-01T00:00:00.000"}`,
		seq, region, 1775001600+sec, seq, image, seq, region, account, table)
}

// writeLines writes lines as one jsonl file under dir and returns its path.
func writeLines(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return p
}

// TestRerunOverCompleteLake replays an input whose first batches hold
// NULLs, empty lists and empty maps of attributes that get a column only
// in a later batch, then replays it again over the complete lake: the
// NULL rule keeps them in _extra both times, so the rerun writes the same
// bytes.
func TestRerunOverCompleteLake(t *testing.T) {
	in := t.TempDir()
	src := writeLines(t, in, "nulls.jsonl",
		streamLine("123456789012", "us-east-1", "chat-messages", 1, 0, `{"id":{"S":"k1"},"gone":{"NULL":true},"tags":{"L":[]},"m":{"M":{}}}`),
		streamLine("123456789012", "us-east-1", "chat-messages", 2, 1, `{"id":{"S":"k2"},"gone":{"S":"back"},"tags":{"L":[{"S":"a"}]},"m":{"M":{"k":{"S":"v"}}}}`),
		streamLine("123456789012", "us-east-1", "chat-messages", 3, 2, `{"id":{"S":"k3"},"gone":{"NULL":true}}`),
	)
	lake := t.TempDir()
	first := replayChunked(t, lake, nil, 1, src) // one record per batch
	require.Empty(t, first.WriteErrors)
	require.Equal(t, 3, first.Rows)
	files := laketest.Files(t, lake)
	again := replayChunked(t, lake, nil, 1, src)
	require.Empty(t, again.WriteErrors)
	require.Equal(t, files, laketest.Files(t, lake), "a rerun over the complete lake writes the same bytes")
}
