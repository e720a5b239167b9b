package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/firehose/firehosetest"
)

const lambdaMaskKey = "lambda-privacy-test-key-0123456"

func lambdaMask(s string) string {
	h := hmac.New(sha256.New, []byte(lambdaMaskKey))
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// privacyTaskRoot is a package holding the privacy configuration (with
// extra lines) and a key file, mask.key.
func privacyTaskRoot(t *testing.T, extra string) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "ddblake.yaml"), []byte(laketest.PrivacyConfig+extra), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "mask.key"), []byte(lambdaMaskKey+"\n"), 0o600))
	return root
}

// fakeS3Env starts an in-process S3 server holding buckets and points the
// AWS SDK's environment at it.
func fakeS3Env(t *testing.T, buckets ...string) *s3mem.Backend {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		require.NoError(t, backend.CreateBucket(b))
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3": srv.URL, "AWS_ENDPOINT_URL": "", "AWS_ACCESS_KEY_ID": "test",
		"AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	return backend
}

// TestInvokePrivacy runs DynamoDB stream and Kinesis events whose items
// hold omitted and masked values, many records bad for other reasons,
// through the function built from its environment, with the key from
// each place it can come from, and reads back everything: every file of
// the lake and every log line. No hidden value is anywhere; the masks
// are.
func TestInvokePrivacy(t *testing.T) {
	for _, c := range []struct {
		name, extra, envKey string
		s3                  bool
	}{
		{name: "key in the environment", envKey: lambdaMaskKey},
		{name: "key file in the package", extra: "mask_key: file://mask.key\n"},
		{name: "key object in S3", extra: "mask_key: s3://keys/ddblake/mask.key\n", s3: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.s3 {
				backend := fakeS3Env(t, "keys")
				_, err := backend.PutObject("keys", "ddblake/mask.key", nil, strings.NewReader(lambdaMaskKey), int64(len(lambdaMaskKey)), nil)
				require.NoError(t, err)
			}
			lakeDir := t.TempDir()
			env := Env{Lake: lakeDir, Sink: SinkS3, Config: "ddblake.yaml", TaskRoot: privacyTaskRoot(t, c.extra),
				MaskKey: c.envKey, FunctionName: "fn", S3PathStyle: true}
			out := &syncBuffer{}
			h, err := NewHandler(context.Background(), env, out)
			require.NoError(t, err)
			setAside := 0
			for _, payload := range [][]byte{laketest.PrivacyLambdaEvent(), laketest.PrivacyKinesisEvent()} {
				resp, err := h.Invoke(context.Background(), payload)
				require.NoError(t, err)
				require.Empty(t, failures(t, resp), "bad records are set aside, not failed")
			}
			sums, _ := invocationLines(t, out.String())
			for _, s := range sums {
				setAside += s.SetAside
			}
			require.Greater(t, setAside, 10)
			all := laketest.RequireHidden(t, lakeDir, laketest.PrivacySecrets(), out.String())
			for _, v := range laketest.PrivacyVisible() {
				require.Contains(t, all, v)
			}
			for _, v := range laketest.PrivacyMasked() {
				require.Contains(t, all, lambdaMask(v), "the mask of %s", v)
			}
		})
	}
}

// TestInvokeFirehosePrivacy sends the privacy items to Firehose, one of
// them too large for a Firehose record: neither the records sent nor the
// quarantined one show a hidden value.
func TestInvokeFirehosePrivacy(t *testing.T) {
	// The blob is within DynamoDB's 400 KB, but its flat JSON row (six
	// bytes per control character) is over Firehose's record limit.
	event := strings.Replace(string(laketest.PrivacyLambdaEvent()), `"name":{"S":"alice-visible"}`,
		`"name":{"S":"alice-visible"},"blob":{"S":"`+strings.Repeat(`\u0001`, firehose.MaxRecordBytes/6+10)+`"}`, 1)
	srv := firehosetest.NewServer(t)
	sender, err := firehose.New(srv.Client(), firehose.Config{Stream: "ddblake-{table}", BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond})
	require.NoError(t, err)
	lakeDir := t.TempDir()
	env := Env{Lake: lakeDir, Sink: SinkS3, Config: "ddblake.yaml", TaskRoot: privacyTaskRoot(t, ""), MaskKey: lambdaMaskKey, FunctionName: "fn"}
	out := &syncBuffer{}
	h, err := NewHandler(context.Background(), env, out)
	require.NoError(t, err)
	h.Processor.Destination = firehose.NewDestination(sender)
	resp, err := h.Invoke(context.Background(), []byte(event))
	require.NoError(t, err)
	require.Empty(t, failures(t, resp))

	var sent []string
	for _, r := range srv.Records() {
		sent = append(sent, string(r.Data))
	}
	require.NotEmpty(t, sent)
	all := laketest.RequireHidden(t, lakeDir, laketest.PrivacySecrets(), append(sent, out.String())...)
	require.Contains(t, all, "record larger than 1,000 KiB", "the oversized row is quarantined")
	require.Contains(t, all, lambdaMask(laketest.SecretPhone))
}

// TestInitMaskKey checks that the function refuses to start masking
// without a key, or with one given twice or too short, with a line that
// says why and never shows the key.
func TestInitMaskKey(t *testing.T) {
	start := func(extra, envKey string) error {
		env := Env{Lake: t.TempDir(), Sink: SinkS3, Config: "ddblake.yaml", TaskRoot: privacyTaskRoot(t, extra), MaskKey: envKey, FunctionName: "fn"}
		_, err := NewHandler(context.Background(), env, &syncBuffer{})
		return err
	}
	err := start("", "")
	require.ErrorIs(t, err, ErrNoMaskKey)
	require.Contains(t, err.Error(), EnvMaskKey)

	err = start("mask_key: file://mask.key\n", lambdaMaskKey)
	require.ErrorIs(t, err, ErrConfig)
	require.Contains(t, err.Error(), "given twice")

	err = start("", "short-key")
	require.ErrorIs(t, err, ErrConfig)
	require.NotContains(t, err.Error(), "short-key")

	err = start("mask_key: file://missing.key\n", "")
	require.ErrorIs(t, err, ErrConfig)

	err = start("mask_key: "+lambdaMaskKey+"\n", "")
	require.ErrorIs(t, err, ErrConfig, "a key written in the configuration is refused")
	require.NotContains(t, err.Error(), lambdaMaskKey)

	// Without mask rules, no key is needed.
	env := Env{Lake: t.TempDir(), Sink: SinkS3, Config: "ddblake.yaml", TaskRoot: "../../testdata/lambda", FunctionName: "fn"}
	_, err = NewHandler(context.Background(), env, &syncBuffer{})
	require.NoError(t, err)

	// The environment is read as the function starts.
	e, err := EnvFrom(func(k string) string {
		return map[string]string{EnvLake: "/tmp/lake", EnvMaskKey: lambdaMaskKey}[k]
	})
	require.NoError(t, err)
	require.Equal(t, lambdaMaskKey, e.MaskKey)
}
