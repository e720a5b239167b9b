package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/manifest"
)

// lambdaSpoolBytes is the room in /tmp (512 MB unless the function is
// given more) that the data files a backfill batch reads at once share
// while their checks run (decode.Options.SpoolBytes).
const lambdaSpoolBytes = 448 << 20

// The backfill requests, sent by the backfill state machine
// (deploy/backfill.yaml):
//
//	{"plan":{"export":"s3://b/p/AWSDynamoDB/<id>/"}}                 where the export's file list is, its item count
//	{"Items":[<manifest-files.json lines>],"BatchInput":{"export":...}}  a Distributed Map batch: write those data files
//	{"finish":{"export":...}}                                         check that every data file was written, and the counts
//
// "lake", when a request gives it, must be the function's DDBLAKE_LAKE.
const (
	requestStream = ""
	requestPlan   = "plan"
	requestBatch  = "batch"
	requestFinish = "finish"
)

// Error types the state machine tells apart (the errorType of the
// invocation's error): a BadBatch is not retried; a BatchIncomplete (the
// deadline came, a store failed, a data file could not be read) is, with
// backoff: its retry writes the same objects; a CountMismatch (Finish: a
// data file not written, counts that do not add up) ends the backfill.
const (
	ErrorBadBatch        = "BadBatch"
	ErrorBatchIncomplete = "BatchIncomplete"
	ErrorCountMismatch   = "CountMismatch"
)

// BackfillError is the error of a backfill request; its Type is the
// errorType Lambda reports to Step Functions.
type BackfillError struct {
	Type string
	Err  error
}

func (e *BackfillError) Error() string { return e.Type + ": " + e.Err.Error() }
func (e *BackfillError) Unwrap() error { return e.Err }

// lambdaError is err as Lambda reports it: a BackfillError keeps its
// Type, so that the state machine's Retry can match it.
func lambdaError(err error) error {
	var be *BackfillError
	if errors.As(err, &be) {
		return messages.InvokeResponse_Error{Message: err.Error(), Type: be.Type}
	}
	return err
}

func badBatch(format string, args ...any) error {
	return &BackfillError{Type: ErrorBadBatch, Err: fmt.Errorf(format, args...)}
}

func incomplete(err error) error {
	return &BackfillError{Type: ErrorBatchIncomplete, Err: err}
}

