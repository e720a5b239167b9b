package decode

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/valyala/fastjson"
)

// Export manifest names and values.
const (
	exportFilesName        = "manifest-files.json"
	exportFormatJSON       = "DYNAMODB_JSON"
	exportTypeIncremental  = "INCREMENTAL_EXPORT"
	maxSummaryBytes        = 1 << 20
	maxManifestFilesBytes  = 256 << 20
	exportKeyMarker        = "AWSDynamoDB/"
	exportArnMarker        = "/export/"
	exportSummaryTimeField = "exportTime"
)

// exportSummary is what decoding needs of manifest-summary.json.
type exportSummary struct {
	table       string
	account     string // from tableArn; "" when unknown
	region      string
	tableErr    error // the table name is missing or invalid
	time        int64 // exportTime, Unix µs
	incremental bool
	itemCount   int64 // -1 when absent
	exportID    string
	filesKey    string // manifestFilesS3Key, bucket-relative
}

// exportFile is one line of manifest-files.json.
type exportFile struct {
	line      int
	key       string // dataFileS3Key
	md5       string // base64 (or hex) MD5 of the data file; "" unchecked
	itemCount int64  // -1 unchecked
}

// ExportEventTime is the event time of a full export's items, in Unix
// microseconds, from its export time: the export time floored to the
// second. DynamoDB stream records carry their time rounded down to the
// second, so a change made in the export's second, after the export,
// carries the export's second too; its row ranks above the export's rows
// (same time, and a sequence number where the export has none), and the
// latest view shows it, not the export's older state. A change made in
// that second before the export ranks above too: it is the state the
// export holds, or older than a later change of the same second.
func ExportEventTime(micros int64) int64 { return micros - micros%1_000_000 }

// ExportSummaryName and ExportFilesName are an export's manifests: its
// summary, and its list of data files (one JSON line each).
const (
	ExportSummaryName = exportSummaryName
	ExportFilesName   = exportFilesName
)

// ExportSummary is what an export's manifest-summary.json says.
type ExportSummary struct {
	// Table is the DynamoDB table exported (from tableArn).
	Table string
	// ItemCount is the number of items exported; -1 when not given.
	ItemCount int64
	// Incremental is true for an incremental export.
	Incremental bool
	// ExportID is the export's id, from exportArn ("" when not given).
	ExportID string
	// EventTimeMicros is the event time of a full export's items (see
	// ExportEventTime), Unix microseconds; 0 for an incremental export,
	// whose items carry their own.
	EventTimeMicros int64
}

// ExportDataFile is one data file an export lists.
type ExportDataFile struct {
	// Line is its line in manifest-files.json (or in Input.Files).
	Line int
	// Key is its dataFileS3Key, as listed.
	Key string
	// Name is the name its records carry as their Source: the export's
	// name followed by the file's path inside the export.
	Name string
	// ItemCount is the items it holds; -1 when not listed.
	ItemCount int64
}

// ExportSummary reads the manifest-summary.json of an export input. The
// error is an *InputError (ErrBadManifest, ErrUnsupported...), or the
// store's when the summary cannot be read.
func (d *Decoder) ExportSummary(ctx context.Context, in Input) (ExportSummary, error) {
	p, err := d.readExport(ctx, in, false)
	if err != nil {
		return ExportSummary{}, err
	}
	return ExportSummary{Table: p.sum.table, ItemCount: p.sum.itemCount, Incremental: p.sum.incremental,
		ExportID: p.sum.exportID, EventTimeMicros: p.sum.time}, nil
}

// ExportDataFiles lists the data files an export input reads: those of
// its manifest-files.json, or of in.Files when set, each once, in order.
// Lines that cannot be read, and keys that would leave the export's
// folder, are *InputErrors; the other files are returned.
func (d *Decoder) ExportDataFiles(ctx context.Context, in Input) ([]ExportDataFile, []error) {
	p, err := d.readExport(ctx, in, true)
	if err != nil {
		return nil, []error{err}
	}
	var out []ExportDataFile
	errs := p.errs
	for _, f := range p.files {
		rel, err := dataFileRel(f.key, p.sum)
		if err != nil {
			errs = append(errs, inputErr(p.filesName, f.line, -1, -1, err))
			continue
		}
		out = append(out, ExportDataFile{Line: f.line, Key: f.key, Name: p.name(rel), ItemCount: f.itemCount})
	}
	return out, errs
}

