package sample

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ddblake/ddblake/pipeline/ionexport"
)

// fileSink creates output files by slash-separated relative path.
type fileSink interface {
	create(name string) (io.WriteCloser, error)
}

// dirSink writes files under a local directory.
type dirSink struct{ root string }

func (d dirSink) create(name string) (io.WriteCloser, error) {
	p := filepath.Join(d.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.Create(p)
}

// writeFile writes data as the file name of sink.
func writeFile(sink fileSink, name string, data []byte) error {
	w, err := sink.create(name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	return w.Close()
}

// Export manifest versions.
const (
	fullExportVersion        = "2020-06-30"
	incrementalExportVersion = "2023-08-01"
)

// manifestSummary is manifest-summary.json.
type manifestSummary struct {
	Version            string  `json:"version"`
	ExportArn          string  `json:"exportArn"`
	StartTime          string  `json:"startTime"`
	EndTime            string  `json:"endTime"`
	TableArn           string  `json:"tableArn"`
	TableID            string  `json:"tableId"`
	ExportTime         string  `json:"exportTime,omitempty"`
	ExportFromTime     string  `json:"exportFromTime,omitempty"`
	ExportToTime       string  `json:"exportToTime,omitempty"`
	S3Bucket           string  `json:"s3Bucket"`
	S3Prefix           *string `json:"s3Prefix"`
	S3SseAlgorithm     string  `json:"s3SseAlgorithm"`
	S3SseKmsKeyID      *string `json:"s3SseKmsKeyId"`
	ManifestFilesS3Key string  `json:"manifestFilesS3Key"`
	BilledSizeBytes    int64   `json:"billedSizeBytes"`
	ItemCount          int64   `json:"itemCount"`
	OutputFormat       string  `json:"outputFormat"`
	OutputView         string  `json:"outputView,omitempty"`
	ExportType         string  `json:"exportType,omitempty"`
}

// manifestFile is one line of manifest-files.json.
type manifestFile struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

func isoMillis(micros int64) string {
	return time.UnixMicro(micros).UTC().Format("2006-01-02T15:04:05.000Z")
}

// Export formats (manifest-summary.json's outputFormat).
const (
	ExportJSON = "DYNAMODB_JSON"
	ExportION  = "ION"
)

// exportWriter writes one export directory: gzip data files of JSON
// lines (or, for ION, of the same items in text Ion, one a line as
// DynamoDB writes them), split at a target size, then the manifests. Only the data file
// being written is open; nothing else is held but the manifest entries.
type exportWriter struct {
	sink     fileSink
	local    string // the directory of the bucket root, within sink
	id       string // export id
	level    int    // gzip level
	fileSize int64  // start a new data file past this many raw bytes
	names    rnd
	format   string // ExportJSON or ExportION

	entries []manifestFile
	items   int64
	raw     int64

	cur struct {
		open  bool
		key   string
		f     io.WriteCloser
		buf   *bufio.Writer
		sum   hash.Hash
		gz    *gzip.Writer
		ion   *ionexport.Writer // ION: writes the items into gz
		items int64
		raw   int64
	}
}

// exportID is an export id as DynamoDB makes them: the start time in
// milliseconds, 14 digits, and 8 hex digits.
func exportID(r rnd, startMicros int64) string {
	return fmt.Sprintf("%014d-%s", startMicros/1000, r.hex(8))
}

func newExportWriter(sink fileSink, local, id string, level int, fileSize int64, names rnd) (*exportWriter, error) {
	e := &exportWriter{sink: sink, local: local, id: id, level: level, fileSize: fileSize, names: names, format: ExportJSON}
	// DynamoDB writes an empty _started object when the export begins.
	if err := writeFile(sink, e.path("_started"), nil); err != nil {
		return nil, err
	}
	return e, nil
}

// key is the S3 key of name inside the export (no prefix: the export was
// requested at the bucket root).
func (e *exportWriter) key(name string) string { return "AWSDynamoDB/" + e.id + "/" + name }

// path is where name is written in the sink.
func (e *exportWriter) path(name string) string { return path.Join(e.local, e.key(name)) }

func (e *exportWriter) openFile() error {
	ext := ".json.gz"
	if e.format == ExportION {
		ext = ".ion.gz"
	}
	name := "data/" + e.names.alnum(lowerAlnum, 26) + ext
	f, err := e.sink.create(e.path(name))
	if err != nil {
		return err
	}
	c := &e.cur
	c.open, c.key, c.f, c.items, c.raw = true, e.key(name), f, 0, 0
	c.sum = md5.New()
	c.buf = bufio.NewWriterSize(io.MultiWriter(f, c.sum), 256<<10)
	c.gz, err = gzip.NewWriterLevel(c.buf, e.level)
	if err != nil {
		f.Close()
		return err
	}
	c.ion = nil
	if e.format == ExportION {
		c.ion = ionexport.NewTextWriter(c.gz)
	}
	return nil
}

// closeFile finishes the current data file and adds its manifest entry.
func (e *exportWriter) closeFile() error {
	c := &e.cur
	if !c.open {
		return nil
	}
	c.open = false
	err := c.gz.Close()
	if err == nil {
		err = c.buf.Flush()
	}
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("data file %s: %w", c.key, err)
	}
	sum := c.sum.Sum(nil)
	e.entries = append(e.entries, manifestFile{
		ItemCount:     c.items,
		MD5Checksum:   base64.StdEncoding.EncodeToString(sum),
		ETag:          hex.EncodeToString(sum),
		DataFileS3Key: c.key,
	})
	return nil
}

// emptyFile adds a data file without items, as DynamoDB writes for an
// empty partition.
func (e *exportWriter) emptyFile() error {
	if err := e.closeFile(); err != nil {
		return err
	}
	if err := e.openFile(); err != nil {
		return err
	}
	return e.closeFile()
}

// writeLine adds one JSON line (with its newline) for one item.
func (e *exportWriter) writeLine(line []byte) error {
	if e.cur.open && e.cur.raw >= e.fileSize {
		if err := e.closeFile(); err != nil {
			return err
		}
	}
	if !e.cur.open {
		if err := e.openFile(); err != nil {
			return err
		}
	}
	var err error
	if e.cur.ion != nil {
		err = e.cur.ion.WriteLine(bytes.TrimSuffix(line, []byte("\n")))
	} else {
		_, err = e.cur.gz.Write(line)
	}
	if err != nil {
		return fmt.Errorf("data file %s: %w", e.cur.key, err)
	}
	e.cur.items++
	e.cur.raw += int64(len(line))
	e.items++
	e.raw += int64(len(line))
	return nil
}

// finish closes the last data file and writes the manifests; s is
// completed with the counts and keys.
func (e *exportWriter) finish(s manifestSummary) error {
	if err := e.closeFile(); err != nil {
		return err
	}
	if len(e.entries) == 0 {
		// An export always has a data file, empty when the table is.
		if err := e.emptyFile(); err != nil {
			return err
		}
	}
	var lines []byte
	for _, m := range e.entries {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		lines = append(append(lines, b...), '\n')
	}
	if err := writeFile(e.sink, e.path("manifest-files.json"), lines); err != nil {
		return err
	}
	s.ManifestFilesS3Key = e.key("manifest-files.json")
	s.ItemCount = e.items
	s.S3Bucket = exportBucket
	s.S3SseAlgorithm = "AES256"
	s.OutputFormat = e.format
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return writeFile(e.sink, e.path("manifest-summary.json"), append(b, '\n'))
}

// appendExportItem appends a full export data line.
func appendExportItem(dst []byte, it item) []byte {
	dst = append(dst, `{"Item":`...)
	dst = appendItem(dst, it)
	return append(dst, "}\n"...)
}

// appendIncrementalLine appends an incremental export data line. The
// write timestamp is spelled in each of the ways seen in the wild, in
// turn by variant.
func appendIncrementalLine(dst []byte, keys, old, new item, micros int64, variant uint32) []byte {
	dst = append(dst, `{"Metadata":{"WriteTimestampMicros":`...)
	ts := strconv.FormatInt(micros, 10)
	switch variant % 3 {
	case 0:
		dst = append(dst, `{"N":"`+ts+`"}`...)
	case 1:
		dst = append(dst, `"`+ts+`"`...)
	default:
		dst = append(dst, ts...)
	}
	dst = append(dst, `},"Keys":`...)
	dst = appendItem(dst, keys)
	if old != nil {
		dst = append(dst, `,"OldImage":`...)
		dst = appendItem(dst, old)
	}
	if new != nil {
		dst = append(dst, `,"NewImage":`...)
		dst = appendItem(dst, new)
	}
	return append(dst, "}\n"...)
}
