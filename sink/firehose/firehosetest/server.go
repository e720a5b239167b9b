package firehosetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ddblake/ddblake/internal/awsclient"
)

// Protocol constants of Firehose's JSON 1.1 API.
const (
	// Target is the X-Amz-Target of PutRecordBatch.
	Target = "Firehose_20150804.PutRecordBatch"
	// ContentType is the content type of requests and answers.
	ContentType = "application/x-amz-json-1.1"
)

// Limits of PutRecordBatch the server enforces, as the service documents
// them: records per call, total record bytes per call (before base64),
// and bytes per record (before base64).
const (
	MaxRecords     = 500
	MaxCallBytes   = 4 << 20
	MaxRecordBytes = 1000 << 10
)

// Per-record and error codes Firehose uses.
const (
	CodeServiceUnavailable = "ServiceUnavailableException"
	CodeInternalFailure    = "InternalFailure"
	CodeInvalidArgument    = "InvalidArgumentException"
	CodeResourceNotFound   = "ResourceNotFoundException"
)

// Step scripts the answer to one PutRecordBatch call. The zero Step
// accepts every record.
type Step struct {
	// Delay is waited before answering. When the client gives up during
	// the wait (its request context ends), nothing is delivered.
	Delay time.Duration
	// Status, when 500 or more, answers with a plain-text server error
	// of that status and delivers nothing.
	Status int
	// ErrorType, when set, answers with a JSON error
	// {"__type":ErrorType,"message":ErrorMessage}, HTTP 400, and delivers
	// nothing.
	ErrorType    string
	ErrorMessage string
	// Fail maps a record's position in the call to the per-record
	// ErrorCode it fails with; the other records are delivered.
	Fail map[int]string
	// FailAll, when set, fails every record of the call with this code.
	FailAll string
	// Drop stores the call's records as scripted by Fail and FailAll,
	// then closes the connection without answering: the client cannot
	// know that they were stored.
	Drop bool
	// Truncate stores the records as scripted, then answers 200 with
	// only the first half of the answer's body and closes the
	// connection: the client sees a success it cannot read.
	Truncate bool
}

// OK accepts every record.
func OK() Step { return Step{} }

// Throttle answers with ServiceUnavailableException, HTTP 400.
func Throttle() Step {
	return Step{ErrorType: CodeServiceUnavailable, ErrorMessage: "Slow down."}
}

// ServerError answers with a plain HTTP 500.
func ServerError() Step { return Step{Status: http.StatusInternalServerError} }

// Slow accepts every record after d, unless the client gives up first.
func Slow(d time.Duration) Step { return Step{Delay: d} }

// Dropped stores every record, then closes the connection unanswered.
func Dropped() Step { return Step{Drop: true} }

// Truncated stores every record, then answers 200 with half a body.
func Truncated() Step { return Step{Truncate: true} }

// Partial fails the records at the given positions of the call with code
// and accepts the others.
func Partial(code string, positions ...int) Step {
	m := make(map[int]string, len(positions))
	for _, p := range positions {
		m[p] = code
	}
	return Step{Fail: m}
}

// Record is one delivered record.
type Record struct {
	// Stream is the delivery stream it was sent to.
	Stream string
	// Data is the record as decoded from base64.
	Data []byte
	// Call is the 1-based number of the call that delivered it.
	Call int
	// With a Conversion set (see Convert): Fields holds the record's
	// fields that the table's columns, as Firehose last read them, keep;
	// Dropped names the fields with a value that they lack (lost);
	// ConversionFailed is set when Firehose had no table to convert with
	// (the record goes to the error output, not the table).
	Fields           map[string]json.RawMessage
	Dropped          []string
	ConversionFailed bool
}

