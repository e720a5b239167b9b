package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/internal/testbin"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/manifest"
	"github.com/ddblake/ddblake/sink/s3store"
)

// The backfill test runs the Lambda bootstrap under the Runtime Interface
// Emulator as the backfill state machine runs it (deploy/backfill.yaml):
// plan, map batches, finish, against an S3 server in this process.

// rieInstall is how to get the emulator (make tools does).
const rieInstall = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// findRIE returns the emulator's path, or skips the test.
func findRIE(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Lambda Runtime Interface Emulator runs on Linux only")
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "aws-lambda-rie")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skipf("aws-lambda-rie not found in PATH or GOPATH/bin; install it with: %s", rieInstall)
	return ""
}

// buildBootstrap builds the function as Lambda runs it: linux, CGO off,
// -tags lambda.norpc.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	out, err := testbin.Build(filepath.Join(t.TempDir(), "bootstrap"), repoRoot, "./cmd/ddblake-lambda",
		[]string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + runtime.GOARCH}, "-tags", "lambda.norpc", "-trimpath")
	require.NoError(t, err, "build bootstrap")
	return out
}

// holdS3 is the fake S3's hook: the first data-file PUT into the lake
// whose key contains one of keys is held until release is closed (the
// test kills the function meanwhile), then answered 503.
type holdS3 struct {
	mu      sync.Mutex
	keys    []string
	held    chan struct{} // closed when a PUT is held
	release chan struct{}
}

func (h *holdS3) arm(keys []string) (held, release chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keys, h.held, h.release = keys, make(chan struct{}), make(chan struct{})
	return h.held, h.release
}

func (h *holdS3) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		var held, release chan struct{}
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".parquet") && h.keys != nil {
			for _, k := range h.keys {
				if strings.Contains(r.URL.Path, k) {
					held, release, h.keys = h.held, h.release, nil
					break
				}
			}
		}
		h.mu.Unlock()
		if held != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			close(held)
			<-release
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// emulator is one aws-lambda-rie running the bootstrap: one Lambda
// instance, one invocation at a time.
type emulator struct {
	url string
	pid int
	out *bytes.Buffer
	mu  sync.Mutex
}

// startEmulator runs the bootstrap with the lake at s3://lake/<prefix>
// of the fake S3 at s3URL.
func startEmulator(t *testing.T, rie, bootstrap, s3URL, prefix string) *emulator {
	t.Helper()
	addr, runtimeAddr := freeAddr(t), freeAddr(t)
	e := &emulator{url: "http://" + addr + "/2015-03-31/functions/function/invocations", out: &bytes.Buffer{}}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", runtimeAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	home := t.TempDir()
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDTEST",
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_ENDPOINT_URL_S3=" + s3URL,
		"AWS_LAMBDA_FUNCTION_NAME=ddblake-backfill",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=300",
		"DDBLAKE_LAKE=s3://lake/" + prefix,
		"DDBLAKE_S3_PATH_STYLE=true",
	}
	w := &lockedWriter{e: e}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	e.pid = cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-e.pid, syscall.SIGKILL) // the group of the emulator this test started
		_ = cmd.Wait()
		if t.Failed() {
			e.mu.Lock()
			t.Logf("emulator %d output:\n%s", e.pid, e.out.String())
			e.mu.Unlock()
		}
	})
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}, 20*time.Second, 20*time.Millisecond, "the emulator listens")
	return e
}

type lockedWriter struct{ e *emulator }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.out.Write(p)
}

// kill ends the emulator and the function (kill -9 of the group).
func (e *emulator) kill() { _ = syscall.Kill(-e.pid, syscall.SIGKILL) }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// invoke posts a request; it returns the function's answer, or an error
// when the function reported one (its errorType) or the call broke.
func (e *emulator) invoke(payload []byte) ([]byte, error) {
	resp, err := http.Post(e.url, "application/json", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var fe struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" ||
		(json.Unmarshal(body, &fe) == nil && fe.ErrorType != "") {
		return nil, fmt.Errorf("function error %s: %s (HTTP %d)", fe.ErrorType, fe.ErrorMessage, resp.StatusCode)
	}
	return body, nil
}

// s3Lake is the fake S3 with the client the test reads it with.
type s3Lake struct {
	url    string
	client *s3.Client
	hold   *holdS3
}

func newS3Lake(t *testing.T, buckets ...string) *s3Lake {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		require.NoError(t, backend.CreateBucket(b))
	}
	hold := &holdS3{}
	srv := httptest.NewServer(hold.wrap(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()))
	t.Cleanup(srv.Close)
	client := s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	return &s3Lake{url: srv.URL, client: client, hold: hold}
}

