package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
)

// Deadline margin bounds: by default the function stops delivering a
// tenth of the time left before its deadline, at least minMargin and at
// most maxMargin before it.
const (
	minMargin = time.Second
	maxMargin = 5 * time.Second
)

// Handler runs one invocation: it decodes the raw payload (a DynamoDB
// stream or Kinesis event), runs the records through the Processor under
// the batch's deterministic ID, and answers with the records to deliver
// again ({"batchItemFailures":[...]}, for ReportBatchItemFailures). An S3
// Object Created event (through EventBridge) lists a file Firehose
// delivered instead (see FirehoseFiles). It
// writes one summary line (slog JSON) and one metrics line (CloudWatch
// Embedded Metric Format) per invocation to Out. It implements the
// aws-lambda-go lambda.Handler interface, so no reflection decodes the
// event. It is safe for concurrent use.
type Handler struct {
	// Processor delivers the batch; it is kept across invocations, with
	// its schema cache.
	Processor *pipeline.Processor
	// Out receives the summary and metrics lines (stdout in Lambda).
	Out io.Writer
	// Now is the clock of durations, iterator age and timestamps; nil
	// uses time.Now.
	Now func() time.Time
	// FunctionName is the metrics' dimension.
	FunctionName string
	// DeadlineMargin is how long before the invocation's deadline the
	// delivery stops; 0 takes a tenth of the time left, within 1s-5s.
	DeadlineMargin time.Duration
	// Firehose, with the firehose sink, lists the files Firehose
	// delivers when S3 tells of them (see FirehoseFiles); nil refuses S3
	// events.
	Firehose *FirehoseFiles
	// Lake, Store, Exports and Inputs serve the backfill requests (see
	// backfill.go): the lake's URI and store, the resolver of exports, and
	// where data files that cannot be read whole are listed.
	Lake    string
	Store   sink.Store
	Exports *decode.Resolver
	Inputs  pipeline.InputSetAsider
	// BackfillWorkers is how many data files a backfill request reads,
	// and how many batches it writes, at once; 0 takes two, or the CPUs
	// when more (NewHandler bounds it by the function's memory).
	BackfillWorkers int

	// idle is the decoding memory kept between invocations (one runs at
	// a time in Lambda); a sync.Pool would lose it at every collection.
	idle  atomic.Pointer[decodeState]
	outMu sync.Mutex
}

// decodeState is the reusable memory of one invocation's decoding.
type decodeState struct {
	dec    *decode.Decoder
	parser fastjson.Parser
}

// invocation is what one Invoke learned, for the answer and the logs.
type invocation struct {
	requestID  string
	source     string // aws:dynamodb or aws:kinesis
	arn        string
	shard      string
	batch      pipeline.Batch
	seqs       []string // sequence number by record index, "" when unknown
	oldest     int64    // oldest event time, Unix µs; 0 when none
	res        pipeline.Result
	failedFrom string // the itemIdentifier reported, "" when none
	failedRecs int    // records Lambda will deliver again
	cause      error  // why records were not delivered
	err        error  // the error Invoke returns
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Invoke handles one invocation payload. It returns the batchItemFailures
// response, empty when every record was delivered or set aside; when some
// were not, it names the first of them (Lambda delivers it and every later
// record again). Records that cannot be read are set aside in the
// quarantine and are not failures. It returns an error, so that Lambda
// retries the whole batch, only when the payload is not an event, the
// batch could not be processed at all, or no record up to the first
// failed one has a sequence number to resume from. The backfill's
// requests (a Distributed Map batch, its plan and finish) are answered by
// invokeBackfill.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if kind := requestKind(payload); kind != requestStream {
		return h.invokeBackfill(ctx, kind, payload)
	}
	start := h.now()
	inv := &invocation{}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		inv.requestID = lc.AwsRequestID
	}
	if ev, isS3, err := readObjectEvent(payload); isS3 {
		if err != nil {
			h.logLine(h.now(), slog.LevelError, ObjectMessage, []slog.Attr{
				slog.String("request_id", inv.requestID), slog.String("error", err.Error())})
			return nil, err
		}
		return h.objectCreated(ctx, ev, inv.requestID)
	}
	out, err := h.invoke(ctx, payload, inv)
	inv.err = err
	h.report(inv, start, h.now())
	return out, err
}

