package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/firehose/firehosetest"
	"github.com/ddblake/ddblake/sink/localstore"
)

// faultyStore fails, or holds until the caller gives up, the Puts whose
// key fail selects.
type faultyStore struct {
	sink.Store
	fail func(key string) bool
	hang bool
}

func (f *faultyStore) Put(ctx context.Context, key string, body []byte) error {
	if f.fail != nil && f.fail(key) {
		if f.hang {
			<-ctx.Done()
			return ctx.Err()
		}
		return errors.New("503 Slow Down")
	}
	return f.Store.Put(ctx, key, body)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLake is a local lake with a handler writing Parquet into it.
type testLake struct {
	store sink.Store
	out   *syncBuffer
	h     *Handler
}

func newTestLake(t testing.TB, wrap func(sink.Store) sink.Store) *testLake {
	t.Helper()
	base, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	store := sink.Store(base)
	if wrap != nil {
		store = wrap(base)
	}
	out := &syncBuffer{}
	return &testLake{store: base, out: out, h: &Handler{
		Processor: &pipeline.Processor{
			Schemas: pipeline.NewRegistrySchemas(store), Destination: direct.New(store),
			Quarantine: pipeline.NewLakeErrors(store),
		},
		Out: out, FunctionName: "ddblake-test",
	}}
}

// failures decodes a batchItemFailures response.
func failures(t testing.TB, resp []byte) []string {
	t.Helper()
	var r struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	require.NoError(t, json.Unmarshal(resp, &r))
	require.NotNil(t, r.BatchItemFailures, "batchItemFailures is a list, never null: %s", resp)
	var out []string
	for _, f := range r.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

// summary is the summary line of an invocation.
type summary struct {
	Level          string         `json:"level"`
	Msg            string         `json:"msg"`
	RequestID      string         `json:"request_id"`
	BatchID        string         `json:"batch_id"`
	EventSource    string         `json:"event_source"`
	Records        int            `json:"records"`
	Rows           int            `json:"rows"`
	SetAside       int            `json:"set_aside"`
	Misfits        int            `json:"misfits"`
	Files          int            `json:"files"`
	Bytes          int64          `json:"bytes"`
	Tables         map[string]int `json:"tables"`
	FailedFrom     string         `json:"failed_from"`
	FailedRecords  int            `json:"failed_records"`
	IteratorAgeMS  int64          `json:"iterator_age_ms"`
	DurationMS     int64          `json:"duration_ms"`
	Error          string         `json:"error"`
	Deadline       bool           `json:"deadline"`
	Shard          string         `json:"shard"`
	EventSourceARN string         `json:"event_source_arn"`
	OverColumnCap  []string       `json:"over_column_cap"`
}

// metricsLine is an EMF line.
type metricsLine struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	Fields map[string]any `json:"-"`
}

// invocationLines splits output into summary lines and EMF lines,
// checking every line is one or the other.
func invocationLines(t testing.TB, out string) ([]summary, []metricsLine) {
	t.Helper()
	var sums []summary
	var mets []metricsLine
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue // the emulator's own lines
		}
		if strings.Contains(line, `"_aws"`) {
			var m metricsLine
			require.NoError(t, json.Unmarshal([]byte(line), &m), line)
			require.NoError(t, json.Unmarshal([]byte(line), &m.Fields))
			mets = append(mets, m)
			continue
		}
		var s summary
		require.NoError(t, json.Unmarshal([]byte(line), &s), line)
		require.Equal(t, SummaryMessage, s.Msg, line)
		sums = append(sums, s)
	}
	return sums, mets
}

// lastSummary is the only summary line written since mark.
func (l *testLake) lastSummary(t testing.TB, mark int) (summary, metricsLine) {
	t.Helper()
	sums, mets := invocationLines(t, l.out.String()[mark:])
	require.Len(t, sums, 1, "one summary line per invocation")
	require.Len(t, mets, 1, "one metrics line per invocation")
	return sums[0], mets[0]
}