// upload puts every file under dir into bucket under prefix.
func (l *s3Lake) upload(t *testing.T, dir, bucket, prefix string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		_, err = l.client.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(prefix + filepath.ToSlash(rel)), Body: bytes.NewReader(b),
		})
		return err
	})
	require.NoError(t, err)
}

func (l *s3Lake) store(t *testing.T, prefix string) sink.Store {
	t.Helper()
	st, err := s3store.New(l.client, "s3://lake/"+prefix, s3store.Options{})
	require.NoError(t, err)
	return st
}

// listedFiles downloads the files the manifests of every table of the
// lake at prefix list into a local folder, and returns it with the keys
// by table.
func (l *s3Lake) listedFiles(t *testing.T, prefix string) (string, map[string][]string) {
	t.Helper()
	ctx := context.Background()
	st := l.store(t, prefix)
	tables, err := sink.NewRegistry(st).Tables(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	dir := t.TempDir()
	out := map[string][]string{}
	for _, table := range tables {
		keys, unlisted, err := manifest.Files(ctx, st, table)
		require.NoError(t, err)
		require.Zero(t, unlisted, "%s: every data file written is listed", table)
		for _, k := range keys {
			b, err := st.Get(ctx, k)
			require.NoError(t, err)
			p := filepath.Join(dir, filepath.FromSlash(k))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}
		out[table] = keys
	}
	return dir, out
}

// listedRows reads the tables of a lake at prefix with DuckDB through
// their manifests: table to its rows as sorted text.
func (l *s3Lake) listedRows(t *testing.T, db *sql.DB, prefix string) (map[string][]string, map[string][]string) {
	t.Helper()
	dir, keys := l.listedFiles(t, prefix)
	out := map[string][]string{}
	for table, ks := range keys {
		if len(ks) == 0 {
			out[table] = nil
			continue
		}
		out[table] = relationRows(t, db, scanOf(dir, ks, false))
	}
	return out, keys
}

// TestBackfillUnderEmulator runs the backfill of an export of several
// data files as the state machine does, on three function instances
// under the emulator: the plan, the map batches in parallel (one batch
// run twice, one killed with SIGKILL while it writes and run again), the
// finish. The lake read back with DuckDB through its manifests holds what
// `ddblake replay` of the same export writes, row for row and file for
// file; the finish's counts add up to the export's itemCount; nothing of
// the killed batch is visible before its retry.
func TestBackfillUnderEmulator(t *testing.T) {
	rie := findRIE(t)
	bootstrap := buildBootstrap(t)
	ctx := context.Background()
	s3l := newS3Lake(t, "exports", "lake")

	g, err := sample.New(sample.DefaultConfig())
	require.NoError(t, err)
	exp, err := g.WriteLargeExport(ctx, t.TempDir(), sample.LargeExport{Size: 1 << 20, FileSize: 96 << 10})
	require.NoError(t, err)
	require.GreaterOrEqual(t, exp.Files, 8)
	s3l.upload(t, filepath.Dir(filepath.Dir(exp.Dir)), "exports", "backups/")
	exportURI := "s3://exports/backups/AWSDynamoDB/" + exp.ExportID + "/"

	// The plain replay of the export.
	replayCmd := exec.Command(ddblakeBin, "replay", "--to", "s3://lake/replayed", exportURI)
	replayCmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_ENDPOINT_URL_S3="+s3l.url, "DDBLAKE_S3_PATH_STYLE=true")
	msg, err := replayCmd.CombinedOutput()
	require.NoError(t, err, "ddblake replay: %s", msg)

	ems := make([]*emulator, 3)
	for i := range ems {
		ems[i] = startEmulator(t, rie, bootstrap, s3l.url, "backfilled")
	}

	// Plan: where the Map's ItemReader finds the data files.
	out, err := ems[0].invoke([]byte(`{"plan":{"export":"` + exportURI + `","lake":"s3://lake/backfilled"}}`))
	require.NoError(t, err)
	var plan struct {
		Export, Bucket, FilesKey string
		ItemCount                int64
	}
	require.NoError(t, json.Unmarshal(out, &plan))
	require.Equal(t, exportURI, plan.Export)
	require.Equal(t, "exports", plan.Bucket)
	require.Equal(t, "backups/AWSDynamoDB/"+exp.ExportID+"/manifest-files.json", plan.FilesKey)
	require.Equal(t, exp.Items, plan.ItemCount)
	obj, err := s3l.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &plan.Bucket, Key: &plan.FilesKey})
	require.NoError(t, err)
	listing, err := io.ReadAll(obj.Body)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(listing)), "\n")
	require.Len(t, lines, exp.Files)

	// The Map's batches: two data files each, as ItemBatcher hands them.
	type batch struct {
		payload []byte
		stems   []string // the data files' names, in object names
	}
	var batches []batch
	for i := 0; i < len(lines); i += 2 {
		items := lines[i:min(i+2, len(lines))]
		b := batch{payload: []byte(`{"Items":[` + strings.Join(items, ",") + `],"BatchInput":{"export":"` + plan.Export + `","lake":"s3://lake/backfilled"}}`)}
		for _, it := range items {
			var f struct{ DataFileS3Key string }
			require.NoError(t, json.Unmarshal([]byte(it), &f))
			b.stems = append(b.stems, filepath.Base(f.DataFileS3Key))
		}
		batches = append(batches, b)
	}

	// Batch 0 is killed while it writes its second data file.
	held, release := s3l.hold.arm(batches[0].stems[1:])
	killed := make(chan error, 1)
	go func() {
		_, err := ems[0].invoke(batches[0].payload)
		killed <- err
	}()
	<-held
	ems[0].kill()
	close(release)
	require.Error(t, <-killed, "the killed invocation gets no answer")
	lake := s3l.store(t, "backfilled")
	for _, table := range mustTables(t, lake) {
		keys, _, err := manifest.Files(ctx, lake, table)
		require.NoError(t, err)
		for _, k := range keys {
			for _, stem := range batches[0].stems {
				require.NotContains(t, k, stem, "a file of the killed batch is listed")
			}
		}
	}
	ems[0] = startEmulator(t, rie, bootstrap, s3l.url, "backfilled")

	// Every batch (the killed one again, batch 1 twice) on the three
	// instances at once.
	queue := make(chan batch)
	errs := make(chan error, len(batches)+1)
	var wg sync.WaitGroup
	for _, em := range ems {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range queue {
				out, err := em.invoke(b.payload)
				if err == nil {
					var res struct{ Records, DataFiles int }
					if err = json.Unmarshal(out, &res); err == nil && res.DataFiles != len(b.stems) {
						err = fmt.Errorf("batch of %v: result %s", b.stems, out)
					}
				}
				errs <- err
			}
		}()
	}
	for _, b := range append(batches, batches[1]) {
		queue <- b
	}
	close(queue)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	out, err = ems[1].invoke([]byte(`{"finish":{"export":"` + plan.Export + `","lake":"s3://lake/backfilled"}}`))
	require.NoError(t, err)
	var fin struct {
		ItemCount, Records, Rows, SetAside int64
		DataFiles, Written                 int
		DDL                                string
	}
	require.NoError(t, json.Unmarshal(out, &fin))
	require.Equal(t, exp.Items, fin.ItemCount)
	require.Equal(t, fin.ItemCount, fin.Records, "the counts add up to the export's itemCount")
	require.Equal(t, fin.Records, fin.Rows+fin.SetAside)
	require.Equal(t, exp.Files, fin.DataFiles)
	require.Equal(t, exp.Files, fin.Written)
	ddlKey, ok := strings.CutPrefix(fin.DDL, "s3://lake/backfilled/")
	require.True(t, ok, fin.DDL)
	ddl, err := lake.Get(ctx, ddlKey)
	require.NoError(t, err)
	require.Contains(t, string(ddl), "CREATE EXTERNAL TABLE IF NOT EXISTS `ddblake`.`chat_messages`")
	require.Contains(t, string(ddl), "s3://lake/backfilled/chat_messages/_symlink_format_manifest/")

	db := openDuck(t)
	want, wantKeys := s3l.listedRows(t, db, "replayed")
	got, gotKeys := s3l.listedRows(t, db, "backfilled")
	require.Equal(t, len(want["chat_messages"]), int(exp.Items))
	require.Equal(t, want, got, "row for row")
	// The backfill writes a file per batch, named after its data file, so
	// that any split of the data files writes the same objects; the
	// replay joins the export's batches into files of the target size.
	require.Len(t, gotKeys["chat_messages"], exp.Files)
	require.Len(t, wantKeys["chat_messages"], 1)
	for _, k := range gotKeys["chat_messages"] {
		require.Contains(t, k, ".json.gz-", "named after its data file")
	}
}

func mustTables(t *testing.T, st sink.Store) []string {
	t.Helper()
	tables, err := sink.NewRegistry(st).Tables(context.Background())
	require.NoError(t, err)
	return tables
}
