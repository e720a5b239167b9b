// Command replay1gib measures `ddblake replay` on a large full export: it
// generates the export with ddblake-sample (1 GiB of uncompressed DynamoDB
// JSON by default), builds ddblake, replays the export into a temporary
// lake, and prints the throughput (uncompressed input bytes per second of
// wall time) and the peak resident memory of the ddblake process. It fails
// (exit 1) when the replay fails, loses rows, or its peak RSS reaches the
// limit (512 MiB by default).
//
//	go run ./bench/replay1gib                      generate, build, replay, report
//	go run ./bench/replay1gib -export /tmp/big     reuse an export generated before
//	go run ./bench/replay1gib -profile /tmp/prof   also replay in process and write heap profiles
//
// bench/replay-1gib.sh runs it from the repository root.
//
// Exit codes: 0 within limits; 1 failed or over the limit; 2 bad usage.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ddblake/ddblake/internal/benchproc"
	"github.com/ddblake/ddblake/internal/sample"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command line.
type options struct {
	size    string
	export  string
	workdir string
	keep    bool
	maxRSS  int64
	profile string
	args    []string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("replay1gib", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o options
	var maxRSS string
	fl.StringVar(&o.size, "size", "1GiB", "uncompressed size of the generated export")
	fl.StringVar(&o.export, "export", "", "replay this export directory instead of generating one")
	fl.StringVar(&o.workdir, "workdir", "", "directory for the export, the binary and the lake (default: a new temporary directory)")
	fl.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fl.StringVar(&maxRSS, "max-rss", "512MiB", "fail when the replay's peak RSS reaches this")
	fl.StringVar(&o.profile, "profile", "", "after the measured run, replay again in this process and write heap profiles at the heap's peaks into this directory")
	extra := fl.String("args", "", "extra arguments for ddblake replay, space-separated (e.g. --config F)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintln(stderr, "replay1gib: no arguments are taken")
		return 2
	}
	n, err := sample.ParseSize(maxRSS)
	if err != nil {
		fmt.Fprintf(stderr, "replay1gib: -max-rss: %v\n", err)
		return 2
	}
	o.maxRSS = n
	o.args = strings.Fields(*extra)
	if err := bench(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "replay1gib: %v\n", err)
		return 1
	}
	return 0
}

// report is what one measured replay did.
type report struct {
	InputBytes int64
	Items      int64
	Wall       time.Duration
	PeakRSS    int64
	Summary    string
	Rows       int64
	LakeBytes  int64
	LakeFiles  int
}

