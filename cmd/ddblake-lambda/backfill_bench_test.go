package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/sample"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's
// times (100 on Linux).
const clockTicks = 100

// processCPU is the user plus system CPU time of a running process, from
// /proc/<pid>/stat.
func processCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	// Fields after the command name (which is in parentheses): state is
	// field 3; utime and stime are fields 14 and 15.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	utime, err := strconv.ParseInt(f[11], 10, 64)
	require.NoError(t, err)
	stime, err := strconv.ParseInt(f[12], 10, 64)
	require.NoError(t, err)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// functionPID is the bootstrap the emulator rie started (its child, from
// whichever of its threads started it).
func functionPID(t testing.TB, rie int) int {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", rie))
	require.NoError(t, err)
	var pids []string
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", rie, task.Name()))
		require.NoError(t, err)
		pids = append(pids, strings.Fields(string(b))...)
	}
	require.Len(t, pids, 1, "the emulator runs one bootstrap")
	pid, err := strconv.Atoi(pids[0])
	require.NoError(t, err)
	return pid
}

// BenchmarkBackfillUnderEmulator runs map batches of a generated export
// (data files of 16 MiB of items, gzip) through the bootstrap under the
// emulator, reading the export from and writing the lake to the S3
// server in this process, and reports the function's CPU time (from the
// kernel's accounting of the bootstrap process) per MB of export data: a
// Lambda of M MB of memory has M/1769 vCPUs, so its throughput is
// MB/cpu-s × M/1769 (at most the vCPUs it can keep busy). Run with
//
//	go test ./cmd/ddblake-lambda -run '^$' -bench BackfillUnderEmulator -benchtime 3x
func BenchmarkBackfillUnderEmulator(b *testing.B) {
	rie := findRIE(b)
	bootstrap := buildBootstrap(b, b.TempDir())
	s3srv := newFakeS3(b)
	ctx := context.Background()
	_, err := s3srv.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("exports")})
	require.NoError(b, err)

	g, err := sample.New(sample.DefaultConfig())
	require.NoError(b, err)
	dir := b.TempDir()
	exp, err := g.WriteLargeExport(ctx, dir, sample.LargeExport{Size: 64 << 20, FileSize: 16 << 20})
	require.NoError(b, err)
	require.NoError(b, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		_, err = s3srv.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("exports"), Key: aws.String(filepath.ToSlash(rel)), Body: bytes.NewReader(body)})
		return err
	}))
	listing, err := os.ReadFile(filepath.Join(exp.Dir, "manifest-files.json"))
	require.NoError(b, err)
	items := strings.Split(strings.TrimSpace(string(listing)), "\n")
	payload := []byte(`{"Items":[` + strings.Join(items, ",") + `],"BatchInput":{"export":"s3://exports/AWSDynamoDB/` + exp.ExportID + `/"}}`)

	em := startEmulator(b, rie, bootstrap, s3srv, "bench", 900)
	out := em.invoke(b, payload) // init, and the registry's first commit
	var res BatchResult
	require.NoError(b, json.Unmarshal(out, &res), "%s", out)
	require.EqualValues(b, exp.Items, res.Records)
	pid := functionPID(b, em.pid)

	cpu0 := processCPU(b, pid)
	b.SetBytes(exp.Bytes)
	b.ResetTimer()
	for b.Loop() {
		em.invoke(b, payload)
	}
	b.StopTimer()
	cpu := processCPU(b, pid) - cpu0
	mb := float64(exp.Bytes) * float64(b.N) / 1e6
	b.ReportMetric(mb/cpu.Seconds(), "MB/cpu-s")
	b.ReportMetric(float64(exp.Items)*float64(b.N)/cpu.Seconds(), "items/cpu-s")
	b.ReportMetric(float64(exp.Items), "items/batch")
	b.ReportMetric(float64(exp.Files), "files/batch")
}
