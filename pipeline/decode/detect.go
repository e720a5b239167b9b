package decode

import (
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/ddblake/ddblake/pipeline/ionexport"
)

// detect returns the format of an input from its first bytes (a MiB is
// plenty; gzip data is decompressed as far as head goes):
//
//   - {"Records":[...]} is FormatKinesis when its first record has a
//     "kinesis" object or eventSource aws:kinesis, else FormatLambda;
//   - a first line that is a stream record ("dynamodb", "eventName",
//     "eventSource", "tableName"... at its top level) is FormatJSONL;
//   - {"Item":...} lines are FormatExport; {"Metadata":...} lines (or
//     Keys/NewImage/OldImage at the top level) are FormatIncremental.
//
// Export directories are told by their manifest-summary.json (see
// Resolver), not by detect; given a manifest's content detect fails
// with ErrUnknownFormat saying so. An input with nothing but white space
// is ErrEmpty; anything else ErrUnknownFormat.
func detect(head []byte) (Format, error) {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrCorruptGzip, err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, detectBytes))
		if len(out) == 0 && err != nil && err != io.ErrUnexpectedEOF {
			return "", fmt.Errorf("%w: %v", ErrCorruptGzip, err)
		}
		head = out
	}
	return detectPlain(head)
}

// detectPlain is detect for data that is not compressed.
func detectPlain(head []byte) (Format, error) {
	if ionexport.IsIon(head) {
		return detectIon(head)
	}
	head = bytes.TrimPrefix(head, utf8BOM)
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 {
		return "", ErrEmpty
	}
	if head[0] != '{' {
		return "", fmt.Errorf("%w: the input starts with %q, not a JSON object", ErrUnknownFormat, clip(head[:min(len(head), 16)]))
	}
	s := docScanner{buf: head, pos: 1, max: len(head) + 1}
	undecided := fmt.Errorf("%w: no key of the first object tells the format", ErrUnknownFormat)
	for {
		key, ok := s.nextKey()
		if !ok {
			return "", undecided
		}
		switch key {
		case "Records":
			return s.detectRecords(), nil
		case "Item":
			return FormatExport, nil
		case "Metadata", "Keys", "NewImage", "OldImage":
			return FormatIncremental, nil
		case "dynamodb", "eventName", "eventID", "eventSource", "eventSourceARN", "eventVersion",
			"awsRegion", "userIdentity", "kinesis", "tableName", "recordFormat":
			return FormatJSONL, nil
		case "exportArn", "manifestFilesS3Key", "outputFormat", "exportTime", "tableArn", "exportType", "s3Bucket":
			return "", fmt.Errorf("%w: this is an export's manifest-summary.json; read the export directory that holds it", ErrUnknownFormat)
		}
		if s.skipValue() != nil {
			return "", undecided
		}
	}
}

// nextKey reads the next key of an object being scanned (after its '{'
// or a value) and the ':' after it; false at the object's end or on bad
// or truncated input.
func (s *docScanner) nextKey() (string, bool) {
	if !s.skipWS() {
		return "", false
	}
	if s.buf[s.pos] == ',' {
		s.pos++
		if !s.skipWS() {
			return "", false
		}
	}
	if s.buf[s.pos] != '"' {
		return "", false
	}
	start := s.pos
	if !s.skipString() {
		return "", false
	}
	key := string(s.buf[start+1 : s.pos-1])
	if s.expect(':') != nil {
		return "", false
	}
	return key, true
}

// detectRecords tells a Kinesis event from a DynamoDB stream event by
// the first record of its Records array (the scanner is after the key).
func (s *docScanner) detectRecords() Format {
	if s.expect('[') != nil || s.expect('{') != nil {
		return FormatLambda
	}
	for {
		key, ok := s.nextKey()
		if !ok {
			return FormatLambda
		}
		switch key {
		case "kinesis":
			return FormatKinesis
		case "dynamodb":
			return FormatLambda
		case "eventSource", "eventSourceARN":
			if !s.skipWS() || s.buf[s.pos] != '"' {
				return FormatLambda
			}
			start := s.pos
			if !s.skipString() {
				return FormatLambda
			}
			v := s.buf[start:s.pos]
			switch {
			case bytes.Equal(v, []byte(`"aws:kinesis"`)) || bytes.Contains(v, []byte(":kinesis:")):
				return FormatKinesis
			case bytes.Equal(v, []byte(`"aws:dynamodb"`)) || bytes.Contains(v, []byte(":dynamodb:")):
				return FormatLambda
			}
			continue
		}
		if s.skipValue() != nil {
			return FormatLambda
		}
	}
}