func bench(ctx context.Context, o options, stdout, stderr io.Writer) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	work := o.workdir
	if work == "" {
		if work, err = os.MkdirTemp("", "ddblake-bench-"); err != nil {
			return err
		}
	}
	if !o.keep {
		defer os.RemoveAll(work)
	} else {
		fmt.Fprintf(stderr, "work directory: %s\n", work)
	}

	export := o.export
	if export == "" {
		out := filepath.Join(work, "export")
		fmt.Fprintf(stderr, "generating a %s export with ddblake-sample...\n", o.size)
		gen := exec.CommandContext(ctx, "go", "run", "./cmd/ddblake-sample", "-export-size", o.size, "-out", out)
		gen.Dir, gen.Stdout, gen.Stderr = root, stderr, stderr
		if err := gen.Run(); err != nil {
			return fmt.Errorf("ddblake-sample: %w", err)
		}
		export = out
	}
	dir, err := exportDir(export)
	if err != nil {
		return err
	}

	bin := filepath.Join(work, "ddblake")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ddblake")
	build.Dir, build.Stdout, build.Stderr = root, stderr, stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		return fmt.Errorf("building ddblake: %w", err)
	}

	in, items, err := measureExport(dir)
	if err != nil {
		return err
	}
	lake := filepath.Join(work, "lake")
	if err := os.RemoveAll(lake); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "replaying %s (%.1f MiB uncompressed, %d items)...\n", dir, float64(in)/(1<<20), items)
	rep, err := measureReplay(ctx, bin, lake, dir, o.args, stderr)
	if err != nil {
		return err
	}
	rep.InputBytes, rep.Items = in, items
	rep.LakeFiles, rep.LakeBytes, err = dirSize(lake)
	if err != nil {
		return err
	}
	printReport(stdout, rep, o.maxRSS)

	if o.profile != "" {
		if err := os.RemoveAll(lake); err != nil {
			return err
		}
		if err := profileReplay(ctx, o.profile, lake, dir, stderr); err != nil {
			return fmt.Errorf("in-process profile: %w", err)
		}
	}

	var problems []string
	if rep.Rows != items {
		problems = append(problems, fmt.Sprintf("%d rows for %d items", rep.Rows, items))
	}
	if rep.PeakRSS >= o.maxRSS {
		problems = append(problems, fmt.Sprintf("peak RSS %.1f MiB reaches the limit of %.0f MiB", mib(rep.PeakRSS), mib(o.maxRSS)))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// summaryRows reads the rows of the replay's summary line.
var summaryRows = regexp.MustCompile(`→ ([\d,]+) rows?`)

// measureReplay runs ddblake replay and measures its wall time and peak
// RSS.
func measureReplay(ctx context.Context, bin, lake, export string, extra []string, stderr io.Writer) (report, error) {
	args := append([]string{"replay", "--to", lake}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, export)...)
	var errBuf bytes.Buffer
	cmd.Stdout = stderr
	cmd.Stderr = io.MultiWriter(&errBuf, stderr)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var rep report
	rep.Wall = wall
	if cmd.ProcessState != nil {
		rep.PeakRSS = benchproc.PeakRSS(cmd.ProcessState)
	}
	if err != nil {
		return rep, fmt.Errorf("ddblake replay: %w", err)
	}
	for _, line := range strings.Split(errBuf.String(), "\n") {
		if strings.HasPrefix(line, "replayed ") {
			rep.Summary = line
		}
	}
	m := summaryRows.FindStringSubmatch(rep.Summary)
	if m == nil {
		return rep, fmt.Errorf("no summary line in ddblake's output")
	}
	rows, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
	if err != nil {
		return rep, err
	}
	rep.Rows = rows
	return rep, nil
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func printReport(w io.Writer, r report, limit int64) {
	secs := r.Wall.Seconds()
	fmt.Fprintf(w, "ddblake replay: %s\n", r.Summary)
	fmt.Fprintf(w, "input:      %d bytes uncompressed (%.1f MiB), %d items\n", r.InputBytes, mib(r.InputBytes), r.Items)
	fmt.Fprintf(w, "lake:       %d files, %.1f MiB\n", r.LakeFiles, mib(r.LakeBytes))
	fmt.Fprintf(w, "wall time:  %s\n", r.Wall.Round(time.Millisecond))
	fmt.Fprintf(w, "throughput: %.1f MB/s (%.1f MiB/s, %.0f items/s)\n", float64(r.InputBytes)/1e6/secs, mib(r.InputBytes)/secs, float64(r.Items)/secs)
	verdict := "ok"
	if r.PeakRSS >= limit {
		verdict = "OVER THE LIMIT"
	}
	fmt.Fprintf(w, "peak RSS:   %.1f MiB (limit %.0f MiB: %s)\n", mib(r.PeakRSS), mib(limit), verdict)
}

// moduleRoot is the directory of the main module (the repository).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from the ddblake repository (no go.mod found)")
	}
	return filepath.Dir(gomod), nil
}

// exportDir finds the export folder (the one holding manifest-summary.json)
// at or under dir.
func exportDir(dir string) (string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "manifest-summary.json" {
			found = append(found, filepath.Dir(p))
		}
		return err
	})
	if err != nil {
		return "", err
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%s: want one export (manifest-summary.json), found %d", dir, len(found))
	}
	return found[0], nil
}

// measureExport counts the uncompressed bytes and the items of an
// export's data files, as its manifest lists them.
func measureExport(dir string) (size, items int64, err error) {
	f, err := os.Open(filepath.Join(dir, "manifest-files.json"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var entry struct {
			ItemCount     int64  `json:"itemCount"`
			DataFileS3Key string `json:"dataFileS3Key"`
		}
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := json.Unmarshal(sc.Bytes(), &entry); err != nil {
			return 0, 0, fmt.Errorf("manifest-files.json: %w", err)
		}
		n, err := gunzippedSize(filepath.Join(dir, "data", filepath.Base(entry.DataFileS3Key)))
		if err != nil {
			return 0, 0, err
		}
		size += n
		items += entry.ItemCount
	}
	return size, items, sc.Err()
}

func gunzippedSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// dirSize counts the files and bytes under dir.
func dirSize(dir string) (files int, size int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		size += info.Size()
		return nil
	})
	return files, size, err
}
