package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/s3test"
)

// silentS3 points the SDK's environment at a silent S3 endpoint.
func silentS3(t *testing.T) string {
	url := s3test.Silent(t)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3": url, "AWS_ENDPOINT_URL": "", "AWS_ACCESS_KEY_ID": "test",
		"AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	return url
}

// TestInvokeSilentS3 runs the function's real S3 client against an
// endpoint that never answers: with the default bounds it stops before
// the invocation's deadline; with short ones it gives up sooner. Either
// way every record is reported for redelivery.
func TestInvokeSilentS3(t *testing.T) {
	payload := readFile(t, "../../testdata/sample/lambda/chat-rooms/shard-0/001.json")
	recs := eventRecords(t, payload)
	for _, tc := range []struct {
		name     string
		env      Env
		deadline time.Duration
	}{
		{"stops before the deadline", Env{DeadlineMargin: time.Second}, 2 * time.Second},
		{"bounded attempts", Env{AWSTimeout: 100 * time.Millisecond, AWSAttempts: 2}, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			silentS3(t)
			env := tc.env
			env.Lake, env.Sink, env.S3PathStyle, env.FunctionName = "s3://lake/p", SinkS3, true, "fn"
			out := &syncBuffer{}
			h, err := NewHandler(context.Background(), env, out)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			resp, err := h.Invoke(ctx, payload)
			require.NoError(t, ctx.Err(), "answers before the deadline")
			require.NoError(t, err)
			require.Equal(t, []string{recs[0].Sequence}, failures(t, resp))
			l := &testLake{out: out}
			sum, _ := l.lastSummary(t, 0)
			require.Equal(t, len(recs), sum.FailedRecords)
		})
	}
}