// Conversion makes the server convert records as Firehose's record format
// conversion does: with the columns of the stream's Glue table as read
// at most Refresh ago. Firehose keeps a copy of the table's schema and
// reads it again from time to time; a field the copy lacks is dropped.
type Conversion struct {
	// Columns returns the columns and partition keys of the table that
	// stream converts with, as the catalog holds them now; ok is false
	// when there is no such table.
	Columns func(stream string) (cols []string, ok bool)
	// Refresh is how long a copy is used before it is read again.
	Refresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

type schemaCopy struct {
	cols map[string]bool
	ok   bool
	at   time.Time
}

// Call describes one PutRecordBatch request the server received.
type Call struct {
	// N is the 1-based call number.
	N int
	// Stream is the DeliveryStreamName.
	Stream string
	// Records is the number of records in the request.
	Records int
	// RecordBytes is their total size before base64.
	RecordBytes int
	// BodyBytes is the size of the request body.
	BodyBytes int
	// Delivered is the number of records delivered by this call.
	Delivered int
	// Abandoned is true when the client gave up before the answer.
	Abandoned bool
	// Unanswered is true when the call's records were stored but the
	// client got no readable answer (a Drop or Truncate step): its
	// outcome is unknown to the client.
	Unanswered bool
	// Step is the script step that answered it.
	Step Step
}

// Server is a fake Firehose speaking the JSON 1.1 protocol of
// PutRecordBatch, scriptable call by call and recording every delivered
// record. It checks each request's target, content type, shape and
// limits; a request that breaks them is answered with
// InvalidArgumentException and reported as a test failure when the test
// ends. It is safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	steps      []Step
	next       func(call int, records int) Step
	streams    map[string]bool
	calls      []Call
	records    []Record
	violations []string
	conv       *Conversion
	copies     map[string]schemaCopy // by stream
}

// Convert sets the conversion of delivered records (see Record.Fields).
func (s *Server) Convert(c Conversion) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Now == nil {
		c.Now = time.Now
	}
	s.conv = &c
	s.copies = map[string]schemaCopy{}
}

// convert fills rec's converted fields; the caller holds mu.
func (s *Server) convert(rec *Record) {
	if s.conv == nil {
		return
	}
	now := s.conv.Now()
	cp, ok := s.copies[rec.Stream]
	if !ok || now.Sub(cp.at) >= s.conv.Refresh {
		cols, found := s.conv.Columns(rec.Stream)
		cp = schemaCopy{cols: map[string]bool{}, ok: found, at: now}
		for _, c := range cols {
			cp.cols[c] = true
		}
		s.copies[rec.Stream] = cp
	}
	if !cp.ok {
		rec.ConversionFailed = true
		return
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(rec.Data, &fields) != nil {
		rec.ConversionFailed = true
		return
	}
	defer slices.Sort(rec.Dropped)
	rec.Fields = map[string]json.RawMessage{}
	for k, v := range fields {
		if cp.cols[k] {
			rec.Fields[k] = v
		} else if string(v) != "null" {
			rec.Dropped = append(rec.Dropped, k)
		}
	}
}

// NewServer starts a Server that tb closes at its end, failing tb if any
// request broke the protocol or the limits.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(func() {
		s.srv.Close()
		for _, v := range s.Violations() {
			tb.Errorf("fake firehose: %s", v)
		}
	})
	return s
}

// URL is the server's base URL, for the client's BaseEndpoint.
func (s *Server) URL() string { return s.srv.URL }

// Client returns a real SDK client that calls the server, with static
// credentials, region us-east-1 and the SDK's retries turned off. Like
// the one awsclient.Firehose makes, its HTTP client reads each answer
// whole inside Do (see awsclient.ReadWhole), so that an answer is lost
// only when the server's script says so.
func (s *Server) Client() *awsfirehose.Client {
	return s.client(awsclient.ReadWhole(s.srv.Client(), 1<<20))
}

// RawClient is Client with the SDK's usual HTTP client, which returns an
// answer as soon as its headers arrive.
func (s *Server) RawClient() *awsfirehose.Client { return s.client(s.srv.Client()) }

func (s *Server) client(hc awsclient.HTTPDoer) *awsfirehose.Client {
	return awsfirehose.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		HTTPClient:  hc,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *awsfirehose.Options) {
		o.BaseEndpoint = aws.String(s.srv.URL)
	})
}

// Script queues steps, one per call, in order. When the queue is empty,
// the function set by ScriptFunc answers, else OK.
func (s *Server) Script(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, steps...)
}

// ScriptFunc sets the step for calls the queue does not script; f gets
// the 1-based call number and the number of records in the call.
func (s *Server) ScriptFunc(f func(call, records int) Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = f
}

// Streams restricts the known delivery streams; a call to another one is
// answered with ResourceNotFoundException. With none, every name exists.
func (s *Server) Streams(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams = map[string]bool{}
	for _, n := range names {
		s.streams[n] = true
	}
}

// Records returns the delivered records in delivery order.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// Calls returns the calls received, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Violations returns the protocol or limit breaches seen so far.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