// requestKind tells a backfill request from a stream event by its
// top-level fields. A stream event (whose first field is Records) is not
// parsed here.
func requestKind(payload []byte) string {
	i := 0
	for i < len(payload) && (payload[i] == ' ' || payload[i] == '\t' || payload[i] == '\n' || payload[i] == '\r') {
		i++
	}
	if i < len(payload) && payload[i] == '{' && strings.HasPrefix(strings.TrimLeft(string(payload[i+1:min(len(payload), i+32)]), " \t\r\n"), `"Records"`) {
		return requestStream
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(payload)
	if err != nil || v.Type() != fastjson.TypeObject {
		return requestStream
	}
	switch {
	case v.Exists("Items") && v.Exists("BatchInput"):
		return requestBatch
	case v.Exists(requestPlan) && !v.Exists("Records"):
		return requestPlan
	case v.Exists(requestFinish) && !v.Exists("Records"):
		return requestFinish
	}
	return requestStream
}

// exportRequest names an export and (optionally) the lake.
type exportRequest struct {
	Export string `json:"export"`
	Lake   string `json:"lake"`
}

// batchRequest is a Distributed Map batch.
type batchRequest struct {
	Items      []json.RawMessage `json:"Items"`
	BatchInput exportRequest     `json:"BatchInput"`
}

// BatchResult is the answer to a map batch.
type BatchResult struct {
	// DataFiles is the number of data files of the batch.
	DataFiles int `json:"dataFiles"`
	// Records counts the items read from them, Rows those written,
	// SetAside those put in the quarantine.
	Records  int `json:"records"`
	Rows     int `json:"rows"`
	SetAside int `json:"setAside"`
	// Files and Bytes count the Parquet files written.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// InputErrors are the data files that could not be read whole
	// (missing, a failed check): listed in _errors/_inputs/.
	InputErrors []string `json:"inputErrors,omitempty"`
}

// PlanResult is the answer to a plan request: what the Map reads.
type PlanResult struct {
	// Export is the export folder, s3://bucket/prefix/AWSDynamoDB/<id>/.
	Export string `json:"export"`
	// Bucket and FilesKey locate its manifest-files.json.
	Bucket   string `json:"bucket"`
	FilesKey string `json:"filesKey"`
	// Table is the DynamoDB table exported.
	Table string `json:"table"`
	// ItemCount is the summary's item count (-1 when it gives none).
	ItemCount int64 `json:"itemCount"`
}

// FinishResult is the answer to a finish request.
type FinishResult struct {
	Export string `json:"export"`
	// ItemCount is the export's item count; Records must equal it.
	ItemCount int64 `json:"itemCount"`
	Records   int64 `json:"records"`
	Rows      int64 `json:"rows"`
	SetAside  int64 `json:"setAside"`
	Files     int64 `json:"files"`
	Bytes     int64 `json:"bytes"`
	// DataFiles is the number of data files the export lists, Written
	// those whose batch finished.
	DataFiles int `json:"dataFiles"`
	Written   int `json:"written"`
	// Missing and Short name (the first of) the data files not written,
	// and those whose records differ from their itemCount.
	Missing []string `json:"missing,omitempty"`
	Short   []string `json:"short,omitempty"`
	// DDL is where the Athena statements of the lake's tables were
	// written (s3://.../_ddblake/backfill/<export>/athena.sql).
	DDL string `json:"ddl,omitempty"`
}

// fileRecord is what a finished batch records of each of its data files,
// at backfillKey: Finish adds them up.
type fileRecord struct {
	Export    string `json:"export"`
	File      string `json:"file"` // dataFileS3Key
	ItemCount int64  `json:"itemCount"`
	Records   int    `json:"records"`
	Rows      int    `json:"rows"`
	SetAside  int    `json:"setAside"`
	Files     int    `json:"files"`
	Bytes     int64  `json:"bytes"`
}

// BackfillPrefix is where the backfill's records are kept in the lake.
const BackfillPrefix = "_ddblake/backfill/"

// backfillDir is the folder of one export's records: its id (the export
// folder's name) and a hash of its location, so that two copies of an
// export are told apart.
func backfillDir(exportName string) string {
	h := sha256.Sum256([]byte(exportName))
	return BackfillPrefix + stem(path.Base(exportName)) + "-" + hex.EncodeToString(h[:6]) + "/"
}

// backfillKey is the record of one data file of an export.
func backfillKey(exportName, dataFileKey string) string {
	h := sha256.Sum256([]byte(dataFileKey))
	return backfillDir(exportName) + "files/" + hex.EncodeToString(h[:12]) + ".json"
}

// stem keeps [A-Za-z0-9_-] of s (others become '_'), at most 64 bytes,
// starting with a letter or digit.
func stem(s string) string {
	b := []byte(s)
	if len(b) > 64 {
		b = b[:64]
	}
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || !(b[0] >= 'a' && b[0] <= 'z' || b[0] >= 'A' && b[0] <= 'Z' || b[0] >= '0' && b[0] <= '9') {
		b = append([]byte("e"), b...)
	}
	return string(b)
}

// invokeBackfill answers a backfill request and writes its summary line.
func (h *Handler) invokeBackfill(ctx context.Context, kind string, payload []byte) ([]byte, error) {
	start := h.now()
	var (
		out []byte
		err error
		log = backfillLog{kind: kind}
	)
	switch kind {
	case requestPlan:
		out, err = h.plan(ctx, payload, &log)
	case requestBatch:
		out, err = h.writeBatch(ctx, payload, &log)
	case requestFinish:
		out, err = h.finish(ctx, payload, &log)
	}
	h.reportBackfill(ctx, &log, err, start, h.now())
	if err != nil {
		return nil, lambdaError(err)
	}
	return out, nil
}

// openExport resolves an export folder (or its manifest-summary.json),
// as `ddblake replay` resolves it, so that both name the export and its
// batches alike.
func (h *Handler) openExport(ctx context.Context, req exportRequest) (decode.Input, error) {
	if req.Lake != "" && strings.TrimSuffix(req.Lake, "/") != strings.TrimSuffix(h.Lake, "/") {
		return decode.Input{}, badBatch("the request's lake %s is not this function's (%s=%s)", req.Lake, EnvLake, h.Lake)
	}
	loc := strings.TrimSuffix(req.Export, "/")
	if loc == "" {
		return decode.Input{}, badBatch("no export: want \"export\": \"s3://bucket/prefix/AWSDynamoDB/<id>/\"")
	}
	if path.Base(loc) != decode.ExportSummaryName {
		loc += "/" + decode.ExportSummaryName
	}
	if h.Exports == nil {
		return decode.Input{}, badBatch("this function reads no exports")
	}
	ins, err := h.Exports.Resolve(ctx, loc)
	switch {
	case errors.Is(err, decode.ErrNotFound):
		return decode.Input{}, badBatch("export %s: %w", req.Export, err)
	case err != nil:
		return decode.Input{}, incomplete(fmt.Errorf("export %s: %w", req.Export, err))
	case len(ins) != 1 || ins[0].Kind != decode.InputExport:
		return decode.Input{}, badBatch("export %s: not an export folder", req.Export)
	}
	return ins[0], nil
}

// exportSummary reads the export a plan or finish request names (the
// request under key in payload) and its summary.
func (h *Handler) exportSummary(ctx context.Context, payload []byte, key string, log *backfillLog) (decode.Input, *decode.Decoder, decode.ExportSummary, error) {
	var fields map[string]json.RawMessage
	var req exportRequest
	err := json.Unmarshal(payload, &fields)
	if raw, ok := fields[key]; err == nil && ok {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil {
		return decode.Input{}, nil, decode.ExportSummary{}, badBatch("%w: %w", ErrBadPayload, err)
	}
	log.export = req.Export
	in, err := h.openExport(ctx, req)
	if err != nil {
		return decode.Input{}, nil, decode.ExportSummary{}, err
	}
	dec, err := decode.NewDecoder(decode.Options{})
	if err != nil {
		return decode.Input{}, nil, decode.ExportSummary{}, err
	}
	sum, err := dec.ExportSummary(ctx, in)
	if err != nil {
		return decode.Input{}, nil, decode.ExportSummary{}, exportErr(in, err)
	}
	return in, dec, sum, nil
}

// plan reads the export's summary: where the Map finds its file list.
func (h *Handler) plan(ctx context.Context, payload []byte, log *backfillLog) ([]byte, error) {
	in, _, sum, err := h.exportSummary(ctx, payload, requestPlan, log)
	if err != nil {
		return nil, err
	}
	bucket, dir, ok := strings.Cut(strings.TrimPrefix(in.Name, "s3://"), "/")
	if !strings.HasPrefix(in.Name, "s3://") || !ok {
		return nil, badBatch("export %s: the Map reads exports in S3 only", in.Name)
	}
	res := PlanResult{Export: in.Name + "/", Bucket: bucket, FilesKey: dir + "/" + decode.ExportFilesName,
		Table: sum.Table, ItemCount: sum.ItemCount}
	log.counts.Records = int(max(sum.ItemCount, 0))
	return json.Marshal(res)
}

// exportErr classes an error reading an export's manifests: one the
// export's content causes is a BadBatch, anything else (a read that
// failed) may pass on a retry.
func exportErr(in decode.Input, err error) error {
	if contentError(err) {
		return badBatch("export %s: %w", in.Name, err)
	}
	return incomplete(fmt.Errorf("export %s: %w", in.Name, err))
}

// contentErrors are the input errors an export's content causes: a
// retry reads the same content, and fails the same way.
var contentErrors = []error{
	decode.ErrBadManifest, decode.ErrUnsupported, decode.ErrMissingFile, decode.ErrChecksum,
	decode.ErrItemCount, decode.ErrCorruptGzip, decode.ErrEmpty, decode.ErrTruncated,
	decode.ErrBadDocument, decode.ErrRecordTooLarge, decode.ErrLineTooLong, decode.ErrUnknownFormat,
	decode.ErrNoTable, decode.ErrNoTime, decode.ErrBadTable,
}

func contentError(err error) bool {
	for _, c := range contentErrors {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}

// writeBatch writes the data files of a map batch into the lake, with the
// code and object names of `ddblake replay`, and lists them in their
// partitions' manifests only once every batch of rows is written: a batch
// cut short (the deadline, a store failure) lists nothing and fails whole,
// and its retry writes the same objects and lists them.
func (h *Handler) writeBatch(ctx context.Context, payload []byte, log *backfillLog) ([]byte, error) {
	var req batchRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, badBatch("%w: %w", ErrBadPayload, err)
	}
	log.export = req.BatchInput.Export
	if len(req.Items) == 0 {
		return nil, badBatch("a map batch with no Items")
	}
	in, err := h.openExport(ctx, req.BatchInput)
	if err != nil {
		return nil, err
	}
	var lines []byte
	for _, it := range req.Items {
		var compact []byte
		if compact, err = compactJSON(it); err != nil {
			return nil, badBatch("Items: %w", err)
		}
		lines = append(append(lines, compact...), '\n')
	}
	all := in
	all.Files = lines
	dec, err := decode.NewDecoder(decode.Options{})
	if err != nil {
		return nil, err
	}
	files, errs := dec.ExportDataFiles(ctx, all)
	if len(errs) > 0 {
		return nil, exportErr(in, errors.Join(errs...))
	}
	log.dataFiles = len(files)
	sum, err := dec.ExportSummary(ctx, in)
	if err != nil {
		return nil, exportErr(in, err)
	}
	// One input a data file, so that the files are decoded in parallel;
	// their objects are named alike (by the export and the data file).
	inputs := make([]decode.Input, len(files))
	for i, f := range files {
		inputs[i] = in
		inputs[i].Files = fileLine(lines, f.Line)
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
	lake := direct.NewDeferred(h.Store)
	r := &pipeline.Replay{
		Processor: &pipeline.Processor{
			Config:      h.Processor.Config,
			Schemas:     h.Processor.Schemas,
			Destination: lake,
			Quarantine:  h.Processor.Quarantine,
		},
		Inputs:  h.Inputs,
		Workers: h.BackfillWorkers,
	}
	if r.Workers <= 0 {
		r.Workers = max(2, runtime.NumCPU())
	}
	// The data files read at once are kept in /tmp while checked, as far
	// as its default 512 MB holds them; a larger one is read again.
	r.Decode.SpoolBytes = lambdaSpoolBytes / int64(r.Workers)
	run, err := r.Run(ctx, inputs)
	if err != nil {
		return nil, err
	}
	log.counts = run.Counts
	var failed []error
	res := BatchResult{DataFiles: len(files), Records: run.Records, Rows: run.Rows, SetAside: run.SetAside, Files: run.Files, Bytes: run.Bytes}
	for _, e := range run.InputErrors {
		if contentError(e) {
			res.InputErrors = append(res.InputErrors, e.Error())
		} else {
			failed = append(failed, e)
		}
	}
	failed = append(failed, run.WriteErrors...)
	if len(failed) > 0 {
		return nil, incomplete(fmt.Errorf("%d data files: %w", len(files), errors.Join(failed...)))
	}
	// A full export's rows all land in one partition per table (the
	// export's second): Finish lists every batch's files there at once,
	// rather than each batch rewriting that partition's growing manifest.
	// An incremental export's rows spread over their days: each batch
	// lists its own.
	if sum.Incremental {
		if err := lake.Flush(ctx); err != nil {
			return nil, incomplete(fmt.Errorf("list the written files in their manifests: %w", err))
		}
	}
	for _, f := range files {
		c := run.Sources[f.Name]
		rec := fileRecord{Export: in.Name + "/", File: f.Key, ItemCount: f.ItemCount, Records: c.Records,
			Rows: c.Rows, SetAside: c.SetAside, Files: c.Files, Bytes: c.Bytes}
		body, _ := json.Marshal(rec)
		if err := h.Store.Put(ctx, backfillKey(in.Name, f.Key), append(body, '\n')); err != nil {
			return nil, incomplete(fmt.Errorf("record data file %s: %w", f.Key, err))
		}
	}
	return json.Marshal(res)
}

// finish checks the backfill of an export: every data file the export
// lists has its record, and each record's count of items read equals the
// file's itemCount, which add up to the summary's. It writes the Athena
// statements of the lake's tables beside the records.
func (h *Handler) finish(ctx context.Context, payload []byte, log *backfillLog) ([]byte, error) {
	in, dec, sum, err := h.exportSummary(ctx, payload, requestFinish, log)
	if err != nil {
		return nil, err
	}
	files, errs := dec.ExportDataFiles(ctx, in)
	if len(errs) > 0 {
		return nil, exportErr(in, errors.Join(errs...))
	}
	objs, err := h.Store.List(ctx, backfillDir(in.Name)+"files/")
	if err != nil {
		return nil, incomplete(fmt.Errorf("list the data files written: %w", err))
	}
	recs := map[string]fileRecord{}
	for _, o := range objs {
		body, err := h.Store.Get(ctx, o.Key)
		if err != nil {
			return nil, incomplete(fmt.Errorf("read %s: %w", o.Key, err))
		}
		var r fileRecord
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, incomplete(fmt.Errorf("read %s: %w", o.Key, err))
		}
		recs[r.File] = r
	}
	res := FinishResult{Export: in.Name + "/", ItemCount: sum.ItemCount, DataFiles: len(files)}
	const listed = 20
	var listedCount int64
	for _, f := range files {
		listedCount += max(f.ItemCount, 0)
		r, ok := recs[f.Key]
		if !ok {
			if len(res.Missing) < listed {
				res.Missing = append(res.Missing, f.Key)
			}
			continue
		}
		res.Written++
		res.Records += int64(r.Records)
		res.Rows += int64(r.Rows)
		res.SetAside += int64(r.SetAside)
		res.Files += int64(r.Files)
		res.Bytes += r.Bytes
		if f.ItemCount >= 0 && int64(r.Records) != f.ItemCount && len(res.Short) < listed {
			res.Short = append(res.Short, fmt.Sprintf("%s: %d of %d items", f.Key, r.Records, f.ItemCount))
		}
	}
	if res.ItemCount < 0 {
		res.ItemCount = listedCount
	}
	log.dataFiles, log.counts.Records, log.counts.Rows, log.counts.SetAside = len(files), int(res.Records), int(res.Rows), int(res.SetAside)

	if res.Written == res.DataFiles && len(res.Short) == 0 && res.Records == res.ItemCount && !sum.Incremental {
		if err := h.listExport(ctx, in, sum, files); err != nil {
			return nil, incomplete(err)
		}
	}
	ddl, derr := h.writeDDL(ctx, in)
	res.DDL = ddl
	out, _ := json.Marshal(res)
	switch {
	case res.Written < res.DataFiles || len(res.Short) > 0 || res.Records != res.ItemCount:
		return nil, &BackfillError{Type: ErrorCountMismatch, Err: fmt.Errorf(
			"export %s: %d of %d data files written, %d records read of %d items exported: %s",
			in.Name, res.Written, res.DataFiles, res.Records, res.ItemCount, out)}
	case derr != nil:
		return nil, incomplete(derr)
	}
	return out, nil
}

// listExport lists, in their partitions' manifests, the files the map
// batches wrote for a full export: in each table of the lake, the files
// of the export's partition whose names say they hold one of its data
// files (pipeline.ExportFileObjects). Files already listed stay listed;
// files compaction replaced are not listed again (manifest.Add).
func (h *Handler) listExport(ctx context.Context, in decode.Input, sum decode.ExportSummary, files []decode.ExportDataFile) error {
	prefixes := make([]string, len(files))
	for i, f := range files {
		prefixes[i] = pipeline.ExportFileObjects(in, f)
	}
	slices.Sort(prefixes)
	ours := func(name string) bool {
		i, _ := slices.BinarySearch(prefixes, name)
		return i > 0 && strings.HasPrefix(name, prefixes[i-1])
	}
	tables, err := sink.NewRegistry(h.Store).LoadAll(ctx)
	if err != nil {
		return fmt.Errorf("list the written files: %w", err)
	}
	for _, name := range tables.Tables() {
		s, _ := tables.Get(name)
		p := sink.PartitionOf(sum.EventTimeMicros/1000, s.Hourly)
		dir := manifest.PartitionDir(name, p)
		objs, err := h.Store.List(ctx, dir)
		if err != nil {
			return fmt.Errorf("list the written files of %s: %w", dir, err)
		}
		var keys []string
		for _, o := range objs {
			base := strings.TrimPrefix(o.Key, dir)
			if !strings.Contains(base, "/") && strings.HasSuffix(base, ".parquet") && ours(base) {
				keys = append(keys, o.Key)
			}
		}
		if len(keys) == 0 {
			continue
		}
		if _, err := manifest.Add(ctx, h.Store, name, p, keys); err != nil {
			return fmt.Errorf("list the written files in %s's manifest: %w", dir, err)
		}
	}
	return nil
}

// writeDDL writes the Athena statements of every table of the lake (what
// `ddblake ddl` prints) beside the export's records, and returns where. A
// local lake (a function tried outside AWS) has no location for Athena:
// nothing is written.
func (h *Handler) writeDDL(ctx context.Context, in decode.Input) (string, error) {
	if !strings.HasPrefix(h.Lake, "s3://") {
		return "", nil
	}
	script, err := athenaScript(ctx, h.Store, h.Lake, h.Processor.Config)
	if err != nil {
		return "", fmt.Errorf("tables' DDL: %w", err)
	}
	key := backfillDir(in.Name) + "athena.sql"
	if err := h.Store.Put(ctx, key, []byte(script)); err != nil {
		return "", fmt.Errorf("tables' DDL: %w", err)
	}
	return strings.TrimSuffix(h.Lake, "/") + "/" + key, nil
}

// fileLine is the line'th line (1-based) of lines.
func fileLine(lines []byte, line int) []byte {
	for i := 1; i < line; i++ {
		_, lines, _ = bytes.Cut(lines, []byte{'\n'})
	}
	l, _, _ := bytes.Cut(lines, []byte{'\n'})
	return append(l[:len(l):len(l)], '\n')
}

// compactJSON is raw without insignificant white space.
func compactJSON(raw json.RawMessage) ([]byte, error) {
	var v fastjson.Parser
	val, err := v.ParseBytes(raw)
	if err != nil {
		return nil, err
	}
	if val.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("an item is not a manifest-files.json line (a JSON object)")
	}
	return val.MarshalTo(nil), nil
}

// backfillLog is what one backfill request did, for its summary line.
type backfillLog struct {
	kind      string
	export    string
	dataFiles int
	counts    pipeline.Counts
}

// BackfillMessage is the msg of a backfill request's summary line.
const BackfillMessage = "backfill"

// reportBackfill writes a backfill request's summary line (slog JSON) and
// its metrics line (Embedded Metric Format), as report does for batches.
func (h *Handler) reportBackfill(ctx context.Context, log *backfillLog, err error, start, end time.Time) {
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.String("request_id", requestID),
		slog.String("request", log.kind),
		slog.String("export", log.export),
		slog.Int("data_files", log.dataFiles),
		slog.Int("records", log.counts.Records),
		slog.Int("rows", log.counts.Rows),
		slog.Int("set_aside", log.counts.SetAside),
		slog.Int("misfits", log.counts.Misfits),
		slog.Int("files", log.counts.Files),
		slog.Int64("bytes", log.counts.Bytes),
		slog.Any("tables", tableRows(log.counts.TableRows)),
		slog.Int64("duration_ms", end.Sub(start).Milliseconds()),
	}
	if err != nil {
		level = slog.LevelError
		kind := "error"
		var be *BackfillError
		if errors.As(err, &be) {
			kind = be.Type
		}
		attrs = append(attrs, slog.String("error", err.Error()), slog.String("error_type", kind),
			slog.Bool("deadline", errors.Is(err, context.DeadlineExceeded)))
	}
	h.outMu.Lock()
	defer h.outMu.Unlock()
	logger := slog.New(slog.NewJSONHandler(h.Out, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				a.Value = slog.TimeValue(end.UTC())
			}
			return a
		},
	}))
	logger.LogAttrs(context.Background(), level, BackfillMessage, attrs...)
	inv := &invocation{res: pipeline.Result{Counts: log.counts}}
	h.writeMetrics(h.Out, inv, end, 0, end.Sub(start).Milliseconds())
}
