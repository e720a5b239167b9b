package cli_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
	"github.com/ddblake/ddblake/internal/s3test"
)

// watchedReader is a standard input that notes whether it was read.
type watchedReader struct {
	r    io.Reader
	read atomic.Bool
}

func (w *watchedReader) Read(p []byte) (int, error) {
	w.read.Store(true)
	return w.r.Read(p)
}

// replayStdin runs replay of standard input (a stream file) and reports
// whether the input was read.
func replayStdin(t *testing.T, args ...string) (result, bool) {
	t.Helper()
	data, err := os.ReadFile(fixture("inputs", "lambda", "chat_stream.json"))
	require.NoError(t, err)
	in := &watchedReader{r: bytes.NewReader(data)}
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), append(append([]string{"replay"}, args...), "-"), in, &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}, in.read.Load()
}

// silentS3 points the AWS environment at an endpoint that accepts
// connections, reads the requests and never answers, and returns its URL.
func silentS3(t *testing.T) string {
	t.Helper()
	url := s3test.Silent(t)
	fakeS3(t) // the rest of the environment
	t.Setenv("AWS_ENDPOINT_URL_S3", url)
	return url
}

// requireOneLine checks that a run stopped with exit 1 and one line
// holding want, before reading its input.
func requireOneLine(t *testing.T, r result, read bool, want ...string) {
	t.Helper()
	require.Equal(t, cli.ExitFailed, r.code, r.stderr)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	require.True(t, strings.HasPrefix(r.stderr, "ddblake: replay: cannot write the lake "), r.stderr)
	for _, w := range want {
		require.Contains(t, r.stderr, w)
	}
	require.False(t, read, "stopped before reading the input")
}

// TestReplaySilentS3: a lake on an endpoint that accepts connections and
// never answers ends the replay with exit 1 and one line naming the
// endpoint, after the bounded attempts, before any input is read.
func TestReplaySilentS3(t *testing.T) {
	url := silentS3(t)
	r, read := replayStdin(t, "--aws-timeout", "200ms", "--aws-attempts", "2", "--to", "s3://lake/ddb")
	requireOneLine(t, r, read, "s3://lake/ddb", "no answer from "+url, "2 attempts of 200ms each")

	t.Run("bounds from the environment", func(t *testing.T) {
		t.Setenv(cli.EnvAWSTimeout, "150ms")
		t.Setenv(cli.EnvAWSAttempts, "1")
		r, read := replayStdin(t, "--to", "s3://lake/ddb")
		requireOneLine(t, r, read, "no answer from "+url, "1 attempts of 150ms each")
	})
	t.Run("bad bounds", func(t *testing.T) {
		r, _ := replayStdin(t, "--aws-attempts", "50", "--to", "s3://lake/ddb")
		require.Equal(t, cli.ExitUsage, r.code, r.stderr)
		t.Setenv(cli.EnvAWSTimeout, "soon")
		r, _ = replayStdin(t, "--to", "s3://lake/ddb")
		require.Equal(t, cli.ExitUsage, r.code, r.stderr)
		require.Contains(t, r.stderr, cli.EnvAWSTimeout)
	})
}

// TestReplayProbesTheLake: a lake that cannot be written stops the replay
// with exit 1 and one line saying why, before any input is read.
func TestReplayProbesTheLake(t *testing.T) {
	t.Run("bucket does not exist", func(t *testing.T) {
		fakeS3(t, "other")
		r, read := replayStdin(t, "--to", "s3://missing/ddb")
		requireOneLine(t, r, read, "s3://missing/ddb", "the bucket does not exist")
	})
	t.Run("no credentials", func(t *testing.T) {
		fakeS3(t, "lake")
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		r, read := replayStdin(t, "--to", "s3://lake/ddb")
		requireOneLine(t, r, read, "no AWS credentials found")
	})
	t.Run("connection refused", func(t *testing.T) {
		fakeS3(t, "lake")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		url := "http://" + ln.Addr().String()
		require.NoError(t, ln.Close())
		t.Setenv("AWS_ENDPOINT_URL_S3", url)
		r, read := replayStdin(t, "--to", "s3://lake/ddb")
		requireOneLine(t, r, read, "cannot connect to "+url)
	})
	t.Run("read-only directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "lake")
		require.NoError(t, os.Mkdir(dir, 0o555))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		if f, err := os.Create(filepath.Join(dir, "x")); err == nil {
			_ = f.Close()
			t.Skip("this user writes into read-only directories (root): run the test as another user")
		}
		r, read := replayStdin(t, "--to", dir)
		requireOneLine(t, r, read, dir, "permission denied")
	})
	t.Run("the probe leaves nothing", func(t *testing.T) {
		backend := fakeS3(t, "lake")
		r, _ := replayStdin(t, "--to", "s3://lake/ddb")
		require.Equal(t, cli.ExitOK, r.code, r.stderr)
		for key := range objects(t, backend, "lake") {
			require.NotContains(t, key, "probe")
		}
	})
}

// TestReplayWriteErrorsSaidOnce: batches that all fail for one reason
// (here the registry's folder is a file) give the summary line, then one
// line for the reason, counting the others, with no prefix doubled.
func TestReplayWriteErrorsSaidOnce(t *testing.T) {
	lake := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(lake, "_ddblake"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(lake, "_ddblake", "schemas"), []byte("not a folder"), 0o644))
	r := ddblake(t, "", "replay", "--to", lake, "--chunk-size", "2KiB", fixture("inputs", "lambda", "chat_stream.json"), fixture("inputs", "lambda", "new_image.json"))
	require.Equal(t, cli.ExitFailed, r.code, r.stderr)
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	require.True(t, strings.HasPrefix(lines[0], "replayed 2 inputs: "), "the summary line comes first: %q", lines[0])
	require.Contains(t, lines[0], "not written")
	var writeLines []string
	for _, l := range lines[1:] {
		if strings.Contains(l, "write error: ") {
			writeLines = append(writeLines, l)
		}
	}
	require.Len(t, writeLines, 1, "one line for one reason: %q", r.stderr)
	require.Regexp(t, `mkdirat _ddblake/schemas: file exists \.\.\. and \d+ more like it$`, writeLines[0])
	require.NotContains(t, r.stderr, "registry: registry:")
}