func (l *testLake) invoke(t testing.TB, ctx context.Context, payload []byte) ([]byte, error, summary, metricsLine) {
	t.Helper()
	mark := len(l.out.String())
	resp, err := l.h.Invoke(ctx, payload)
	s, m := l.lastSummary(t, mark)
	return resp, err, s, m
}

// lakeKeys lists every object of the lake.
func lakeKeys(t testing.TB, store sink.Store) []string {
	t.Helper()
	objs, err := store.List(context.Background(), "")
	require.NoError(t, err)
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

var sampleEvents = []string{
	"../../testdata/sample/lambda/chat-messages/shard-0/001.json",
	"../../testdata/sample/lambda/chat-messages/shard-1/001.json",
	"../../testdata/sample/lambda/chat-rooms/shard-0/002.json",
	"../../testdata/sample/kinesis/001.json",
	"../../testdata/inputs/kinesis/chat_us.json",
}

func TestInvokeWritesEveryRecord(t *testing.T) {
	for _, path := range sampleEvents {
		t.Run(path[strings.LastIndex(path, "testdata/")+9:], func(t *testing.T) {
			lake := newTestLake(t, nil)
			payload := readFile(t, path)
			want := eventRecords(t, payload)
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
			resp, err, sum, met := lake.invoke(t, ctx, payload)
			require.NoError(t, err)
			require.Empty(t, failures(t, resp))

			tables := map[string]bool{}
			for _, w := range want {
				tables[w.Table] = true
			}
			total := 0
			for table := range tables {
				lt := strings.ReplaceAll(table, "-", "_")
				rows, _ := lakeTable(t, lake.store, lt)
				n := requireRowsMatch(t, want, table, rows)
				require.Len(t, rows, n)
				require.Equal(t, n, sum.Tables[lt])
				total += n
			}
			require.Equal(t, len(want), total)

			require.Equal(t, "req-1", sum.RequestID)
			require.Equal(t, "INFO", sum.Level)
			require.Equal(t, len(want), sum.Records)
			require.Equal(t, len(want), sum.Rows)
			require.Zero(t, sum.SetAside)
			require.Empty(t, sum.FailedFrom)
			require.NotZero(t, sum.Files)
			require.NotZero(t, sum.Bytes)
			require.NotEmpty(t, sum.BatchID)
			if strings.Contains(path, "kinesis") {
				require.Equal(t, "aws:kinesis", sum.EventSource)
				require.True(t, strings.HasPrefix(sum.Shard, "shardId-"), sum.Shard)
			} else {
				require.Equal(t, "aws:dynamodb", sum.EventSource)
			}
			require.EqualValues(t, len(want), met.Fields[MetricRecords])
			require.EqualValues(t, sum.Bytes, met.Fields[MetricBytes])

			// The same batch again writes the same objects.
			before := lakeKeys(t, lake.store)
			resp, err, again, _ := lake.invoke(t, ctx, payload)
			require.NoError(t, err)
			require.Empty(t, failures(t, resp))
			require.Equal(t, sum.BatchID, again.BatchID)
			require.Equal(t, before, lakeKeys(t, lake.store))
		})
	}
}

func TestInvokeBadRecordsAreSetAsideNotFailed(t *testing.T) {
	for _, path := range []string{"../../testdata/inputs/lambda/bad_records.json", "../../testdata/inputs/kinesis/bad.json"} {
		t.Run(path, func(t *testing.T) {
			lake := newTestLake(t, nil)
			resp, err, sum, _ := lake.invoke(t, context.Background(), readFile(t, path))
			require.NoError(t, err)
			require.Empty(t, failures(t, resp), "a bad record never blocks the shard")
			require.NotZero(t, sum.SetAside)
			require.Equal(t, sum.Records, sum.Rows+sum.SetAside)
			var quarantined int
			for _, k := range lakeKeys(t, lake.store) {
				if strings.HasPrefix(k, sink.ErrorsDir+"/") {
					body, err := lake.store.Get(context.Background(), k)
					require.NoError(t, err)
					quarantined += strings.Count(strings.TrimSpace(string(body)), "\n") + 1
				}
			}
			require.Equal(t, sum.SetAside, quarantined, "every set-aside record is in the quarantine")
		})
	}
}

// withBadSequence returns the event with record i's sequence number made
// unreadable.
func withBadSequence(t testing.TB, payload []byte, i int) []byte {
	t.Helper()
	var doc struct{ Records []map[string]any }
	require.NoError(t, json.Unmarshal(payload, &doc))
	doc.Records[i]["dynamodb"].(map[string]any)["SequenceNumber"] = "not-a-number"
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

func TestInvokeReportsFirstUndelivered(t *testing.T) {
	stream := readFile(t, "../../testdata/sample/lambda/chat-messages/shard-0/001.json")
	streamRecs := eventRecords(t, stream)
	kinesis := readFile(t, "../../testdata/sample/kinesis/001.json")
	kinRecs := eventRecords(t, kinesis)
	// The Kinesis sample mixes tables; the second table's data fails.
	other := -1
	for _, w := range kinRecs {
		if w.Table != kinRecs[0].Table {
			other = w.Index
			break
		}
	}
	require.Positive(t, other, "the Kinesis sample mixes tables")
	otherTable := strings.ReplaceAll(kinRecs[other].Table, "-", "_")
	data := func(key string) bool { return strings.HasSuffix(key, ".parquet") }
	errorsDir := func(key string) bool { return strings.HasPrefix(key, sink.ErrorsDir+"/") }

	for _, tc := range []struct {
		name    string
		payload []byte
		fail    func(string) bool
		want    string // itemIdentifier; "" with wantErr
		wantErr error
		landed  int // rows in the lake
	}{
		{name: "every data file fails", payload: stream, fail: data, want: streamRecs[0].Sequence},
		{name: "one table of a Kinesis batch fails", payload: kinesis,
			fail: func(k string) bool { return strings.HasPrefix(k, otherTable+"/") },
			want: kinRecs[other].Sequence, landed: countTable(kinRecs, kinRecs[0].Table)},
		{name: "unreadable sequence at the failed record reports the one before",
			payload: withBadSequence(t, stream, 3), fail: errorsDir,
			want: streamRecs[2].Sequence, landed: len(streamRecs) - 1},
		{name: "no sequence to resume from fails the invocation",
			payload: withBadSequence(t, stream, 0), fail: errorsDir,
			wantErr: ErrNoSequence, landed: len(streamRecs) - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lake := newTestLake(t, func(s sink.Store) sink.Store { return &faultyStore{Store: s, fail: tc.fail} })
			resp, err, sum, met := lake.invoke(t, context.Background(), tc.payload)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, resp)
				require.Equal(t, "ERROR", sum.Level)
			} else {
				require.NoError(t, err)
				require.Equal(t, []string{tc.want}, failures(t, resp))
				require.Equal(t, tc.want, sum.FailedFrom)
				require.Equal(t, "WARN", sum.Level)
			}
			require.Contains(t, sum.Error, "503 Slow Down")
			require.NotZero(t, met.Fields[MetricFailedRecords])
			rows := 0
			for _, table := range []string{"chat_messages", "chat_rooms"} {
				got, _ := lakeTable(t, lake.store, table)
				rows += len(got)
			}
			require.Equal(t, tc.landed, rows)
			// The registry is intact: the schema was committed before the
			// data and still loads.
			reg, err := sink.NewRegistry(lake.store).LoadAll(context.Background())
			require.NoError(t, err)
			require.NotEmpty(t, reg.Tables())
		})
	}
}