// exportPlan is an export's summary and list of data files.
type exportPlan struct {
	sum       exportSummary
	sumName   string
	files     []exportFile
	filesName string
	errs      []error // lines of the list that cannot be read
	join      func(rel string) string
	name      func(rel string) string
}

// readExport reads an export's summary and, with files, its list of data
// files: manifest-files.json, or in.Files when set. A data file listed
// twice is listed once. The error is the summary's or the list's, as an
// *InputError.
func (d *Decoder) readExport(ctx context.Context, in Input, files bool) (*exportPlan, error) {
	p := &exportPlan{
		join: func(rel string) string {
			if in.Key == "" {
				return rel
			}
			return in.Key + "/" + rel
		},
		name: func(rel string) string {
			if in.Name == "" || in.Name == "." {
				return rel
			}
			return strings.TrimSuffix(in.Name, "/") + "/" + rel
		},
	}
	p.sumName = p.name(ExportSummaryName)
	b, err := d.readObject(ctx, in.Store, p.join(ExportSummaryName), maxSummaryBytes)
	if err != nil {
		return nil, inputErr(p.sumName, 0, -1, -1, err)
	}
	if p.sum, err = d.parseSummary(b); err != nil {
		return nil, inputErr(p.sumName, 0, -1, -1, err)
	}
	if !files {
		return p, nil
	}
	p.filesName = p.name(exportFilesName)
	if in.Files != nil {
		p.filesName += " (the lines given)"
		b = in.Files
	} else if b, err = d.readObject(ctx, in.Store, p.join(exportFilesName), maxManifestFilesBytes); err != nil {
		return nil, inputErr(p.filesName, 0, -1, -1, err)
	}
	listed, errs := parseManifestFiles(b, p.filesName)
	seen := make(map[string]bool, len(listed))
	for _, f := range listed {
		if !seen[f.key] {
			seen[f.key] = true
			p.files = append(p.files, f)
		}
	}
	p.errs = errs
	if len(p.files) == 0 && len(errs) == 0 {
		p.errs = append(p.errs, inputErr(p.filesName, 0, -1, -1, fmt.Errorf("%w: no data files listed", ErrBadManifest)))
	}
	return p, nil
}

// decodeExport reads an export directory: its summary, its files
// manifest (or in.Files), then each data file in manifest order, checked
// against its MD5 and item count. A file that fails a check has its
// records passed to fn as RecordErrors (ErrChecksum, ErrItemCount) and is
// an InputError; a missing file is an InputError; the other files go on.
func (d *Decoder) decodeExport(ctx context.Context, in Input, fn RecordFunc) error {
	p, err := d.readExport(ctx, in, true)
	if err != nil {
		return err
	}
	sum, errs := p.sum, p.errs
	mode := lineMode{format: FormatExport, table: sum.table, account: sum.account, region: sum.region, time: sum.time, dated: true}
	if sum.incremental {
		mode.format = FormatIncremental
		mode.time = 0
	}
	if sum.tableErr != nil {
		mode.setAside = sum.tableErr
	}
	var listed int64
	for _, f := range p.files {
		listed += max(f.itemCount, 0)
		rel, err := dataFileRel(f.key, sum)
		if err != nil {
			errs = append(errs, inputErr(p.filesName, f.line, -1, -1, err))
			continue
		}
		ferrs, fatal := d.decodeExportFile(ctx, in.Store, p.join(rel), p.name(rel), f, mode, fn)
		errs = append(errs, ferrs...)
		if fatal != nil {
			return errors.Join(append(errs, fatal)...)
		}
	}
	if in.Files == nil && sum.itemCount >= 0 && len(errs) == 0 && listed != sum.itemCount {
		errs = append(errs, inputErr(p.sumName, 0, -1, -1, fmt.Errorf("%w: the summary counts %d items, %s lists %d", ErrItemCount, sum.itemCount, exportFilesName, listed)))
	}
	return errors.Join(errs...)
}

