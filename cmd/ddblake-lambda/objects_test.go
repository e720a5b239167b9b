package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/manifest"
)

// objectCreatedEvent is an S3 "Object Created" event as EventBridge hands
// it to a Lambda function.
func objectCreatedEvent(bucket, key string) []byte {
	ev := map[string]any{
		"version": "0", "id": "c9888434-815d-c6f4-9fc2-4dd7bdeccaaf",
		"detail-type": "Object Created", "source": "aws.s3",
		"account": "123456789012", "time": "2026-04-01T12:05:40Z", "region": "eu-west-1",
		"resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{
			"version": "0",
			"bucket":  map[string]any{"name": bucket},
			"object": map[string]any{"key": key, "size": 1024, "etag": "4af981f98d22a0b9979da24b259e5e42",
				"sequencer": "0064D3901D00059242"},
			"request-id": "XRRTKJXSZQCWNQR1", "requester": "firehose.amazonaws.com",
			"source-ip-address": "10.0.0.1", "reason": "PutObject",
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

// parquetOf encodes rows of a one-column table into one Parquet file, as
// Firehose's conversion would deliver them.
func parquetOf(t *testing.T, table string, n int) []byte {
	t.Helper()
	s := schemas.NewSchema(table)
	_, err := s.Add(schemas.Column{Name: "body", Path: "body", Type: schemas.Type{Kind: schemas.KindString}})
	require.NoError(t, err)
	rows := make([]flatten.Row, n)
	for i := range rows {
		rows[i] = flatten.Row{
			Meta:   flatten.Meta{EventName: "INSERT", EventTime: 1775045133000 + int64(i), Sequence: fmt.Sprintf("%040d", i)},
			Values: []flatten.Datum{{Valid: true, Str: fmt.Sprintf("message %d", i)}},
		}
	}
	mem := laketest.NewMemStore()
	w, err := sink.NewTableWriter(mem, sink.ParquetOptions{})
	require.NoError(t, err)
	files, err := w.Write(context.Background(), s, "b", rows)
	require.NoError(t, err)
	require.Len(t, files, 1)
	body, err := mem.Get(context.Background(), files[0].Key)
	require.NoError(t, err)
	return body
}

// TestUnderEmulatorListsFirehoseFiles runs the function with the firehose
// sink under the emulator and hands it the S3 events EventBridge would:
// a file Firehose delivered is listed in its partition's manifest (its
// rows are visible to queries at once), once however often the event
// comes; the function's own files, manifests and other buckets' objects
// are left alone.
func TestUnderEmulatorListsFirehoseFiles(t *testing.T) {
	rie := findRIE(t)
	bootstrap := buildBootstrap(t, t.TempDir())
	s3srv := newFakeS3(t)
	em := startEmulator(t, rie, bootstrap, s3srv, "lake", 30,
		EnvSink+"=firehose", EnvFirehoseStream+"=ddblake-{table}")
	lake := s3srv.lake(t, "lake")
	ctx := context.Background()

	day := sink.Partition{Day: "2026-04-01"}
	delivered := "chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-05-33-8b1d3f5e-2c4a-4f0e-9a57-1b9c3d5e7f90.parquet"
	later := "chat_messages/dt=2026-04-01/ddblake-chat_messages-1-2026-04-01-12-10-33-0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011.parquet"
	own := "chat_messages/dt=2026-04-01/0123456789ab-shard-0000000001-0000000009-0000.parquet"
	body := parquetOf(t, "chat_messages", 3)
	for _, k := range []string{delivered, later, own} {
		require.NoError(t, lake.Put(ctx, k, body))
	}
	manifestKey, err := manifest.Key("chat_messages", day)
	require.NoError(t, err)

	events := []struct {
		name, bucket, key string
	}{
		{"Firehose's file", lakeBucket, "lake/" + delivered},
		{"the same event again", lakeBucket, "lake/" + delivered},
		{"a URL-encoded key", lakeBucket, "lake/" + strings.ReplaceAll(later, "=", "%3D")},
		{"the function's own file", lakeBucket, "lake/" + own},
		{"a manifest", lakeBucket, "lake/" + manifestKey},
		{"another bucket", "other-bucket", "lake/" + delivered},
		{"outside the lake prefix", lakeBucket, "elsewhere/" + delivered},
	}
	for _, ev := range events {
		resp := em.invoke(t, objectCreatedEvent(ev.bucket, ev.key))
		require.NotContains(t, string(resp), "errorMessage", "%s: %s", ev.name, resp)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, ok := em.out.Wait(waitCtx, func(out string) bool {
		return strings.Count(out, `"msg":"`+ObjectMessage+`"`) >= len(events)
	})
	require.True(t, ok, "a log line per event:\n%s", out)
	listedLines := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, ObjectMessage) {
			continue
		}
		var l struct {
			Level  string `json:"level"`
			Listed bool   `json:"listed"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &l), line)
		require.Equal(t, "INFO", l.Level, line)
		if l.Listed {
			listedLines++
		}
	}
	require.Equal(t, 3, listedLines, "the two events of the delivered file and the URL-encoded one")

	keys, unlisted, err := manifest.Files(ctx, lake, "chat_messages")
	require.NoError(t, err)
	require.Equal(t, []string{delivered, later}, keys, "what a query reads")
	require.Equal(t, 1, unlisted, "the function's own file is its writer's to list")
	for _, k := range keys {
		b, err := lake.Get(ctx, k)
		require.NoError(t, err)
		require.Len(t, readParquet(t, b), 3)
	}
}

// TestReadObjectEvent: stream events are not taken for S3 events, and an
// S3 event other than Object Created is refused.
func TestReadObjectEvent(t *testing.T) {
	_, isS3, err := readObjectEvent(readFile(t, sampleEvents[0]))
	require.NoError(t, err)
	require.False(t, isS3)
	// A stream event whose items mention aws.s3 is still a stream event.
	_, isS3, err = readObjectEvent([]byte(`{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"NewImage":{"source":{"S":"aws.s3"}}}}],"source":"aws.s3"}`))
	require.NoError(t, err)
	require.False(t, isS3)

	ev, isS3, err := readObjectEvent(objectCreatedEvent("lake", "lake/x"))
	require.NoError(t, err)
	require.True(t, isS3)
	require.Equal(t, objectEvent{bucket: "lake", key: "lake/x"}, ev)

	deleted := strings.Replace(string(objectCreatedEvent("lake", "lake/x")), "Object Created", "Object Deleted", 1)
	_, isS3, err = readObjectEvent([]byte(deleted))
	require.True(t, isS3)
	require.ErrorIs(t, err, ErrBadPayload)

	// With the s3 sink the function lists its own files: an S3 event
	// there is a wiring mistake, and says so.
	l := newTestLake(t, nil)
	_, err = l.h.Invoke(context.Background(), objectCreatedEvent("lake", "lake/x"))
	require.ErrorIs(t, err, ErrBadPayload)
	require.Contains(t, err.Error(), EnvSink)
}