func countTable(recs []wantRecord, table string) int {
	n := 0
	for _, r := range recs {
		if r.Table == table {
			n++
		}
	}
	return n
}

func TestInvokeStopsBeforeDeadline(t *testing.T) {
	payload := readFile(t, "../../testdata/sample/lambda/chat-rooms/shard-0/001.json")
	recs := eventRecords(t, payload)
	lake := newTestLake(t, func(s sink.Store) sink.Store {
		return &faultyStore{Store: s, fail: func(k string) bool { return strings.HasSuffix(k, ".parquet") }, hang: true}
	})
	// The margin leaves 1.5 s between giving up and the deadline: slack
	// for a loaded machine.
	lake.h.DeadlineMargin = 1500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err, sum, _ := lake.invoke(t, ctx, payload)
	require.NoError(t, err)
	require.NoError(t, ctx.Err(), "answers before the deadline")
	deadline, _ := ctx.Deadline()
	require.LessOrEqual(t, time.Until(deadline), lake.h.DeadlineMargin, "keeps trying until the margin")
	require.Equal(t, []string{recs[0].Sequence}, failures(t, resp))
	require.True(t, sum.Deadline)
	require.Equal(t, len(recs), sum.FailedRecords)
}

func TestInvokePayloads(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		wantErr error
	}{
		{"no records", `{"Records":[]}`, nil},
		{"not JSON", `hello`, ErrBadPayload},
		{"not an event", `{"foo":1}`, ErrBadPayload},
		{"empty", ``, ErrBadPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lake := newTestLake(t, nil)
			resp, err, sum, _ := lake.invoke(t, context.Background(), []byte(tc.payload))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.NotEmpty(t, sum.Error)
				return
			}
			require.NoError(t, err)
			require.Equal(t, `{"batchItemFailures":[]}`, string(resp))
			require.Zero(t, sum.Records)
		})
	}
}