// decodeExportFile checks and decodes one data file. A file with an MD5
// or an item count listed is read once: its decompressed bytes are kept
// in a spool (Options.SpoolBytes) while they are hashed and counted, and
// decoded from there once the file has passed or failed its checks; a
// file the spool could not take is read again. It returns the input
// errors of the file, and fatal when decoding must stop (an error of fn
// or of ctx).
func (d *Decoder) decodeExportFile(ctx context.Context, store ObjectReader, key, name string, f exportFile, mode lineMode, fn RecordFunc) (errs []error, fatal error) {
	missing := func(err error) []error {
		if errors.Is(err, fs.ErrNotExist) {
			return []error{inputErr(name, 0, -1, -1, fmt.Errorf("%w: %s (listed at %s line %d)", ErrMissingFile, name, exportFilesName, f.line))}
		}
		return []error{inputErr(name, 0, -1, -1, err)}
	}
	var kept *dataSpool
	if f.md5 != "" || f.itemCount >= 0 {
		sp := &dataSpool{limit: d.opts.SpoolBytes}
		defer sp.discard()
		sum, count, gzErr, err := d.verifyDataFile(ctx, store, key, sp)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return missing(err), nil
		}
		var bad error
		switch {
		case f.md5 != "" && !md5Equal(f.md5, sum):
			bad = fmt.Errorf("%w: %s lists %s, the file's MD5 is %s", ErrChecksum, exportFilesName, f.md5, base64.StdEncoding.EncodeToString(sum))
		case f.itemCount >= 0 && gzErr == nil && count != f.itemCount:
			bad = fmt.Errorf("%w: %s lists %d items, the file holds %d", ErrItemCount, exportFilesName, f.itemCount, count)
		case f.itemCount == 0 && count == 0 && gzErr == nil:
			return nil, nil // an empty data file, as listed
		}
		if bad != nil {
			errs = append(errs, inputErr(name, 0, -1, -1, bad))
			mode.setAside = bad
		}
		if sp.kept() {
			kept = sp
		}
	}
	if kept != nil {
		err := d.decodeBody(ctx, kept.open, name, mode.format, mode, fn)
		return decodedFile(errs, err)
	}
	rc, err := store.Open(ctx, key)
	if err != nil {
		return append(errs, missing(err)...), nil
	}
	defer rc.Close()
	err = d.decodeStream(ctx, rc, name, mode.format, mode, fn)
	return decodedFile(errs, err)
}

// decodedFile adds the error of decoding a data file to errs, its input
// errors, or returns it as fatal.
func decodedFile(errs []error, err error) ([]error, error) {
	var ie *InputError
	switch {
	case err == nil:
	case errors.As(err, &ie):
		errs = append(errs, err)
	default:
		return errs, err
	}
	return errs, nil
}

// verifyDataFile reads a data file once for its MD5 and its number of
// non-blank lines (decompressed), keeping the decompressed bytes in sp.
// gzErr is set when the gzip data is corrupt (the count is then of the
// lines before the break).
func (d *Decoder) verifyDataFile(ctx context.Context, store ObjectReader, key string, sp *dataSpool) (sum []byte, count int64, gzErr error, err error) {
	rc, err := store.Open(ctx, key)
	if err != nil {
		return nil, 0, nil, err
	}
	defer rc.Close()
	h := md5.New()
	tee := io.TeeReader(rc, h)
	body, err := d.body.open(tee)
	if err != nil {
		gzErr = err
		sp.openErr, sp.ended = err, err
	} else {
		sp.src = body
		count, gzErr = d.countItems(ctx, sp)
		if ctx.Err() == nil {
			sp.drain() // what follows a break in the Ion, decoded too
		}
		sp.src = nil
	}
	d.body.release()
	if ctx.Err() != nil {
		return nil, 0, nil, ctx.Err()
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, 0, nil, fmt.Errorf("reading: %w", err)
	}
	if gzErr != nil && !errors.Is(gzErr, ErrCorruptGzip) && !errors.Is(gzErr, ErrBadIon) {
		return nil, 0, nil, gzErr // the file could not be read
	}
	return h.Sum(nil), count, gzErr, nil
}

// dataSpool keeps what a data file's decompressed data gives as it is
// read (its bytes, then its end: io.EOF or the error), in a temporary
// file, so that decoding it reads exactly what decompressing it again
// would give. Past limit bytes, or when the temporary file cannot be
// written, it gives up: the file must be read again.
type dataSpool struct {
	src     io.Reader // the decompressed data, while it is read
	limit   int64     // bytes it takes at most; < 0: none
	f       *os.File
	path    string // still to remove on discard, or ""
	size    int64
	ended   error // io.EOF or the data's error, once met
	openErr error // the data could not be opened (a bad gzip header)
	stopped bool  // gave up
}

// Read reads src, keeping what it gives.
func (s *dataSpool) Read(p []byte) (int, error) {
	n, err := s.src.Read(p)
	if n > 0 && !s.stopped {
		s.write(p[:n])
	}
	if err != nil && s.ended == nil {
		s.end(err)
	}
	return n, err
}

