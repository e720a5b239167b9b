package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
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

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/proctest"
	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/internal/testbin"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/s3store"
)

// The tests in this file run the real bootstrap under the AWS Lambda
// Runtime Interface Emulator, writing to an S3 server (gofakes3) in this
// process.

// rieInstall is how to get the emulator.
const rieInstall = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// lakeBucket is the fake S3 bucket of the lakes.
const lakeBucket = "lake"

// findRIE returns the emulator's path, or skips the test.
func findRIE(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Lambda Runtime Interface Emulator runs on Linux only")
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command(goTool(), "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "aws-lambda-rie")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("aws-lambda-rie not found in PATH or GOPATH/bin; install it with: %s", rieInstall)
	return ""
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// buildBootstrap builds the function for this machine as Lambda runs it:
// linux, CGO off, -tags lambda.norpc.
func buildBootstrap(t testing.TB, dir string) string {
	t.Helper()
	out, err := testbin.Build(filepath.Join(dir, "bootstrap"), ".", ".",
		[]string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + runtime.GOARCH},
		"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w")
	require.NoError(t, err, "build bootstrap")
	return out
}

// s3Faults makes the fake S3 fail or stall the data-file PUTs of one
// table (or of every table when table is "").
type s3Faults struct {
	mu    sync.Mutex
	mode  string // "", "500" or "stall"
	table string
	hits  int
}

func (f *s3Faults) set(mode, table string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.table, f.hits = mode, table, 0
}

func (f *s3Faults) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// wrap is the fault middleware in front of the S3 handler.
func (f *s3Faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		mode := f.mode
		hit := mode != "" && r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".parquet") &&
			(f.table == "" || strings.Contains(r.URL.Path, "/"+f.table+"/"))
		if hit {
			f.hits++
		}
		f.mu.Unlock()
		switch {
		case hit && mode == "500":
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>`)
			return
		case hit && mode == "stall":
			// Hold the request until the client gives up; nothing is
			// stored. The body is read first, so that the server notices
			// the client closing the connection.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Minute):
			}
		}
		next.ServeHTTP(w, r)
	})
}

// fakeS3 is the S3 server the function writes to.
type fakeS3 struct {
	url    string
	client *s3.Client
	faults *s3Faults
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket(lakeBucket))
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	f := &fakeS3{faults: &s3Faults{}}
	srv := httptest.NewServer(f.faults.wrap(faker.Server()))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.client = s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	return f
}

// lake is the store of one lake prefix, read from the test's side.
func (f *fakeS3) lake(t *testing.T, prefix string) sink.Store {
	t.Helper()
	st, err := s3store.New(f.client, "s3://"+lakeBucket+"/"+prefix, s3store.Options{})
	require.NoError(t, err)
	return st
}

// emulator is one running aws-lambda-rie with the bootstrap.
type emulator struct {
	url     string
	out     *proctest.Output
	started time.Time
	invoked int // invocations answered
	pid     int // the emulator's process
}

// startEmulator runs the bootstrap under the emulator with the function
// writing to prefix of the fake S3; timeout is the function's timeout in
// seconds; env adds variables. The process is killed when the test ends.
func startEmulator(t testing.TB, rie, bootstrap string, s3srv *fakeS3, prefix string, timeout int, env ...string) *emulator {
	t.Helper()
	// Free ports for the invoke API and the Runtime API (whose default,
	// 9001, would keep two emulators from running at once).
	addr, runtimeAddr := freeAddr(t), freeAddr(t)
	e := &emulator{url: "http://" + addr + "/2015-03-31/functions/function/invocations", out: &proctest.Output{}}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", runtimeAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	home := t.TempDir()
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home, // no shared AWS config or credentials files
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDTEST",
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_ENDPOINT_URL_S3=" + s3srv.url,
		"AWS_LAMBDA_FUNCTION_NAME=ddblake-rie",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(timeout),
		EnvLake + "=s3://" + lakeBucket + "/" + prefix,
		EnvS3PathStyle + "=true",
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = e.out, e.out
	// Its own process group, so that the bootstrap it starts ends with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	e.started = time.Now()
	exited, err := proctest.Start(cmd)
	require.NoError(t, err)
	pid := cmd.Process.Pid
	e.pid = pid
	t.Cleanup(func() {
		// Only the group of the emulator this test started (pid above).
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("emulator %d output:\n%s", pid, e.out.String())
		}
	})
	// A generous bound: the wait ends as soon as the emulator listens, or
	// at once when it exits.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, proctest.WaitListening(ctx, addr, exited), "the emulator listens")
	return e
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// invoke posts an event and returns the function's answer.
func (e *emulator) invoke(t testing.TB, payload []byte) []byte {
	t.Helper()
	resp, err := http.Post(e.url, "application/json", bytes.NewReader(payload))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	e.invoked++
	return body
}

// emulatorLine is a line the emulator itself writes.
var emulatorLine = regexp.MustCompile(`^([0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:,]+ \[[A-Z]+\] \(rapid\)|(START|END|REPORT) RequestId: )`)

// summaries returns the function's summary lines so far, checking that
// the function wrote nothing else: a summary and a metrics line per
// invocation.
func (e *emulator) summaries(t *testing.T) []summary {
	t.Helper()
	// The emulator copies the function's output to its own after it has
	// answered the invocation: wait for a summary and a metrics line per
	// answered invocation, reading only complete lines. The wait wakes at
	// each write; its bound is for a function that never writes them.
	complete := func(out string) string { return out[:strings.LastIndexByte(out, '\n')+1] }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := e.out.Wait(ctx, func(out string) bool {
		return strings.Count(complete(out), "\n{") >= 2*e.invoked
	})
	out = complete(out)
	for _, line := range strings.Split(out, "\n") {
		if line != "" && !strings.HasPrefix(line, "{") {
			require.Regexp(t, emulatorLine, line, "the function writes JSON lines only")
		}
	}
	sums, mets := invocationLines(t, out)
	require.Len(t, mets, len(sums), "a metrics line with each summary")
	return sums
}

var (
	initReport   = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	initDuration = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)
)

func TestUnderEmulator(t *testing.T) {
	rie := findRIE(t)
	bootstrap := buildBootstrap(t, t.TempDir())
	s3srv := newFakeS3(t)

	t.Run("sample events land row for row", func(t *testing.T) {
		em := startEmulator(t, rie, bootstrap, s3srv, "samples", 30)
		lake := s3srv.lake(t, "samples")
		want := map[string][]wantRecord{} // by lake table
		for i, path := range sampleEvents {
			payload := readFile(t, path)
			t0 := time.Now()
			resp := em.invoke(t, payload)
			if i == 0 {
				t.Logf("cold start: %v from emulator start to the first answer, first invocation %v",
					time.Since(em.started).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
			}
			require.Empty(t, failures(t, resp), "%s: %s", path, resp)
			for _, w := range eventRecords(t, payload) {
				table := strings.ReplaceAll(w.Table, "-", "_")
				want[table] = append(want[table], w)
			}
		}
		out := em.out.String()
		if m := initReport.FindStringSubmatch(out); m != nil {
			t.Logf("emulator INIT REPORT durationMs: %s", m[1])
		}
		if m := initDuration.FindStringSubmatch(out); m != nil {
			t.Logf("emulator REPORT Init Duration: %s ms", m[1])
		}
		sums := em.summaries(t)
		require.Len(t, sums, len(sampleEvents), "one summary line per invocation")
		for _, s := range sums {
			require.NotEmpty(t, s.RequestID, "the request id reaches the summary")
			require.Equal(t, s.Records, s.Rows)
		}

		keys := map[string][]string{}
		for table, recs := range want {
			rows, k := lakeTable(t, lake, table)
			require.Equal(t, len(recs), requireRowsMatch(t, recs, recs[0].Table, rows))
			require.Len(t, rows, len(recs))
			keys[table] = k
		}

		// The same batch again overwrites its own objects.
		all := lakeKeys(t, lake)
		for _, path := range sampleEvents[:2] {
			require.Empty(t, failures(t, em.invoke(t, readFile(t, path))))
		}
		require.Equal(t, all, lakeKeys(t, lake), "a retried batch adds no object")
		for table, recs := range want {
			rows, k := lakeTable(t, lake, table)
			require.Len(t, rows, len(recs))
			require.Equal(t, keys[table], k)
		}
	})

	t.Run("bad records go to the quarantine", func(t *testing.T) {
		em := startEmulator(t, rie, bootstrap, s3srv, "bad", 30)
		lake := s3srv.lake(t, "bad")
		for _, path := range []string{"../../testdata/inputs/lambda/bad_records.json", "../../testdata/inputs/kinesis/bad.json"} {
			require.Empty(t, failures(t, em.invoke(t, readFile(t, path))), path)
		}
		aside := 0
		for _, s := range em.summaries(t) {
			require.NotZero(t, s.SetAside)
			aside += s.SetAside
		}
		objs, err := lake.List(context.Background(), sink.ErrorsDir+"/")
		require.NoError(t, err)
		lines := 0
		for _, o := range objs {
			body, err := lake.Get(context.Background(), o.Key)
			require.NoError(t, err)
			for _, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
				require.Contains(t, l, `"reason"`)
				lines++
			}
		}
		require.Equal(t, aside, lines, "every set-aside record is in the quarantine")
		for _, o := range lakeKeys(t, lake) {
			require.False(t, strings.Contains(o, ".."), o)
		}
	})

	t.Run("poison records in the middle of a batch fail nothing", func(t *testing.T) {
		em := startEmulator(t, rie, bootstrap, s3srv, "poison", 30)
		lake := s3srv.lake(t, "poison")
		payload, good, poison := poisonEvent(t, readFile(t, "../../testdata/sample/lambda/chat-messages/shard-0/001.json"))
		resp := em.invoke(t, payload)
		require.Empty(t, failures(t, resp), "no batchItemFailures: %s", resp)
		sums := em.summaries(t)
		require.Len(t, sums, 1)
		require.Equal(t, len(good)+poison.landed+poison.setAside, sums[0].Records)
		require.Equal(t, poison.setAside, sums[0].SetAside)
		require.Equal(t, len(good)+poison.landed, sums[0].Rows)
		rows, _ := lakeTable(t, lake, "chat_messages")
		require.Equal(t, len(good), requireRowsMatch(t, good, good[0].Table, rows), "every good record's row")
		require.Len(t, rows, len(good))
		objs, err := lake.List(context.Background(), sink.ErrorsDir+"/")
		require.NoError(t, err)
		lines := 0
		for _, o := range objs {
			body, err := lake.Get(context.Background(), o.Key)
			require.NoError(t, err)
			lines += strings.Count(string(body), "\n")
		}
		require.Equal(t, poison.setAside, lines, "the poison is in the quarantine")
	})

	t.Run("failed data PUTs are reported from the first undelivered record", func(t *testing.T) {
		em := startEmulator(t, rie, bootstrap, s3srv, "faults", 30)
		lake := s3srv.lake(t, "faults")
		payload := readFile(t, "../../testdata/sample/kinesis/001.json")
		recs := eventRecords(t, payload)
		other := -1
		for _, w := range recs {
			if w.Table != recs[0].Table {
				other = w.Index
				break
			}
		}
		require.Positive(t, other)
		firstTable := strings.ReplaceAll(recs[0].Table, "-", "_")
		otherTable := strings.ReplaceAll(recs[other].Table, "-", "_")

		s3srv.faults.set("500", otherTable)
		resp := em.invoke(t, payload)
		require.Equal(t, []string{recs[other].Sequence}, failures(t, resp))
		require.Positive(t, s3srv.faults.count())
		s3srv.faults.set("", "")

		// Nothing half-written: no object of the failed table, the other
		// table whole, and the registry holds both tables' schemas.
		for _, k := range lakeKeys(t, lake) {
			require.False(t, strings.HasPrefix(k, otherTable+"/"), k)
		}
		rows, firstKeys := lakeTable(t, lake, firstTable)
		require.Len(t, rows, requireRowsMatch(t, recs, recs[0].Table, rows))
		require.Len(t, rows, countTable(recs, recs[0].Table))
		requireRegistry(t, lake, firstTable, otherTable)

		// Lambda retries; now everything lands, under the same names.
		require.Empty(t, failures(t, em.invoke(t, payload)))
		rows, keys := lakeTable(t, lake, firstTable)
		require.Equal(t, firstKeys, keys)
		require.Len(t, rows, countTable(recs, recs[0].Table))
		rows, _ = lakeTable(t, lake, otherTable)
		require.Len(t, rows, requireRowsMatch(t, recs, recs[other].Table, rows))
	})

	t.Run("a stalled S3 stops before the deadline", func(t *testing.T) {
		const timeout = 3 // seconds; the default margin is 1s
		em := startEmulator(t, rie, bootstrap, s3srv, "stall", timeout)
		lake := s3srv.lake(t, "stall")
		payload := readFile(t, "../../testdata/sample/lambda/chat-rooms/shard-0/001.json")
		recs := eventRecords(t, payload)
		s3srv.faults.set("stall", "")
		defer s3srv.faults.set("", "")
		start := time.Now()
		resp := em.invoke(t, payload)
		elapsed := time.Since(start)
		require.Equal(t, []string{recs[0].Sequence}, failures(t, resp), "%s", resp)
		require.Less(t, elapsed, timeout*time.Second, "answered before the function timed out")
		sums := em.summaries(t)
		require.Len(t, sums, 1)
		require.True(t, sums[0].Deadline, "%+v", sums[0])
		require.Equal(t, len(recs), sums[0].FailedRecords)
		for _, k := range lakeKeys(t, lake) {
			require.False(t, strings.HasSuffix(k, ".parquet"), k)
		}
		requireRegistry(t, lake, "chat_rooms")
	})

	t.Run("configuration from the package and from S3", func(t *testing.T) {
		cfg := readFile(t, "../../testdata/lambda/ddblake.yaml")
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(bootstrap), "ddblake.yaml"), cfg, 0o644))
		_, err := s3srv.client.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(lakeBucket), Key: aws.String("config/ddblake.yaml"), Body: bytes.NewReader(cfg),
		})
		require.NoError(t, err)
		payload := readFile(t, "../../testdata/sample/lambda/chat-rooms/shard-0/001.json")
		for prefix, config := range map[string]string{
			"config-package": "ddblake.yaml",
			"config-s3":      "s3://" + lakeBucket + "/config/ddblake.yaml",
		} {
			em := startEmulator(t, rie, bootstrap, s3srv, prefix, 30, EnvConfig+"="+config)
			require.Empty(t, failures(t, em.invoke(t, payload)), config)
			require.Len(t, em.summaries(t), 1)
			requireConfigApplied(t, s3srv.lake(t, prefix))
		}
	})

	t.Run("masked and omitted values appear nowhere", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(bootstrap), "privacy.yaml"), []byte(laketest.PrivacyConfig), 0o644))
		em := startEmulator(t, rie, bootstrap, s3srv, "privacy", 30, EnvConfig+"=privacy.yaml", EnvMaskKey+"="+lambdaMaskKey)
		for _, payload := range [][]byte{laketest.PrivacyLambdaEvent(), laketest.PrivacyKinesisEvent()} {
			require.Empty(t, failures(t, em.invoke(t, payload)))
		}
		// Every object of the lake, copied out to be read back.
		lake, dir := s3srv.lake(t, "privacy"), t.TempDir()
		for _, k := range lakeKeys(t, lake) {
			body, err := lake.Get(context.Background(), k)
			require.NoError(t, err)
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, k)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, k), body, 0o644))
		}
		all := laketest.RequireHidden(t, dir, laketest.PrivacySecrets(), em.out.String())
		require.Contains(t, all, lambdaMask(laketest.SecretPhone))
		require.Contains(t, all, "alice-visible")
	})

	t.Run("no mask key: the init fails with one line", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "privacy.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte(laketest.PrivacyConfig), 0o644))
		cmd := exec.Command(bootstrap)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), EnvLake + "=" + t.TempDir(), EnvConfig + "=" + cfg}
		out, err := cmd.Output()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, 1, ee.ExitCode())
		var line struct{ Level, Msg, Error string }
		require.NoError(t, json.Unmarshal(bytes.TrimSpace(out), &line), "one JSON line: %s", out)
		require.Equal(t, "ERROR", line.Level)
		require.Equal(t, "init failed", line.Msg)
		require.Contains(t, line.Error, "mask rules need a mask key")
		require.Contains(t, line.Error, EnvMaskKey)
	})

	t.Run("a 6 MB batch", func(t *testing.T) {
		if testing.Short() {
			t.Skip("the 6 MB batch is skipped with -short")
		}
		g, err := sample.New(sample.DefaultConfig())
		require.NoError(t, err)
		payload, n, err := g.LambdaEvent(6 << 20)
		require.NoError(t, err)
		em := startEmulator(t, rie, bootstrap, s3srv, "big", 60)
		lake := s3srv.lake(t, "big")
		start := time.Now()
		require.Empty(t, failures(t, em.invoke(t, payload)))
		elapsed := time.Since(start)
		sums := em.summaries(t)
		require.Len(t, sums, 1)
		t.Logf("6 MB batch under the emulator: %d bytes, %d records, %d files, %d Parquet bytes; answer in %v, handler %d ms",
			len(payload), n, sums[0].Files, sums[0].Bytes, elapsed.Round(time.Millisecond), sums[0].DurationMS)
		require.Equal(t, n, sums[0].Rows)
		rows, _ := lakeTable(t, lake, "chat_messages")
		require.Len(t, rows, n)
	})
}

// poisonCounts says what the poison records of poisonEvent become.
type poisonCounts struct{ landed, setAside int }

// poisonEvent puts, in the middle of the records of a DynamoDB stream
// event, records that each used to fail the whole batch or be altered:
// event times at the first instant of year 10000 (integer and float
// seconds), a valid table name of 255 characters and one of 251 that
// grows past 255 when sanitized, a lone surrogate escape, a repeated
// eventName, an item over 400 KB. It returns the payload, the good
// records and what the poison becomes.
func poisonEvent(t *testing.T, payload []byte) ([]byte, []wantRecord, poisonCounts) {
	t.Helper()
	var doc struct{ Records []map[string]any }
	require.NoError(t, json.Unmarshal(payload, &doc))
	good := eventRecords(t, payload)
	clone := func(i int, seq string) map[string]any {
		b, err := json.Marshal(doc.Records[i])
		require.NoError(t, err)
		var r map[string]any
		require.NoError(t, json.Unmarshal(b, &r))
		r["eventID"] = "poison-" + seq
		r["dynamodb"].(map[string]any)["SequenceNumber"] = seq
		return r
	}
	ddb := func(r map[string]any) map[string]any { return r["dynamodb"].(map[string]any) }
	img := func(r map[string]any) map[string]any { return ddb(r)["NewImage"].(map[string]any) }
	var poison []map[string]any
	var counts poisonCounts
	r := clone(0, "90000000000000000000001")
	ddb(r)["ApproximateCreationDateTime"] = json.Number("253402300800")
	poison = append(poison, r)
	r = clone(1, "90000000000000000000002")
	ddb(r)["ApproximateCreationDateTime"] = json.Number("253402300800.0")
	poison = append(poison, r)
	counts.setAside += 2
	for i, table := range []string{strings.Repeat("t", 255), strings.Repeat("aB", 200)[:251]} {
		r = clone(2, fmt.Sprintf("9000000000000000000001%d", i))
		arn := r["eventSourceARN"].(string)
		r["eventSourceARN"] = strings.Replace(arn, "table/chat-messages/", "table/"+table+"/", 1)
		poison = append(poison, r)
		counts.landed++
	}
	r = clone(3, "90000000000000000000021")
	img(r)["body"] = map[string]any{"S": "LONE-SURROGATE"}
	poison = append(poison, r)
	r = clone(4, "90000000000000000000022")
	img(r)["body"] = map[string]any{"S": strings.Repeat("x", 410_000)}
	poison = append(poison, r)
	counts.setAside += 2
	middle := len(doc.Records) / 2
	var parts []string
	for i, rec := range doc.Records {
		if i == middle {
			for _, p := range poison {
				b, err := json.Marshal(p)
				require.NoError(t, err)
				parts = append(parts, strings.Replace(string(b), "LONE-SURROGATE", `\ud800`, 1))
			}
			b, err := json.Marshal(clone(5, "90000000000000000000031"))
			require.NoError(t, err)
			parts = append(parts, strings.Replace(string(b), `"eventName":`, `"eventName":"REMOVE","eventName":`, 1))
			counts.setAside++
		}
		b, err := json.Marshal(rec)
		require.NoError(t, err)
		parts = append(parts, string(b))
	}
	return []byte(`{"Records":[` + strings.Join(parts, ",") + `]}`), good, counts
}

// requireRegistry checks that the lake's registry holds a valid schema
// with columns for each table.
func requireRegistry(t *testing.T, lake sink.Store, tables ...string) {
	t.Helper()
	for _, table := range tables {
		key, err := sink.SchemaKey(table)
		require.NoError(t, err)
		body, err := lake.Get(context.Background(), key)
		require.NoError(t, err, table)
		var s schemas.Schema
		require.NoError(t, s.UnmarshalJSON(body), table)
		require.NoError(t, s.Validate(), table)
		require.NotEmpty(t, s.Columns, table)
	}
}