// TestInvokeClock checks the durations and ages against an injected
// clock: the iterator age is now less the oldest record's event time.
func TestInvokeClock(t *testing.T) {
	payload := readFile(t, "../../testdata/sample/lambda/chat-rooms/shard-0/001.json")
	recs := eventRecords(t, payload)
	oldest := recs[0].EventMS
	for _, r := range recs {
		oldest = min(oldest, r.EventMS)
	}
	lake := newTestLake(t, nil)
	now := time.UnixMilli(oldest).Add(90 * time.Second)
	var mu sync.Mutex
	lake.h.Now = func() time.Time { // each reading is 250ms later
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(250 * time.Millisecond)
		return now
	}
	_, err, sum, met := lake.invoke(t, context.Background(), payload)
	require.NoError(t, err)
	require.EqualValues(t, 250, sum.DurationMS)
	require.EqualValues(t, 90_500, sum.IteratorAgeMS, "at the end of the invocation")
	require.EqualValues(t, 90_500, met.Fields[MetricIteratorAge])
	require.EqualValues(t, 250, met.Fields[MetricDuration])
	require.Equal(t, now.UnixMilli(), met.AWS.Timestamp)
	require.Len(t, met.AWS.CloudWatchMetrics, 1)
	d := met.AWS.CloudWatchMetrics[0]
	require.Equal(t, MetricsNamespace, d.Namespace)
	require.Equal(t, [][]string{{"FunctionName"}}, d.Dimensions)
	require.Equal(t, "ddblake-test", met.Fields["FunctionName"])
	for _, m := range d.Metrics {
		_, ok := met.Fields[m.Name].(float64)
		require.True(t, ok, "metric %s has a numeric value", m.Name)
	}
	require.Len(t, d.Metrics, 7)
}