func (s *dataSpool) write(b []byte) {
	if s.limit < 0 || s.size+int64(len(b)) > s.limit {
		s.stop()
		return
	}
	if s.f == nil {
		f, err := os.CreateTemp("", "ddblake-export-*.tmp")
		if err != nil {
			s.stop()
			return
		}
		s.f = f
		if os.Remove(f.Name()) != nil {
			s.path = f.Name() // removed on discard (Windows)
		}
	}
	if _, err := s.f.Write(b); err != nil {
		s.stop()
		return
	}
	s.size += int64(len(b))
}

// end notes the end of the data: io.EOF or its error.
func (s *dataSpool) end(err error) { s.ended = err }

// drain reads src to its end, unless the spool gave up.
func (s *dataSpool) drain() {
	buf := make([]byte, 64<<10)
	for s.ended == nil && !s.stopped {
		_, _ = s.Read(buf)
	}
}

// kept reports whether the spool holds all of the data and its end.
func (s *dataSpool) kept() bool { return s.limit >= 0 && !s.stopped && s.ended != nil }

// open returns the data kept, which ends as the data ended; an error of
// the data's start (a gzip header that cannot be read) is returned as
// open's.
func (s *dataSpool) open() (io.Reader, error) {
	if s.openErr != nil {
		return nil, s.openErr
	}
	var r io.ReaderAt = emptyReaderAt{}
	if s.f != nil {
		r = s.f
	}
	return &spoolReader{r: io.NewSectionReader(r, 0, s.size), end: s.ended}, nil
}

func (s *dataSpool) stop() {
	s.stopped = true
	s.discard()
}

// discard closes and removes the temporary file.
func (s *dataSpool) discard() {
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	if s.path != "" {
		_ = os.Remove(s.path)
		s.path = ""
	}
}

// spoolReader reads a spool's bytes, then its end.
type spoolReader struct {
	r   *io.SectionReader
	end error
}

func (r *spoolReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	switch {
	case err == io.EOF:
		err = r.end
	case err != nil:
		err = fmt.Errorf("reading the spooled data file: %w", err)
	}
	return n, err
}

type emptyReaderAt struct{}

func (emptyReaderAt) ReadAt(p []byte, off int64) (int, error) { return 0, io.EOF }

// countLines counts the non-blank lines of r.
func countLines(ctx context.Context, r io.Reader) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	blank := true // the current line has only white space so far
	for chunk := 0; ; chunk++ {
		if err := checkCtx(ctx, chunk); err != nil {
			return n, err
		}
		m, err := r.Read(buf)
		b := buf[:m]
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			seg := b
			if i >= 0 {
				seg = b[:i]
			}
			if blank && !isBlank(seg) {
				blank = false
			}
			if i < 0 {
				break
			}
			if !blank {
				n++
			}
			blank = true
			b = b[i+1:]
		}
		if err == io.EOF {
			if !blank {
				n++
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func md5Equal(listed string, sum []byte) bool {
	if len(listed) == 32 {
		if b, err := hex.DecodeString(listed); err == nil {
			return bytes.Equal(b, sum)
		}
	}
	return listed == base64.StdEncoding.EncodeToString(sum)
}

// readObject reads a whole small object.
func (d *Decoder) readObject(ctx context.Context, store ObjectReader, key string, limit int64) ([]byte, error) {
	rc, err := store.Open(ctx, key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %v", ErrBadManifest, err)
		}
		return nil, err
	}
	defer rc.Close()
	body, err := d.body.open(rc)
	if err != nil {
		return nil, err
	}
	defer d.body.release()
	b, err := readAllLimit(body, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadManifest, err)
	}
	return b, nil
}

