// Command idmaps measures `ddblake replay` on chat messages whose readBy
// map is keyed by user ids: 50,000 items (by default) whose readBy maps
// hold 20,000 distinct user ids in all, against the same items without
// readBy, and against the same items with readBy flattened into a column
// per user id (what ddblake did before map columns, forced here with
// `columns: {readBy: flatten}` and a column cap above 20,000). For each it
// builds ddblake, replays the items into a new lake, and prints the data
// columns of the table, the throughput (uncompressed input bytes per
// second of wall time, and per CPU second), the peak resident memory of
// the ddblake process, and the size of the Athena CREATE TABLE statement
// (`ddl` fails when Athena would refuse it).
//
//	go run ./bench/idmaps                     50,000 items, 20,000 users
//	go run ./bench/idmaps -items 5000 -users 2000
//	go run ./bench/idmaps -skip-flattened     only the map and the no-map runs
//
// Exit codes: 0 measured; 1 a run failed or lost rows; 2 bad usage.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ddblake/ddblake/internal/benchproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command line.
type options struct {
	items, users  int
	workdir       string
	keep          bool
	skipFlattened bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("idmaps", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o options
	fl.IntVar(&o.items, "items", 50000, "chat messages to replay")
	fl.IntVar(&o.users, "users", 20000, "distinct user ids in the readBy maps, over all items")
	fl.StringVar(&o.workdir, "workdir", "", "directory for the inputs, the binary and the lakes (default: a new temporary directory)")
	fl.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fl.BoolVar(&o.skipFlattened, "skip-flattened", false, "skip the run that flattens readBy into a column per user")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 || o.items < 1 || o.users < 1 || o.users > o.items {
		fmt.Fprintln(stderr, "idmaps: want -items >= -users >= 1 and no arguments")
		return 2
	}
	if err := bench(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "idmaps: %v\n", err)
		return 1
	}
	return 0
}

// variant is one measured replay.
type variant struct {
	name    string
	input   string // file name under the work directory
	readBy  bool
	config  string // YAML, or "" for none
	columns int
	rows    int64
	inBytes int64
	wall    time.Duration
	cpu     time.Duration
	peakRSS int64
	ddl     string // CREATE TABLE size, or why ddl failed
}

func bench(ctx context.Context, o options, stdout, stderr io.Writer) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	work := o.workdir
	if work == "" {
		if work, err = os.MkdirTemp("", "ddblake-idmaps-"); err != nil {
			return err
		}
	}
	if !o.keep {
		defer os.RemoveAll(work)
	} else {
		fmt.Fprintf(stderr, "work directory: %s\n", work)
	}
	bin := filepath.Join(work, "ddblake")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ddblake")
	build.Dir, build.Stdout, build.Stderr = root, stderr, stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		return fmt.Errorf("building ddblake: %w", err)
	}

	variants := []*variant{
		{name: "readBy as a map column", input: "with-readby.jsonl", readBy: true},
		{name: "without readBy", input: "without-readby.jsonl"},
	}
	if !o.skipFlattened {
		variants = append(variants, &variant{name: "readBy flattened (before)", input: "with-readby.jsonl", readBy: true,
			config: fmt.Sprintf("tables:\n  chat-messages:\n    columns: {readBy: flatten}\n    max_columns: %d\n", o.users+1000)})
	}
	for _, v := range variants {
		path := filepath.Join(work, v.input)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if err := writeItems(path, o.items, o.users, v.readBy); err != nil {
				return err
			}
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		v.inBytes = st.Size()
		fmt.Fprintf(stderr, "replaying %s (%d items, %.1f MiB)...\n", v.name, o.items, mib(v.inBytes))
		if err := measure(ctx, bin, work, path, v); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		if v.rows != int64(o.items) {
			return fmt.Errorf("%s: %d rows for %d items", v.name, v.rows, o.items)
		}
	}
	fmt.Fprintf(stdout, "%d items, readBy keyed by %d distinct user ids in all\n", o.items, o.users)
	fmt.Fprintf(stdout, "%-28s %8s %10s %10s %12s %10s  %s\n", "", "columns", "wall", "MB/s", "MB/CPU-s", "peak RSS", "CREATE TABLE")
	for _, v := range variants {
		fmt.Fprintf(stdout, "%-28s %8d %10s %10.1f %12.1f %8.1f MiB  %s\n", v.name, v.columns, v.wall.Round(time.Millisecond),
			float64(v.inBytes)/1e6/v.wall.Seconds(), float64(v.inBytes)/1e6/v.cpu.Seconds(), mib(v.peakRSS), v.ddl)
	}
	return nil
}

