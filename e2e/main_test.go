package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/testbin"
)

// ddblakeBin is the ddblake binary built once by TestMain.
var ddblakeBin string

// repoRoot is the main module's directory (the parent of e2e/).
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(wd)
}()

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ddblake-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Built in the main module, as it builds it (with its go.sum), CGO-free
	// as the CLI is.
	ddblakeBin, err = testbin.Build(filepath.Join(dir, "ddblake"), repoRoot, "github.com/ddblake/ddblake/cmd/ddblake", []string{"CGO_ENABLED=0"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building ddblake: %v\n", err)
		return 1
	}
	return m.Run()
}

// fixture is a path under the repository's testdata/.
func fixture(parts ...string) string {
	return filepath.Join(append([]string{repoRoot, "testdata"}, parts...)...)
}

// result is what one run of the binary did.
type result struct {
	Code           int
	Stdout, Stderr string
}

// summaryRE matches the replay summary line; the groups are inputs,
// records, rows and tables.
var summaryRE = regexp.MustCompile(`(?m)^replayed ([\d,]+) inputs?: ([\d,]+) records? → ([\d,]+) rows? in ([\d,]+) tables?`)

// summary is the parsed summary line.
type summary struct {
	Line                            string
	Inputs, Records, Rows, Tables   int
	SetAside, Misfits, InputsBroken int
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	require.NoError(t, err)
	return n
}

// Summary parses the summary line of a replay's stderr.
func (r result) Summary(t *testing.T) summary {
	t.Helper()
	m := summaryRE.FindStringSubmatch(r.Stderr)
	require.NotNil(t, m, "no summary line in stderr:\n%s", r.Stderr)
	line := r.Stderr[strings.Index(r.Stderr, m[0]):]
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	s := summary{Line: line, Inputs: atoi(t, m[1]), Records: atoi(t, m[2]), Rows: atoi(t, m[3]), Tables: atoi(t, m[4])}
	if m := regexp.MustCompile(`; ([\d,]+) set aside`).FindStringSubmatch(line); m != nil {
		s.SetAside = atoi(t, m[1])
	}
	if m := regexp.MustCompile(`; ([\d,]+) values? [^;]*_extra`).FindStringSubmatch(line); m != nil {
		s.Misfits = atoi(t, m[1])
	}
	if m := regexp.MustCompile(`; ([\d,]+) inputs? not read to the end`).FindStringSubmatch(line); m != nil {
		s.InputsBroken = atoi(t, m[1])
	}
	return s
}

// ddblake runs the binary with args in dir (the working directory) and
// returns what it did. It fails the test if the binary does not end
// within a minute.
func ddblake(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ddblakeBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "ddblake %s timed out", strings.Join(args, " "))
	res := result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("ddblake %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("ddblake %s → exit %d\n%s", strings.Join(args, " "), res.Code, res.Stderr)
	return res
}

// replay runs `ddblake replay --to lake args...` and requires exit code
// want.
func replay(t *testing.T, lake string, want int, args ...string) result {
	t.Helper()
	res := ddblake(t, filepath.Dir(lake), append([]string{"replay", "--to", lake}, args...)...)
	require.Equal(t, want, res.Code, "exit code of replay %s; stderr:\n%s", strings.Join(args, " "), res.Stderr)
	return res
}
