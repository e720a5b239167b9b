// Command speed measures ddblake beside the naive baseline (package
// internal/naive: encoding/json into aws-lambda-go's event types, then
// parquet-go) in the same invocation, and prints CPU-based figures and
// their ratios:
//
//   - replay: `ddblake replay` of generated Lambda-sized stream events
//     (about 6 MB each) against the same files converted by the baseline
//     in a process of its own; MB of input per CPU second, CPU seconds,
//     peak RSS, and the Parquet bytes written;
//   - Lambda: one 6 MB event through the function's handler against the
//     baseline (go test -bench Handler6MB|Naive6MB in cmd/ddblake-lambda,
//     GOMAXPROCS=1): CPU ms per batch, bytes and allocations per batch.
//
// Figures are CPU time (user + system, the garbage collector's included),
// not wall time: on a shared machine wall time measures the neighbours.
// Each measurement is repeated (-runs) and printed as a range, min-max;
// the two paths run alternately so that both see the same load.
//
// Run it from the repository root (it builds ./cmd/ddblake and runs the
// benchmarks of ./cmd/ddblake-lambda):
//
//	go run ./bench/speed                  replay and Lambda figures
//	go run ./bench/speed -events 12       a larger replay (12 events)
//	go run ./bench/speed -lambda=false    the replay only
//
// Exit codes: 0 measured; 1 a run failed; 2 bad usage.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ddblake/ddblake/internal/benchproc"
	"github.com/ddblake/ddblake/internal/naive"
	"github.com/ddblake/ddblake/internal/sample"
)

// naiveEnv, when set in the environment, makes the command the baseline's
// replay of the directory it names (the child process measured).
const naiveEnv = "DDBLAKE_BENCH_NAIVE_DIR"