var summaryRows = regexp.MustCompile(`→ ([\d,]+) rows?`)

// measure replays input into a new lake under work and fills v.
func measure(ctx context.Context, bin, work, input string, v *variant) error {
	lake := filepath.Join(work, "lake-"+strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(v.name))
	if err := os.RemoveAll(lake); err != nil {
		return err
	}
	args := []string{"replay", "--format", "jsonl", "--to", lake}
	if v.config != "" {
		cfg := filepath.Join(work, "config.yaml")
		if err := os.WriteFile(cfg, []byte(v.config), 0o644); err != nil {
			return err
		}
		args = append(args, "--config", cfg)
	}
	cmd := exec.CommandContext(ctx, bin, append(args, input)...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	start := time.Now()
	err := cmd.Run()
	v.wall = time.Since(start)
	v.cpu = benchproc.CPU(cmd.ProcessState)
	v.peakRSS = benchproc.PeakRSS(cmd.ProcessState)
	if err != nil {
		return fmt.Errorf("ddblake replay: %w\n%s", err, errBuf.String())
	}
	m := summaryRows.FindStringSubmatch(errBuf.String())
	if m == nil {
		return fmt.Errorf("no summary line:\n%s", errBuf.String())
	}
	if v.rows, err = strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64); err != nil {
		return err
	}
	reg, err := os.ReadFile(filepath.Join(lake, "_ddblake", "schemas", "chat_messages.json"))
	if err != nil {
		return err
	}
	var s struct {
		Columns []json.RawMessage `json:"columns"`
	}
	if err := json.Unmarshal(reg, &s); err != nil {
		return err
	}
	v.columns = len(s.Columns)

	ddl := exec.CommandContext(ctx, bin, "ddl", "--lake", lake, "--location", "s3://bench-bucket/lake")
	var out, derr bytes.Buffer
	ddl.Stdout, ddl.Stderr = &out, &derr
	if err := ddl.Run(); err != nil {
		v.ddl = "ddl fails: " + strings.TrimSpace(derr.String())
		return nil
	}
	for _, stmt := range strings.Split(out.String(), ";\n") {
		if strings.Contains(stmt, "CREATE EXTERNAL TABLE") {
			v.ddl = fmt.Sprintf("%d bytes", len(strings.TrimSpace(stmt)))
		}
	}
	return nil
}

// writeItems writes n chat messages as DynamoDB stream records (JSON
// lines). With readBy, message i is read by user i mod users and up to
// four others, so the maps hold every one of the users over all items.
func writeItems(path string, n, users int, readBy bool) error {
	rng := rand.New(rand.NewPCG(1, 2))
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	ids := make([]string, users)
	for i := range ids {
		b := []byte{'u'}
		for range 7 {
			b = append(b, alnum[rng.IntN(len(alnum))])
		}
		ids[i] = string(b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := &bytes.Buffer{}
	for i := range n {
		at := int64(1775001600000) + int64(i)*1000
		w.Reset()
		fmt.Fprintf(w, `{"eventID":"%032x","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"ap-northeast-2",`+
			`"dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"roomId":{"S":"room-%d"},"sk":{"S":"MSG#%08d"}},"NewImage":{`+
			`"roomId":{"S":"room-%d"},"sk":{"S":"MSG#%08d"},"type":{"S":"text"},"body":{"S":"message %d: see you at 7 near the station"},`+
			`"sender":{"M":{"userId":{"S":"%s"},"nickname":{"S":"nick%d"},"profile":{"M":{"region":{"S":"Seoul"},"mannerTemperature":{"N":"36.5"}}}}},`+
			`"createdAt":{"N":"%d"}`,
			i, at/1000, i%5000, i, i%5000, i, i, ids[i%users], i%users, at)
		if readBy {
			w.WriteString(`,"readBy":{"M":{`)
			fmt.Fprintf(w, `%q:{"N":"%d"}`, ids[i%users], at)
			seen := map[int]bool{i % users: true}
			for k := range rng.IntN(5) {
				u := rng.IntN(users)
				if seen[u] {
					continue // a map holds a key once
				}
				seen[u] = true
				fmt.Fprintf(w, `,%q:{"N":"%d"}`, ids[u], at+int64(k+1)*1000)
			}
			w.WriteString(`}}`)
		}
		fmt.Fprintf(w, `},"SequenceNumber":"%021d","StreamViewType":"NEW_AND_OLD_IMAGES"},`+
			`"eventSourceARN":"arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/stream/2026-01-01T00:00:00.000"}`+"\n", 100000+i)
		if _, err := f.Write(w.Bytes()); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

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
