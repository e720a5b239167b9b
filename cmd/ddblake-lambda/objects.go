package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/firehose"
)

// maxObjectEventBytes bounds the payloads read as S3 events: EventBridge
// events are at most 256 KiB, and an S3 "Object Created" one about 1 KiB.
const maxObjectEventBytes = 256 << 10

// ObjectMessage is the message of the log line of an S3 event.
const ObjectMessage = "ddblake s3 object"

// FirehoseFiles lists the Parquet files Firehose delivers into the lake in
// their partitions' manifests, as S3 tells of them through EventBridge
// ("Object Created" events of the lake bucket), so that their rows are
// visible to queries minutes after delivery rather than at the next
// ddblake compact. It is safe for concurrent use.
type FirehoseFiles struct {
	// Store is the lake.
	Store sink.Store
	// Bucket and Prefix locate the lake: s3://Bucket/Prefix.
	Bucket, Prefix string
	// Stream is the delivery stream template (DDBLAKE_FIREHOSE_STREAM).
	Stream string
}

// objectEvent is what an S3 "Object Created" event through EventBridge
// says of the object.
type objectEvent struct {
	bucket, key string
}

// readObjectEvent reads payload as an EventBridge event of S3 ("source":
// "aws.s3"), ok false when it is not one (a stream or Kinesis event).
// Keys are given as stored; one that only reads as a key of the lake once
// URL-decoded (as S3's own notifications give them) is decoded.
func readObjectEvent(payload []byte) (ev objectEvent, isS3 bool, err error) {
	if len(payload) > maxObjectEventBytes || !bytes.Contains(payload, []byte(`"aws.s3"`)) {
		return ev, false, nil
	}
	var p fastjson.Parser
	v, perr := p.ParseBytes(payload)
	if perr != nil || string(v.GetStringBytes("source")) != "aws.s3" || v.Get("Records") != nil {
		return ev, false, nil
	}
	if dt := string(v.GetStringBytes("detail-type")); dt != "Object Created" {
		return ev, true, fmt.Errorf("%w: S3 event %q: only \"Object Created\" events are handled", ErrBadPayload, dt)
	}
	ev.bucket = string(v.GetStringBytes("detail", "bucket", "name"))
	ev.key = string(v.GetStringBytes("detail", "object", "key"))
	if ev.bucket == "" || ev.key == "" {
		return ev, true, fmt.Errorf("%w: S3 Object Created event without detail.bucket.name and detail.object.key", ErrBadPayload)
	}
	return ev, true, nil
}

// lakeKey returns the key of the event's object relative to the lake
// root, ok false when the object is not in the lake.
func (f *FirehoseFiles) lakeKey(ev objectEvent) (string, bool) {
	if ev.bucket != f.Bucket {
		return "", false
	}
	prefix := strings.Trim(f.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	for _, k := range []string{ev.key, unescape(ev.key)} {
		if rel, ok := strings.CutPrefix(k, prefix); ok && rel != "" {
			if _, _, ok := firehose.DeliveredFile(f.Stream, rel); ok {
				return rel, true
			}
		}
	}
	return "", false
}

func unescape(key string) string {
	if k, err := url.QueryUnescape(key); err == nil {
		return k
	}
	return key
}

// objectCreated handles an S3 Object Created event: a file Firehose
// delivered into the lake is listed in its partition's manifest; any
// other object (the function's own files, manifests, the quarantine,
// another bucket) is left alone. It fails, for Lambda to invoke it
// again, only when the manifest could not be written; ddblake compact
// lists a file whose every try failed.
func (h *Handler) objectCreated(ctx context.Context, ev objectEvent, requestID string) ([]byte, error) {
	start := h.now()
	listed := false
	var err error
	f := h.Firehose
	if f == nil {
		err = fmt.Errorf("%w: an S3 Object Created event, but the function does not use the firehose sink (%s)", ErrBadPayload, EnvSink)
	} else if key, ok := f.lakeKey(ev); ok {
		var taken []string
		taken, err = firehose.ListDelivered(ctx, f.Store, f.Stream, []string{key})
		listed = err == nil && len(taken) == 1
	}
	end := h.now()
	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.String("request_id", requestID),
		slog.String("event_source", "aws.s3"),
		slog.String("bucket", ev.bucket),
		slog.String("key", ev.key),
		slog.Bool("listed", listed),
		slog.Int64("duration_ms", end.Sub(start).Milliseconds()),
	}
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	h.logLine(end, level, ObjectMessage, attrs)
	if err != nil {
		return nil, err
	}
	return []byte(`{}`), nil
}

// logLine writes one slog JSON line to Out.
func (h *Handler) logLine(at time.Time, level slog.Level, msg string, attrs []slog.Attr) {
	h.outMu.Lock()
	defer h.outMu.Unlock()
	logger := slog.New(slog.NewJSONHandler(h.Out, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				a.Value = slog.TimeValue(at.UTC())
			}
			return a
		},
	}))
	logger.LogAttrs(context.Background(), level, msg, attrs...)
}