// TestInvokeFirehose runs the handler with the Firehose sink.
func TestInvokeFirehose(t *testing.T) {
	stream := readFile(t, "../../testdata/sample/lambda/chat-messages/shard-0/001.json")
	recs := eventRecords(t, stream)
	// Record 2 is made too large for a Firehose record.
	var doc struct{ Records []map[string]any }
	require.NoError(t, json.Unmarshal(stream, &doc))
	img := doc.Records[2]["dynamodb"].(map[string]any)["NewImage"].(map[string]any)
	img["body"] = map[string]any{"S": strings.Repeat("z", firehose.MaxRecordBytes)}
	big, err := json.Marshal(doc)
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		payload []byte
		steps   []firehosetest.Step
		want    []string
		aside   int
		records int // records delivered to Firehose
	}{
		{name: "all delivered", payload: stream, records: len(recs)},
		{name: "throttled, then delivered", payload: stream,
			steps: []firehosetest.Step{firehosetest.Throttle(), firehosetest.ServerError()}, records: len(recs)},
		{name: "partial failure reports from the first undelivered record", payload: stream,
			steps: []firehosetest.Step{firehosetest.Partial("KMS.DisabledException", 7, 9)},
			want:  []string{recs[7].Sequence}, records: len(recs) - 2},
		{name: "oversized row quarantined, not a failure", payload: big, aside: 1, records: len(recs) - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := firehosetest.NewServer(t)
			srv.Script(tc.steps...)
			sender, err := firehose.New(srv.Client(), firehose.Config{
				Stream: "ddblake-{table}", BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond,
			})
			require.NoError(t, err)
			lake := newTestLake(t, nil)
			lake.h.Processor.Destination = firehose.NewDestination(sender)
			resp, err, sum, _ := lake.invoke(t, context.Background(), tc.payload)
			require.NoError(t, err)
			require.Equal(t, tc.want, failures(t, resp))
			require.Equal(t, tc.aside, sum.SetAside)
			delivered := srv.Records()
			require.Len(t, delivered, tc.records)
			seen := map[string]bool{}
			for _, r := range delivered {
				require.Equal(t, "ddblake-chat_messages", r.Stream)
				var row map[string]any
				require.NoError(t, json.Unmarshal(r.Data, &row))
				seq := row["_sequence_number"].(string)
				require.False(t, seen[seq], "record %s delivered twice", seq)
				seen[seq] = true
			}
			for _, k := range lakeKeys(t, lake.store) {
				require.False(t, strings.HasSuffix(k, ".parquet"), "the Firehose sink writes no Parquet itself: %s", k)
			}
			if tc.aside > 0 {
				objs, err := lake.store.List(context.Background(), sink.ErrorsDir+"/chat_messages/")
				require.NoError(t, err)
				require.Len(t, objs, 1)
				body, err := lake.store.Get(context.Background(), objs[0].Key)
				require.NoError(t, err)
				require.Contains(t, string(body), recs[2].Sequence)
			}
		})
	}
}

// TestInvokeConcurrent runs invocations of different shards at once
// against one handler and one lake: none loses a row or a column.
func TestInvokeConcurrent(t *testing.T) {
	lake := newTestLake(t, nil)
	paths := sampleEvents[:3]
	var wg sync.WaitGroup
	resps := make([][]byte, len(paths))
	errs := make([]error, len(paths))
	for i, p := range paths {
		payload := readFile(t, p)
		wg.Go(func() { resps[i], errs[i] = lake.h.Invoke(context.Background(), payload) })
	}
	wg.Wait()
	for i := range paths {
		require.NoError(t, errs[i])
		require.Empty(t, failures(t, resps[i]))
	}
	for _, p := range paths {
		want := eventRecords(t, readFile(t, p))
		table := strings.ReplaceAll(want[0].Table, "-", "_")
		rows, _ := lakeTable(t, lake.store, table)
		requireRowsMatch(t, want, want[0].Table, rows)
	}
	sums, _ := invocationLines(t, lake.out.String())
	require.Len(t, sums, len(paths))
}

