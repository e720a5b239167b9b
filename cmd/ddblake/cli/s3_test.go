package cli_test

import (
	"bytes"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
)

// fakeS3 starts an in-process S3 server and points the AWS environment
// of the command line at it, with static credentials and no shared
// configuration files.
func fakeS3(t *testing.T, buckets ...string) *s3mem.Backend {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		require.NoError(t, backend.CreateBucket(b))
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3":         srv.URL,
		"AWS_ENDPOINT_URL":            "",
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"DDBLAKE_S3_PATH_STYLE":       "true",
	} {
		t.Setenv(k, v)
	}
	return backend
}

// upload copies the files under dir to bucket under prefix.
func upload(t *testing.T, backend *s3mem.Backend, bucket, prefix, dir string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		_, err = backend.PutObject(bucket, prefix+filepath.ToSlash(rel), nil, bytes.NewReader(data), int64(len(data)), nil)
		return err
	}))
}

// objects lists the keys of bucket with their ETags.
func objects(t *testing.T, backend *s3mem.Backend, bucket string) map[string]string {
	t.Helper()
	list, err := backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	out := map[string]string{}
	for _, c := range list.Contents {
		out[c.Key] = c.ETag
	}
	return out
}

func TestS3ReplayAndDDL(t *testing.T) {
	backend := fakeS3(t, "src-bucket", "lake-bucket")
	upload(t, backend, "src-bucket", "exports/", fixture("sample"))

	// The same data replayed from local files, for comparison.
	local := ddblake(t, "", "replay", "--to", filepath.Join(t.TempDir(), "lake"), fixture("sample"))
	require.Equal(t, cli.ExitOK, local.code, local.stderr)
	want := parseSummary(t, local.stderr)

	res := ddblake(t, "", "replay", "--to", "s3://lake-bucket/ddb/lake", "s3://src-bucket/exports")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	got := parseSummary(t, res.stderr)
	require.Equal(t, want.inputs, got.inputs, "the S3 source resolves to the same inputs, exports included")
	require.Equal(t, want.tables, got.tables)
	require.Equal(t, want.files, got.files)

	objs := objects(t, backend, "lake-bucket")
	parquetFiles := 0
	var keys []string
	for k := range objs {
		keys = append(keys, k)
		require.True(t, strings.HasPrefix(k, "ddb/lake/"), "object outside the lake prefix: %s", k)
		if strings.HasSuffix(k, ".parquet") {
			parquetFiles++
		}
	}
	sort.Strings(keys)
	require.Equal(t, got.files, parquetFiles, "objects: %v", keys)
	require.Contains(t, objs, "ddb/lake/_ddblake/schemas/chat_messages.json")
	require.Contains(t, objs, "ddb/lake/_ddblake/schemas/chat_rooms.json")

	again := ddblake(t, "", "replay", "--to", "s3://lake-bucket/ddb/lake", "s3://src-bucket/exports/")
	require.Equal(t, cli.ExitOK, again.code, again.stderr)
	require.Equal(t, objs, objects(t, backend, "lake-bucket"), "a rerun overwrites the same objects with the same bytes")

	ddl := ddblake(t, "", "ddl", "--lake", "s3://lake-bucket/ddb/lake")
	require.Equal(t, cli.ExitOK, ddl.code, ddl.stderr)
	require.Contains(t, ddl.stdout, "LOCATION 's3://lake-bucket/ddb/lake/chat_messages/_symlink_format_manifest/'", "the lake URI is the default location")
	require.Contains(t, ddl.stdout, "LOCATION 's3://lake-bucket/ddb/lake/chat_rooms/_symlink_format_manifest/'")
}

func TestS3Sources(t *testing.T) {
	backend := fakeS3(t, "src-bucket")
	data, err := os.ReadFile(fixture("inputs", "lambda", "chat_stream.json"))
	require.NoError(t, err)
	_, err = backend.PutObject("src-bucket", "events/chat_stream.json", nil, bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err)

	tests := []struct {
		name    string
		sources []string
		code    int
		stderr  string
	}{
		{"object", []string{"s3://src-bucket/events/chat_stream.json"}, cli.ExitOK, "replayed 1 input: "},
		{"prefix", []string{"s3://src-bucket/events/"}, cli.ExitOK, "replayed 1 input: "},
		{"missing object", []string{"s3://src-bucket/events/nope.json"}, cli.ExitFailed, "nope.json"},
		{"missing bucket", []string{"s3://no-such-bucket/x.json"}, cli.ExitFailed, "no-such-bucket"},
		{"one of two missing", []string{"s3://src-bucket/events/chat_stream.json", "s3://src-bucket/nope"}, cli.ExitPartial, "input error: source s3://src-bucket/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lake := filepath.Join(t.TempDir(), "lake")
			res := ddblake(t, "", append([]string{"replay", "--to", lake}, tt.sources...)...)
			require.Equal(t, tt.code, res.code, res.stderr)
			require.Contains(t, res.stderr, tt.stderr)
			if tt.code != cli.ExitFailed {
				rows, _ := parquetRows(t, lake)
				require.Equal(t, parseSummary(t, res.stderr).tables, rows)
			}
		})
	}

	flat := ddblake(t, "", "flatten", "s3://src-bucket/events/chat_stream.json")
	require.Equal(t, cli.ExitOK, flat.code, flat.stderr)
	want, err := os.ReadFile(fixture("cli", "flatten", "chat_stream.golden.jsonl"))
	require.NoError(t, err)
	require.Equal(t, string(want), flat.stdout, "the same rows as from the local file")
}

func TestS3BadLake(t *testing.T) {
	fakeS3(t)
	res := ddblake(t, "", "replay", "--to", "s3://Bad_Bucket!/x", fixture("inputs", "lambda", "chat_stream.json"))
	require.Equal(t, cli.ExitUsage, res.code, res.stderr)
	require.Contains(t, res.stderr, "Bad_Bucket!")
}