// parseSummary reads manifest-summary.json.
func (d *Decoder) parseSummary(b []byte) (exportSummary, error) {
	sum := exportSummary{itemCount: -1}
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil {
		return sum, fmt.Errorf("%w: not valid JSON: %v", ErrBadManifest, err)
	}
	if v.Type() != fastjson.TypeObject {
		return sum, fmt.Errorf("%w: want an object", ErrBadManifest)
	}
	if f := v.Get("outputFormat"); f != nil {
		if s := string(f.GetStringBytes()); s != exportFormatJSON && s != exportFormatION {
			return sum, fmt.Errorf("%w: outputFormat %q; %s and %s exports can be read", ErrUnsupported, clipS(s), exportFormatJSON, exportFormatION)
		}
	}
	switch t := v.GetStringBytes("exportType"); string(t) {
	case exportTypeIncremental:
		sum.incremental = true
	case "", "FULL_EXPORT":
	default:
		return sum, fmt.Errorf("%w: unknown exportType %q", ErrUnsupported, clip(t))
	}
	if c := v.Get("itemCount"); c != nil {
		n, err := c.Int64()
		if err != nil || n < 0 {
			return sum, fmt.Errorf("%w: itemCount is not a count", ErrBadManifest)
		}
		sum.itemCount = n
	}
	if arn := v.GetStringBytes("exportArn"); arn != nil {
		if i := bytes.LastIndex(arn, []byte(exportArnMarker)); i >= 0 {
			sum.exportID = string(arn[i+len(exportArnMarker):])
		}
	}
	sum.filesKey = string(v.GetStringBytes("manifestFilesS3Key"))
	if arn := v.GetStringBytes("tableArn"); arn != nil {
		a, ok := parseTableARN(arn)
		switch {
		case !ok:
			sum.tableErr = fmt.Errorf("%w: tableArn %q does not name a DynamoDB table", ErrBadTable, clip(arn))
		case !ValidTableName(string(a.name)):
			sum.tableErr = fmt.Errorf("%w: %q (from tableArn %q)", ErrBadTable, clip(a.name), clip(arn))
		default:
			sum.table = string(a.name)
			sum.account, sum.region = a.source()
		}
	} else if d.opts.Table != "" {
		sum.table = d.opts.Table
	} else {
		sum.tableErr = fmt.Errorf("%w: the export summary has no tableArn", ErrBadTable)
	}
	if !sum.incremental {
		t := v.Get(exportSummaryTimeField)
		if t == nil {
			return sum, fmt.Errorf("%w: no exportTime", ErrBadManifest)
		}
		if sum.time, err = d.timeMicros(t, unitSeconds); err != nil {
			return sum, fmt.Errorf("%w: exportTime: %v", ErrBadManifest, err)
		}
		sum.time = ExportEventTime(sum.time)
	}
	return sum, nil
}

// parseManifestFiles reads the JSON lines of manifest-files.json. Lines
// that cannot be read are returned as errors; the others go on.
func parseManifestFiles(b []byte, name string) ([]exportFile, []error) {
	var files []exportFile
	var errs []error
	var p fastjson.Parser
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1)
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes()
		if isBlank(text) {
			continue
		}
		bad := func(format string, args ...any) {
			errs = append(errs, inputErr(name, line, -1, -1, fmt.Errorf("%w: %s", ErrBadManifest, fmt.Sprintf(format, args...))))
		}
		v, err := p.ParseBytes(text)
		if err != nil {
			bad("not valid JSON: %v", err)
			continue
		}
		f := exportFile{line: line, itemCount: -1}
		key := v.GetStringBytes("dataFileS3Key")
		if len(key) == 0 {
			bad("no dataFileS3Key")
			continue
		}
		f.key = string(key)
		f.md5 = string(v.GetStringBytes("md5Checksum"))
		if c := v.Get("itemCount"); c != nil {
			n, err := c.Int64()
			if err != nil || n < 0 {
				bad("itemCount is not a count")
				continue
			}
			f.itemCount = n
		}
		files = append(files, f)
	}
	return files, errs
}

// dataFileRel returns the path of a data file inside the export folder
// from its bucket-relative key: the part after AWSDynamoDB/<exportId>/,
// or after the folder of manifestFilesS3Key. It refuses paths that
// would leave the folder.
func dataFileRel(key string, sum exportSummary) (string, error) {
	rel := ""
	switch {
	case sum.exportID != "" && strings.Contains(key, exportKeyMarker+sum.exportID+"/"):
		m := exportKeyMarker + sum.exportID + "/"
		rel = key[strings.LastIndex(key, m)+len(m):]
	case strings.Contains(key, exportKeyMarker):
		after := key[strings.LastIndex(key, exportKeyMarker)+len(exportKeyMarker):]
		if _, r, ok := strings.Cut(after, "/"); ok {
			rel = r
		}
	case sum.filesKey != "" && path.Dir(sum.filesKey) != "." && strings.HasPrefix(key, path.Dir(sum.filesKey)+"/"):
		rel = key[len(path.Dir(sum.filesKey))+1:]
	default:
		rel = key
	}
	if rel == "" || !filepath.IsLocal(rel) || strings.Contains(rel, `\`) || path.Clean(rel) != rel {
		return "", fmt.Errorf("%w: dataFileS3Key %q is not a file inside the export", ErrBadManifest, clipS(key))
	}
	return rel, nil
}