// TestBatchIDs checks batch naming: the same event gives the same ID,
// another shard or another range another one.
func TestBatchIDs(t *testing.T) {
	ids := map[string]string{}
	for _, p := range append(sampleEvents, "../../testdata/sample/lambda/chat-messages/shard-0/002.json", "../../testdata/sample/kinesis/002.json") {
		lake := newTestLake(t, nil)
		_, err, sum, _ := lake.invoke(t, context.Background(), readFile(t, p))
		require.NoError(t, err)
		require.NoError(t, sink.ValidateName(sink.FileName(sum.BatchID, 0)))
		prev, dup := ids[sum.BatchID]
		require.False(t, dup, "%s and %s share batch ID %s", prev, p, sum.BatchID)
		ids[sum.BatchID] = p
	}
	// A payload with no readable sequence still has a stable name.
	bad := []byte(`{"Records":[{"eventSource":"aws:dynamodb","eventSourceARN":"arn:aws:dynamodb:r:1:table/t-1/stream/x","dynamodb":{}}]}`)
	var names []string
	for range 2 {
		lake := newTestLake(t, nil)
		_, err, sum, _ := lake.invoke(t, context.Background(), bad)
		require.NoError(t, err)
		require.Equal(t, 1, sum.SetAside)
		names = append(names, sum.BatchID)
	}
	require.Equal(t, names[0], names[1])
}

func TestEnvFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Env
		err  bool
	}{
		{name: "s3 defaults", env: map[string]string{EnvLake: "s3://lake/p"},
			want: Env{Lake: "s3://lake/p", Sink: SinkS3, FunctionName: defaultFunctionName}},
		{name: "firehose", env: map[string]string{EnvLake: "s3://lake/p", EnvSink: "firehose",
			EnvFirehoseStream: "ddblake-{table}", EnvFunctionName: "fn", EnvS3PathStyle: "true",
			EnvDeadlineMargin: "3s", EnvConfig: "ddblake.yaml", EnvTaskRoot: "/var/task"},
			want: Env{Lake: "s3://lake/p", Sink: SinkFirehose, FirehoseStream: "ddblake-{table}", FunctionName: "fn",
				S3PathStyle: true, DeadlineMargin: 3 * time.Second, Config: "ddblake.yaml", TaskRoot: "/var/task"}},
		{name: "no lake", env: map[string]string{}, err: true},
		{name: "unknown sink", env: map[string]string{EnvLake: "s3://lake", EnvSink: "kafka"}, err: true},
		{name: "firehose without stream", env: map[string]string{EnvLake: "s3://lake", EnvSink: "firehose"}, err: true},
		{name: "bad stream template", env: map[string]string{EnvLake: "s3://lake", EnvSink: "firehose", EnvFirehoseStream: "a b"}, err: true},
		{name: "bad path style", env: map[string]string{EnvLake: "s3://lake", EnvS3PathStyle: "maybe"}, err: true},
		{name: "bad margin", env: map[string]string{EnvLake: "s3://lake", EnvDeadlineMargin: "-1s"}, err: true},
		{name: "aws bounds", env: map[string]string{EnvLake: "s3://lake", EnvAWSTimeout: "5s", EnvAWSAttempts: "2"},
			want: Env{Lake: "s3://lake", Sink: SinkS3, FunctionName: defaultFunctionName, AWSTimeout: 5 * time.Second, AWSAttempts: 2}},
		{name: "bad aws timeout", env: map[string]string{EnvLake: "s3://lake", EnvAWSTimeout: "0s"}, err: true},
		{name: "bad aws attempts", env: map[string]string{EnvLake: "s3://lake", EnvAWSAttempts: "none"}, err: true},
		{name: "too many aws attempts", env: map[string]string{EnvLake: "s3://lake", EnvAWSAttempts: "1000"}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EnvFrom(func(k string) string { return tc.env[k] })
			if tc.err {
				require.ErrorIs(t, err, ErrBadEnv)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// requireConfigApplied checks that testdata/lambda/ddblake.yaml shaped
// the chat_rooms table: hourly partitions, no thumbnail column.
func requireConfigApplied(t testing.TB, store sink.Store) {
	t.Helper()
	keys := lakeKeys(t, store)
	hourly := false
	for _, k := range keys {
		if strings.HasPrefix(k, "chat_rooms/") {
			require.Contains(t, k, "/hr=", "hourly partitions")
			hourly = true
		}
	}
	require.True(t, hourly, "%v", keys)
	s, err := sink.NewRegistry(store).Load(context.Background(), "chat_rooms")
	require.NoError(t, err)
	require.True(t, s.Hourly)
	require.NotEmpty(t, s.Columns)
	for _, c := range s.Columns {
		require.NotEqual(t, "article_thumb", c.Name, "the omitted attribute has no column")
	}
}

func TestNewHandlerConfig(t *testing.T) {
	lakeDir := t.TempDir()
	env := Env{Lake: lakeDir, Sink: SinkS3, Config: "ddblake.yaml", TaskRoot: "../../testdata/lambda", FunctionName: "fn"}
	h, err := NewHandler(context.Background(), env, &syncBuffer{})
	require.NoError(t, err)
	resp, err := h.Invoke(context.Background(), readFile(t, "../../testdata/sample/lambda/chat-rooms/shard-0/001.json"))
	require.NoError(t, err)
	require.Empty(t, failures(t, resp))
	store, err := localstore.New(lakeDir)
	require.NoError(t, err)
	requireConfigApplied(t, store)

	for _, name := range []string{"unknown_key.yaml", "missing.yaml"} {
		env.Config = name
		_, err = NewHandler(context.Background(), env, &syncBuffer{})
		require.ErrorIs(t, err, ErrConfig, name)
	}
}

// TestInvokeLogsColumnCapOncePerPath checks that the paths a table at its
// column cap cannot take are logged by the first invocation that meets
// them, and not again by the next ones.
func TestInvokeLogsColumnCapOncePerPath(t *testing.T) {
	lake := newTestLake(t, nil)
	lake.h.Processor.Config = &pipeline.Config{Defaults: pipeline.TableConfig{TableConfig: flatten.TableConfig{MaxColumns: 2}}}
	payload := readFile(t, sampleEvents[0])
	resp, err, sum, _ := lake.invoke(t, context.Background(), payload)
	require.NoError(t, err)
	require.Empty(t, failures(t, resp))
	require.Equal(t, "WARN", sum.Level)
	require.Contains(t, sum.OverColumnCap, "chat_messages: body")
	require.Contains(t, sum.OverColumnCap, "chat_messages: sender.userId")
	require.Equal(t, sum.Records, sum.Rows, "values past the cap are kept in _extra, the rows land")
	require.NotZero(t, sum.Misfits)

	resp, err, again, _ := lake.invoke(t, context.Background(), payload)
	require.NoError(t, err)
	require.Empty(t, failures(t, resp))
	require.Empty(t, again.OverColumnCap, "each path is logged once")
	require.Equal(t, "INFO", again.Level)
}

// TestBackfillWorkersFollowMemory: the backfill reads and writes two
// files at once (more with more CPUs), as many as the function's memory
// holds: one in a 128 MB function.
func TestBackfillWorkersFollowMemory(t *testing.T) {
	for _, tc := range []struct {
		mb   string
		want int
	}{{"128", 1}, {"256", 2}, {"10240", max(2, runtime.NumCPU())}} {
		t.Run(tc.mb+" MB", func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", "")
			t.Setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", tc.mb)
			h, err := NewHandler(context.Background(), Env{Lake: t.TempDir(), Sink: SinkS3, FunctionName: "fn"}, &syncBuffer{})
			require.NoError(t, err)
			require.Equal(t, tc.want, h.BackfillWorkers)
		})
	}
}