func (h *Handler) invoke(ctx context.Context, payload []byte, inv *invocation) ([]byte, error) {
	st := h.idle.Swap(nil)
	if st == nil {
		// The Processor reads no OldImage beside a NewImage.
		dec, err := decode.NewDecoder(decode.Options{UnusedOldImages: true})
		if err != nil {
			return nil, err
		}
		st = &decodeState{dec: dec}
	}
	defer func() {
		// The batch is done with: its records' images go, and the next
		// invocation's are built in their memory.
		for _, r := range inv.batch.Records {
			r.Keys, r.NewImage, r.OldImage = flatten.Item{}, flatten.Item{}, flatten.Item{}
		}
		st.dec.RecycleImages()
		h.idle.Store(st)
	}()
	if err := h.decode(st, payload, inv); err != nil {
		inv.res.Records = len(inv.seqs) // read before the break
		return nil, err
	}
	if inv.res.Records = len(inv.seqs); inv.res.Records == 0 {
		inv.res.FirstFailed = -1
		return response(""), nil
	}

	if dl, ok := ctx.Deadline(); ok {
		margin := h.DeadlineMargin
		if margin == 0 {
			margin = min(max(time.Until(dl)/10, minMargin), maxMargin)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	res, err := h.Processor.Process(ctx, &inv.batch)
	inv.res, inv.cause = res, err
	if res.FirstFailed < 0 {
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotProcessed, err)
		}
		return response(""), nil
	}
	for i := res.FirstFailed; i >= 0; i-- {
		if i < len(inv.seqs) && inv.seqs[i] != "" {
			inv.failedFrom = inv.seqs[i]
			inv.failedRecs = len(inv.seqs) - i
			break
		}
	}
	if inv.failedFrom == "" {
		inv.failedRecs = len(inv.seqs)
		return nil, fmt.Errorf("%w: record %d failed: %w", ErrNoSequence, res.FirstFailed, err)
	}
	return response(inv.failedFrom), nil
}

// decode reads the payload into inv.batch and names the batch.
func (h *Handler) decode(st *decodeState, payload []byte, inv *invocation) error {
	b := &inv.batch
	note := func(index int, seq string, micros int64) {
		for len(inv.seqs) <= index {
			inv.seqs = append(inv.seqs, "")
		}
		inv.seqs[index] = seq
		if micros != 0 && (inv.oldest == 0 || micros < inv.oldest) {
			inv.oldest = micros
		}
	}
	err := st.dec.DecodeEvent(payload, "event", func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
		if rerr != nil {
			b.Errors = append(b.Errors, rerr)
			note(rerr.Index, rerr.Sequence, rerr.EventTimeMicros)
			return nil
		}
		b.Records = append(b.Records, rec)
		note(rec.Index, rec.Sequence, rec.EventTimeMicros)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	h.describe(st, inv)
	first, last := "", ""
	for _, s := range inv.seqs {
		if s != "" {
			if first == "" {
				first = s
			}
			last = s
		}
	}
	if first == "" && len(inv.seqs) > 0 {
		// No record has a readable sequence number: the payload itself
		// names the batch, so a retry still writes the same objects.
		first = fmt.Sprintf("p%x", fnv64(payload))
	}
	b.ID = sink.LambdaBatchID(inv.arn, inv.shard, first, last)
	source := inv.arn
	if source == "" {
		source = "event"
	}
	for _, r := range b.Records {
		r.Source = source
	}
	for _, r := range b.Errors {
		r.Source = source
	}
	return nil
}

// describe finds the event source, its ARN and (Kinesis) shard in the
// first record that has them.
func (h *Handler) describe(st *decodeState, inv *invocation) {
	raws := make([][]byte, len(inv.seqs))
	for _, r := range inv.batch.Records {
		raws[r.Index] = r.Raw
	}
	for _, r := range inv.batch.Errors {
		raws[r.Index] = r.Raw
	}
	for _, raw := range raws {
		v, err := st.parser.ParseBytes(raw)
		if err != nil {
			continue
		}
		arn := v.GetStringBytes("eventSourceARN")
		if len(arn) == 0 {
			continue
		}
		inv.arn = string(arn)
		inv.source = string(v.GetStringBytes("eventSource"))
		if inv.source == "aws:kinesis" {
			// eventID is "shardId-000000000006:<sequence number>".
			id := v.GetStringBytes("eventID")
			if i := bytes.IndexByte(id, ':'); i > 0 {
				inv.shard = string(id[:i])
			}
		}
		return
	}
}

// response is the ReportBatchItemFailures answer: no failures, or every
// record from seq on.
func response(seq string) []byte {
	type item struct {
		ItemIdentifier string `json:"itemIdentifier"`
	}
	r := struct {
		BatchItemFailures []item `json:"batchItemFailures"`
	}{BatchItemFailures: []item{}}
	if seq != "" {
		r.BatchItemFailures = append(r.BatchItemFailures, item{seq})
	}
	out, _ := json.Marshal(r)
	return out
}

func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