type request struct {
	DeliveryStreamName string
	Records            []struct{ Data []byte }
}

type entry struct {
	RecordID     string `json:"RecordId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type response struct {
	FailedPutCount   int
	Encrypted        bool
	RequestResponses []entry
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away
	}
	var req request
	bad := ""
	switch {
	case r.Method != http.MethodPost:
		bad = "method " + r.Method
	case r.Header.Get("X-Amz-Target") != Target:
		bad = fmt.Sprintf("X-Amz-Target %q", r.Header.Get("X-Amz-Target"))
	case r.Header.Get("Content-Type") != ContentType:
		bad = fmt.Sprintf("Content-Type %q", r.Header.Get("Content-Type"))
	case json.Unmarshal(body, &req) != nil:
		bad = "body is not a PutRecordBatch request"
	case req.DeliveryStreamName == "":
		bad = "no DeliveryStreamName"
	case len(req.Records) == 0 || len(req.Records) > MaxRecords:
		bad = fmt.Sprintf("%d records (want 1-%d)", len(req.Records), MaxRecords)
	}
	total := 0
	for i, rec := range req.Records {
		total += len(rec.Data)
		if bad == "" && len(rec.Data) > MaxRecordBytes {
			bad = fmt.Sprintf("record %d is %d bytes (limit %d)", i, len(rec.Data), MaxRecordBytes)
		}
	}
	if bad == "" && total > MaxCallBytes {
		bad = fmt.Sprintf("%d record bytes in one call (limit %d)", total, MaxCallBytes)
	}

	s.mu.Lock()
	call := Call{N: len(s.calls) + 1, Stream: req.DeliveryStreamName, Records: len(req.Records),
		RecordBytes: total, BodyBytes: len(body)}
	var step Step
	switch {
	case bad != "":
		s.violations = append(s.violations, fmt.Sprintf("call %d: %s", call.N, bad))
		step = Step{ErrorType: CodeInvalidArgument, ErrorMessage: bad}
	case s.streams != nil && !s.streams[req.DeliveryStreamName]:
		step = Step{ErrorType: CodeResourceNotFound, ErrorMessage: "Firehose " + req.DeliveryStreamName + " not found."}
	case len(s.steps) > 0:
		step, s.steps = s.steps[0], s.steps[1:]
	case s.next != nil:
		step = s.next(call.N, call.Records)
	}
	call.Step = step
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	if step.Delay > 0 && !wait(r.Context(), step.Delay) {
		s.update(call.N, func(c *Call) { c.Abandoned = true })
		return
	}
	w.Header().Set("X-Amzn-Requestid", "fake-"+strconv.Itoa(call.N))
	switch {
	case step.Status >= 500:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(step.Status)
		_, _ = io.WriteString(w, "internal server error")
		return
	case step.ErrorType != "":
		w.Header().Set("Content-Type", ContentType)
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": step.ErrorType, "message": step.ErrorMessage})
		return
	}

	resp := response{RequestResponses: make([]entry, len(req.Records))}
	var delivered []Record
	for i, rec := range req.Records {
		code := step.FailAll
		if c, ok := step.Fail[i]; ok {
			code = c
		}
		if code != "" {
			resp.FailedPutCount++
			resp.RequestResponses[i] = entry{ErrorCode: code, ErrorMessage: "scripted failure of record " + strconv.Itoa(i)}
			continue
		}
		resp.RequestResponses[i] = entry{RecordID: fmt.Sprintf("fake-%d-%d", call.N, i)}
		delivered = append(delivered, Record{Stream: req.DeliveryStreamName, Data: rec.Data, Call: call.N})
	}
	s.mu.Lock()
	for i := range delivered {
		s.convert(&delivered[i])
	}
	s.records = append(s.records, delivered...)
	s.calls[call.N-1].Delivered = len(delivered)
	s.calls[call.N-1].Unanswered = step.Drop || step.Truncate
	s.mu.Unlock()
	switch {
	case step.Drop:
		hangUp(w)
	case step.Truncate:
		body, _ := json.Marshal(resp)
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		hangUp(w)
	default:
		w.Header().Set("Content-Type", ContentType)
		_ = json.NewEncoder(w).Encode(resp)
	}
}

// hangUp closes the request's connection at once.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) update(n int, f func(*Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.calls[n-1])
}

// wait waits d and reports whether ctx was still live then.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}
