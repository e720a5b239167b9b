//go:build unix

package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
)

// The tests of this file check what a user reads on the terminal against
// what the lake holds, with the built binary.

// summaryFigures is what a replay's summary line says it wrote.
type summaryFigures struct {
	records, rows, files int
}

var figuresRE = regexp.MustCompile(`: ([\d,]+) records? → ([\d,]+) rows? in [\d,]+ tables?(?: \([^)]*\))?, ([\d,]+) files?, `)

func figures(t *testing.T, stderr string) summaryFigures {
	t.Helper()
	line, _, _ := strings.Cut(stderr, "\n")
	m := figuresRE.FindStringSubmatch(line)
	require.NotNil(t, m, "summary line: %q", line)
	n := func(s string) int {
		v, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
		require.NoError(t, err)
		return v
	}
	return summaryFigures{records: n(m[1]), rows: n(m[2]), files: n(m[3])}
}

// lakeFigures counts the data files of the lake, the rows they hold, and
// the files its partitions' manifests list (what a query reads).
func lakeFigures(t *testing.T, lake string) (rows, files, listed int) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(lake, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != lake {
			return filepath.SkipDir
		}
		switch {
		case strings.HasSuffix(p, ".parquet") && !strings.Contains(p, "/_ddblake/"):
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			rows += len(laketest.RowStrings(t, b))
			files++
		case d.Name() == "manifest" && strings.Contains(p, "_symlink_format_manifest"):
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			listed += len(strings.Fields(string(b)))
		}
		return nil
	}))
	return rows, files, listed
}

// copyFile copies src to dst, making dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	require.NoError(t, os.WriteFile(dst, b, 0o644))
}

// TestDuplicateInputs gives the same data several times (a file twice, a
// folder and a file inside it, a link to a file, an export folder and a
// data file of the export): each is read once, the summary says how many
// duplicates were skipped and names them, and its figures are what the
// lake holds, the lake of a run given each input once.
func TestDuplicateInputs(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	in := filepath.Join(work, "in")
	copyFile(t, "../../testdata/sample/lambda/chat-messages/shard-0/001.json", filepath.Join(in, "streams", "001.json"))
	copyFile(t, "../../testdata/sample/lambda/chat-messages/shard-0/002.json", filepath.Join(in, "streams", "002.json"))
	require.NoError(t, filepath.WalkDir("../../testdata/sample/export/chat-rooms", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("../../testdata/sample/export/chat-rooms", p)
		copyFile(t, p, filepath.Join(in, "export", rel))
		return nil
	}))
	require.NoError(t, os.Symlink(filepath.Join(in, "streams", "001.json"), filepath.Join(work, "link.json")))
	var dataFile string
	require.NoError(t, filepath.WalkDir(filepath.Join(in, "export"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && dataFile == "" && strings.HasSuffix(p, ".gz") && strings.Contains(p, "/data/") {
			dataFile = p
		}
		return err
	}))
	require.NotEmpty(t, dataFile)

	clean := filepath.Join(work, "clean")
	once := ddblake(t, nil, "replay", "--to", clean, filepath.Join(in, "streams"), filepath.Join(in, "export"))
	require.Equal(t, 0, once.code, once.stderr)
	require.NotContains(t, once.stderr, "skipped")

	lake := filepath.Join(work, "lake")
	file := filepath.Join(in, "streams", "001.json")
	r := ddblake(t, nil, "replay", "--to", lake,
		file, file, // the same file twice
		filepath.Join(in, "streams"), // the folder holding it
		filepath.Join(work, "link.json"),
		dataFile, // a data file of the export given next
		filepath.Join(in, "export"))
	require.Equal(t, 0, r.code, "duplicates are no error: %s", r.stderr)
	line, _, _ := strings.Cut(r.stderr, "\n")
	require.Contains(t, line, "replayed 3 inputs (4 duplicates skipped: the same data given twice): ")
	require.Contains(t, r.stderr, "  skipped: "+file+": the same data as "+file+", read once\n")
	require.Contains(t, r.stderr, "  skipped: "+filepath.Join(work, "link.json")+": the same data as "+file+", read once\n")
	require.Contains(t, r.stderr, "  skipped: "+dataFile+": part of the export ")

	got := figures(t, r.stderr)
	require.Equal(t, figures(t, once.stderr), got, "the figures of a run given each input once")
	rows, files, listed := lakeFigures(t, lake)
	require.Equal(t, summaryFigures{records: got.records, rows: rows, files: files}, got, "the summary says what the lake holds")
	require.Equal(t, files, listed, "every file written is listed once in a manifest")
	require.Equal(t, laketest.Files(t, clean), laketest.Files(t, lake))
}

