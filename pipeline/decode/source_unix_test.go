//go:build unix

package decode

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPipeIsAStream: a source that is a pipe (a FIFO, /dev/stdin,
// bash's <(...), which names /dev/fd/63 every time) is read as a stream,
// whose batches are named by their content: as a file named by its path
// and size (0), two runs of other data through the same name would write
// the same objects, the second replacing the first run's rows.
func TestPipeIsAStream(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	ctx := context.Background()
	var r Resolver
	ins, err := r.Resolve(ctx, fifo)
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, InputStream, ins[0].Kind)
	require.Equal(t, int64(-1), ins[0].Size)

	line := []byte(streamRecord(nil, nil) + "\n")
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		_, _ = f.Write(append(line, line...))
		_ = f.Close()
	}()
	d, err := NewDecoder(Options{})
	require.NoError(t, err)
	n := 0
	require.NoError(t, d.DecodeInput(ctx, ins[0], FormatAuto, func(rec *ChangeRecord, rerr *RecordError) error {
		require.Nil(t, rerr)
		n++
		return nil
	}))
	require.Equal(t, 2, n)
}