func main() {
	if dir := os.Getenv(naiveEnv); dir != "" {
		if err := naiveReplay(dir, os.Getenv(naiveEnv+"_OUT")); err != nil {
			fmt.Fprintln(os.Stderr, "speed: naive:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	events  int
	runs    int
	lambda  bool
	workdir string
	keep    bool
	ddblake string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("speed", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o options
	fl.IntVar(&o.events, "events", 6, "Lambda-sized events (about 6 MB each) the replay reads")
	fl.IntVar(&o.runs, "runs", 3, "runs of each measurement")
	fl.BoolVar(&o.lambda, "lambda", true, "also measure one 6 MB Lambda batch (go test -bench in cmd/ddblake-lambda)")
	fl.StringVar(&o.workdir, "workdir", "", "directory for the events, binaries and lakes (default: a new temporary directory)")
	fl.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fl.StringVar(&o.ddblake, "ddblake", "", "measure this ddblake binary instead of building one (e.g. an older build)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 || o.events < 1 || o.runs < 1 {
		fmt.Fprintln(stderr, "speed: no arguments are taken; -events and -runs are at least 1")
		return 2
	}
	if err := measure(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "speed:", err)
		return 1
	}
	return 0
}

// sample is one run's figures.
type sampleRun struct {
	cpu   time.Duration
	rss   int64
	bytes int64 // Parquet bytes written
}

func measure(ctx context.Context, o options, stdout, stderr io.Writer) error {
	work := o.workdir
	if work == "" {
		dir, err := os.MkdirTemp("", "ddblake-speed-")
		if err != nil {
			return err
		}
		work = dir
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	}
	events := filepath.Join(work, "events")
	inBytes, records, err := writeEvents(events, o.events)
	if err != nil {
		return err
	}
	bin := o.ddblake
	if bin == "" {
		bin = filepath.Join(work, "ddblake")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ddblake")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build ddblake: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "input: %d Lambda events, %d records, %.1f MB of stream records\n", o.events, records, float64(inBytes)/1e6)
	var ours, base []sampleRun
	for r := range o.runs {
		lake := filepath.Join(work, fmt.Sprintf("lake-%d", r))
		cmd := exec.CommandContext(ctx, bin, "replay", "--to", lake, events)
		var errBuf bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &errBuf
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("ddblake replay: %w\n%s", err, errBuf.String())
		}
		ours = append(ours, sampleRun{cpu: benchproc.CPU(cmd.ProcessState), rss: benchproc.PeakRSS(cmd.ProcessState), bytes: parquetBytes(lake)})
		_ = os.RemoveAll(lake)

		out := filepath.Join(work, fmt.Sprintf("naive-%d", r))
		cmd = exec.CommandContext(ctx, self)
		cmd.Env = append(os.Environ(), naiveEnv+"="+events, naiveEnv+"_OUT="+out)
		errBuf.Reset()
		cmd.Stdout, cmd.Stderr = io.Discard, &errBuf
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("naive replay: %w\n%s", err, errBuf.String())
		}
		base = append(base, sampleRun{cpu: benchproc.CPU(cmd.ProcessState), rss: benchproc.PeakRSS(cmd.ProcessState), bytes: parquetBytes(out)})
		_ = os.RemoveAll(out)
	}
	rate := func(s sampleRun) float64 { return float64(inBytes) / 1e6 / s.cpu.Seconds() }
	fmt.Fprintf(stdout, "replay (CPU time of the whole process, user+system; %d runs, min-max)\n", o.runs)
	fmt.Fprintf(stdout, "  ddblake   %s MB/cpu-s   %s cpu-s   peak RSS %s MiB   Parquet %s MB\n",
		span(ours, rate, "%.1f"), span(ours, cpuSecs, "%.2f"), span(ours, rssMiB, "%.0f"), span(ours, outMB, "%.2f"))
	fmt.Fprintf(stdout, "  naive     %s MB/cpu-s   %s cpu-s   peak RSS %s MiB   Parquet %s MB\n",
		span(base, rate, "%.1f"), span(base, cpuSecs, "%.2f"), span(base, rssMiB, "%.0f"), span(base, outMB, "%.2f"))
	var ratios []float64
	for i := range ours {
		ratios = append(ratios, base[i].cpu.Seconds()/ours[i].cpu.Seconds())
	}
	fmt.Fprintf(stdout, "  ratio     %s x less CPU than naive (run by run)\n", floatSpan(ratios, "%.1f"))
	if !o.lambda {
		return nil
	}
	return measureLambda(ctx, o, stdout, stderr)
}

// writeEvents writes n Lambda events of about 6 MB, each from its own
// sample seed, and returns the bytes of their records and their count.
func writeEvents(dir string, n int) (int64, int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	var size int64
	records := 0
	for i := range n {
		cfg := sample.DefaultConfig()
		cfg.Seed = int64(i + 1)
		g, err := sample.New(cfg)
		if err != nil {
			return 0, 0, err
		}
		ev, recs, err := g.LambdaEvent(6 << 20)
		if err != nil {
			return 0, 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("event-%02d.json", i)), ev, 0o644); err != nil {
			return 0, 0, err
		}
		size += int64(len(ev))
		records += recs
	}
	return size, records, nil
}

// naiveReplay converts every file of dir with the baseline, writing the
// Parquet files under out.
func naiveReplay(dir, out string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		payload, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		files, err := naive.Event(payload)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		for table, body := range files {
			p := filepath.Join(out, table, strings.TrimSuffix(e.Name(), ".json")+".parquet")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, body, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// parquetBytes sums the sizes of the .parquet files under dir.
func parquetBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			if info, ierr := d.Info(); ierr == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func cpuSecs(s sampleRun) float64 { return s.cpu.Seconds() }
func rssMiB(s sampleRun) float64  { return float64(s.rss) / (1 << 20) }
func outMB(s sampleRun) float64   { return float64(s.bytes) / 1e6 }

// span prints the range of f over runs.
func span(runs []sampleRun, f func(sampleRun) float64, format string) string {
	var vals []float64
	for _, r := range runs {
		vals = append(vals, f(r))
	}
	return floatSpan(vals, format)
}

func floatSpan(vals []float64, format string) string {
	lo, hi := slices.Min(vals), slices.Max(vals)
	if fmt.Sprintf(format, lo) == fmt.Sprintf(format, hi) {
		return fmt.Sprintf(format, lo)
	}
	return fmt.Sprintf(format+"-"+format, lo, hi)
}

// benchLine matches the metrics of one go test benchmark line.
var benchLine = regexp.MustCompile(`^Benchmark(Handler6MB|Naive6MB)\S*\s+\d+\s+(.*)$`)

// measureLambda runs the handler and baseline benchmarks, alternately,
// on one CPU, and prints their CPU ms, bytes and allocations per batch.
func measureLambda(ctx context.Context, o options, stdout, stderr io.Writer) error {
	metrics := map[string]map[string][]float64{}
	for range o.runs {
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^Benchmark(Handler6MB|Naive6MB)$",
			"-benchmem", "-benchtime", "10x", "-cpu", "1", "-count", "1", "./cmd/ddblake-lambda")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("lambda benchmarks: %w\n%s", err, out.String())
		}
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			m := benchLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			if metrics[m[1]] == nil {
				metrics[m[1]] = map[string][]float64{}
			}
			f := strings.Fields(m[2])
			for i := 0; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err == nil {
					metrics[m[1]][f[i+1]] = append(metrics[m[1]][f[i+1]], v)
				}
			}
		}
	}
	h, n := metrics["Handler6MB"], metrics["Naive6MB"]
	if len(h["cpu-ms/batch"]) == 0 || len(n["cpu-ms/batch"]) == 0 {
		return errors.New("lambda benchmarks: no cpu-ms/batch figures (getrusage unavailable?)")
	}
	fmt.Fprintf(stdout, "lambda, one 6 MB event (GOMAXPROCS=1, %d runs of 10 batches, min-max)\n", o.runs)
	for _, c := range []struct {
		name string
		m    map[string][]float64
	}{{"ddblake", h}, {"naive", n}} {
		fmt.Fprintf(stdout, "  %-8s  %s cpu-ms/batch   %s MB allocated/batch   %s allocs/batch\n", c.name,
			floatSpan(c.m["cpu-ms/batch"], "%.0f"), floatSpan(scale(c.m["B/op"], 1e-6), "%.1f"), floatSpan(c.m["allocs/op"], "%.0f"))
	}
	var ratios []float64
	for i := range min(len(h["cpu-ms/batch"]), len(n["cpu-ms/batch"])) {
		ratios = append(ratios, n["cpu-ms/batch"][i]/h["cpu-ms/batch"][i])
	}
	fmt.Fprintf(stdout, "  ratio     %s x less CPU than naive (run by run)\n", floatSpan(ratios, "%.1f"))
	return nil
}

func scale(v []float64, k float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * k
	}
	return out
}