// TestInterruptedReplay interrupts a replay (SIGINT) once one input is
// finished and another is being read: the run says once that it was
// interrupted, which inputs it finished and that a rerun completes it,
// with no context error per input; the finished input's rows are in the
// lake, and the rerun gives the lake of an uninterrupted run.
func TestInterruptedReplay(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	first := filepath.Join(work, "first.jsonl")
	var a, b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&a, `{"eventID":"a%d","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:us-east-1:111111111111:table/notes/stream/x",`+
			`"dynamodb":{"ApproximateCreationDateTime":1775001600,"Keys":{"id":{"S":"a%d"}},"NewImage":{"id":{"S":"a%d"},"n":{"N":"%d"}},"SequenceNumber":"%d"}}`+"\n", i, i, i, i, 100+i)
		fmt.Fprintf(&b, `{"eventID":"b%d","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:us-east-1:111111111111:table/notes/stream/x",`+
			`"dynamodb":{"ApproximateCreationDateTime":1775088000,"Keys":{"id":{"S":"b%d"}},"NewImage":{"id":{"S":"b%d"},"n":{"N":"%d"}},"SequenceNumber":"%d"}}`+"\n", i, i, i, i, 200+i)
	}
	require.NoError(t, os.WriteFile(first, []byte(a.String()), 0o644))

	lake := filepath.Join(work, "lake")
	// Standard input is the second input, fed a line at a time for as
	// long as the replay runs, so it is always being read: one batch of
	// up to 1 GiB, which an interrupted read never sends.
	cmd := exec.Command(binary(t), "replay", "--chunk-size", "1GiB", "--to", lake, first, "-")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	go func() {
		line := []byte(strings.SplitAfter(b.String(), "\n")[0])
		for {
			if _, err := stdin.Write(line); err != nil {
				return // the replay has ended
			}
			time.Sleep(time.Millisecond) // pacing only: the input never ends
		}
	}()

	// The first input's one file in place means its batch is written:
	// nothing after the rename can fail it.
	for {
		if ents, _ := os.ReadDir(filepath.Join(lake, "notes", "dt=2026-04-01")); len(ents) > 0 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the replay ended before it was interrupted: %v\n%s", err, stderr.String())
		case <-time.After(5 * time.Millisecond): // polls another process's files
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err = <-exited
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 1, ee.ExitCode())

	out := stderr.String()
	t.Logf("%s", out)
	require.Equal(t, 1, strings.Count(out, "interrupted"), "said once")
	require.NotContains(t, out, "context canceled")
	require.NotContains(t, out, "input error")
	require.True(t, strings.HasPrefix(out, "replayed 1 of 2 inputs to the end: 30 records → 30 rows in 1 table (notes 30), 1 file, "), out)
	require.Contains(t, out, "\n  finished: "+first+"\n")
	require.Contains(t, out, "\nddblake: interrupted (interrupt signal received): run the same command again to complete the replay")
	rows, files, listed := lakeFigures(t, lake)
	require.Equal(t, []int{30, 1, 1}, []int{rows, files, listed}, "the finished input is in the lake, listed in its manifest")

	// The rerun completes it: the lake of an uninterrupted run.
	rerun := exec.Command(binary(t), "replay", "--to", lake, first, "-")
	rerun.Stdin = strings.NewReader(b.String())
	outb, err := rerun.CombinedOutput()
	require.NoError(t, err, "%s", outb)
	clean := filepath.Join(work, "clean")
	once := exec.Command(binary(t), "replay", "--to", clean, first, "-")
	once.Stdin = strings.NewReader(b.String())
	outb, err = once.CombinedOutput()
	require.NoError(t, err, "%s", outb)
	require.Equal(t, laketest.Files(t, clean), laketest.Files(t, lake))
}

// TestSetAsideOneForm replays records set aside by the decoder and by the
// processor, from event documents (one record a line, and all on one
// line) and JSON lines: every set-aside line names the record in one
// form, "line L" and, for an element of an event's Records, ": record I".
func TestSetAsideOneForm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := func(id, account, image string) string {
		return fmt.Sprintf(`{"eventID":"%s","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:us-east-1:%s:table/notes/stream/x",`+
			`"dynamodb":{"ApproximateCreationDateTime":1775001600,"Keys":{"id":{"S":"%s"}},"NewImage":%s,"SequenceNumber":"1%s"}}`, id, account, id, image, strings.TrimLeft(id, "abcdefghijklmnopqrstuvwxyz"))
	}
	good := func(id string) string { return fmt.Sprintf(`{"id":{"S":"%s"}}`, id) }
	bad := func(id string) string { return fmt.Sprintf(`{"id":{"S":"%s"},"n":{"N":"x1"}}`, id) }
	const home, other = "111111111111", "222222222222"
	// All on one line: Records[1] (bad value, the decoder) and Records[2]
	// (another account, the processor) both start on line 1.
	oneLine := `{"Records":[` + rec("a0", home, good("a0")) + "," + rec("a1", home, bad("a1")) + "," + rec("a2", other, good("a2")) + `]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a-one-line.json"), []byte(oneLine), 0o644))
	lines := strings.Join([]string{rec("b0", home, good("b0")), rec("b1", home, bad("b1")), rec("b2", other, good("b2"))}, "\n") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(lines), 0o644))
	pretty := "{\n  \"Records\": [\n    " + rec("c0", home, good("c0")) + ",\n    " + rec("c1", other, good("c1")) + ",\n    " + rec("c2", home, bad("c2")) + "\n  ]\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c-pretty.json"), []byte(pretty), 0o644))

	r := ddblake(t, nil, "replay", "--to", filepath.Join(t.TempDir(), "lake"), dir)
	require.Equal(t, 3, r.code, r.stderr)
	var aside []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if s, ok := strings.CutPrefix(l, "  set aside: "); ok {
			s = strings.TrimPrefix(s, dir+string(filepath.Separator))
			file, rest, _ := strings.Cut(s, ": ")
			place := regexp.MustCompile(`^line \d+(: record \d+)?`).FindString(rest)
			aside = append(aside, file+": "+place)
		}
	}
	require.ElementsMatch(t, []string{
		"a-one-line.json: line 1: record 1", "a-one-line.json: line 1: record 2",
		"b.jsonl: line 2", "b.jsonl: line 3",
		"c-pretty.json: line 4: record 1", "c-pretty.json: line 5: record 2",
	}, aside, r.stderr)
	require.NotContains(t, r.stderr, "(line")
}
