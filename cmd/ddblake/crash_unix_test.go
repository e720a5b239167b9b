//go:build unix

package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/sample"
)

// writeEvents writes n DynamoDB stream events of about size bytes each
// into dir.
func writeEvents(t *testing.T, dir string, n, size int) {
	t.Helper()
	for i := range n {
		cfg := sample.DefaultConfig()
		cfg.Seed = int64(100 + i)
		g, err := sample.New(cfg)
		require.NoError(t, err)
		event, _, err := g.LambdaEvent(size)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("event-%03d.json", i)), event, 0o644))
	}
}

// entries lists the files under dir/sub.
func entries(dir, sub string) []string {
	var out []string
	_ = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// hiddenFiles lists the files under lake whose name, or a folder's on
// their path, starts with '.': what a lake reader or `aws s3 sync` would
// pick up besides the lake.
func hiddenFiles(t *testing.T, lake string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(lake, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(lake, p)
		for _, seg := range strings.Split(filepath.ToSlash(rel), "/") {
			if strings.HasPrefix(seg, ".") {
				out = append(out, rel)
				break
			}
		}
		return nil
	}))
	return out
}

// waitStopped waits until every thread of the process pid is stopped: a
// signal is delivered some time after kill(2) returns, and the threads of
// the process may run on meanwhile (one of them renaming a file).
func waitStopped(pid int) {
	tasks := fmt.Sprintf("/proc/%d/task", pid)
	if _, err := os.Stat(tasks); err != nil {
		time.Sleep(200 * time.Millisecond) // no /proc: give it time
		return
	}
	for range 2000 {
		if allThreadsStopped(tasks) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// allThreadsStopped reports whether every thread listed under tasks
// (/proc/PID/task) is in state T or t; a process that is gone counts as
// stopped.
func allThreadsStopped(tasks string) bool {
	ids, err := os.ReadDir(tasks)
	if err != nil {
		return true
	}
	for _, id := range ids {
		b, err := os.ReadFile(filepath.Join(tasks, id.Name(), "stat"))
		if err != nil {
			continue // the thread ended
		}
		// tid (comm) state ...: the state follows the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// allLocked reports whether another process holds a flock on every
// file: a writer locks its temporary file just after creating it.
func allLocked(files []string) bool {
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return false
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		f.Close() // releases the lock, if it was taken
		if err == nil {
			return false
		}
	}
	return true
}

// TestKilledReplay stops a replay (SIGSTOP) while it holds a temporary
// file, runs another replay into the same lake meanwhile (it must not
// remove the live writer's file), kills the first (SIGKILL: what it was
// writing stays behind), and replays its inputs again: the leftovers are
// gone, nothing hidden is left in the lake, and the lake is byte for byte
// the lake of clean runs.
func TestKilledReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and replays several MB")
	}
	in, other, work := t.TempDir(), t.TempDir(), t.TempDir()
	writeEvents(t, in, 16, 128<<10)
	require.NoError(t, os.WriteFile(filepath.Join(other, "other.jsonl"), []byte(
		`{"eventID":"o1","eventName":"INSERT","eventSource":"aws:dynamodb","eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/other-table/stream/x",`+
			`"dynamodb":{"ApproximateCreationDateTime":1775001600,"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"},"n":{"N":"2"}},"SequenceNumber":"1","StreamViewType":"NEW_IMAGE"}}`+"\n"), 0o644))

	// The lake of clean runs.
	clean := filepath.Join(work, "clean")
	require.Equal(t, 0, ddblake(t, nil, "replay", "--to", clean, in).code)
	require.Equal(t, 0, ddblake(t, nil, "replay", "--to", clean, other).code)

	lake := filepath.Join(work, "lake")
	var stopped *exec.Cmd
	var stoppedExited chan struct{}
	var held []string
	for attempt := 0; attempt < 20 && stopped == nil; attempt++ {
		cmd := exec.Command(binary(t), "replay", "--to", lake, in)
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
	poll:
		for {
			select {
			case <-exited:
				break poll // too fast this time
			default:
			}
			if len(entries(lake, ".ddblake/tmp")) == 0 || len(entries(lake, ".ddblake/locks")) > 0 {
				continue
			}
			_ = cmd.Process.Signal(syscall.SIGSTOP)
			waitStopped(cmd.Process.Pid)
			held = entries(lake, ".ddblake/tmp")
			if len(held) > 0 && allLocked(held) && len(entries(lake, ".ddblake/locks")) == 0 {
				stopped, stoppedExited = cmd, exited
				t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
				break poll
			}
			_ = cmd.Process.Signal(syscall.SIGCONT) // renamed meanwhile, or holding the registry's lock
		}
		if stopped == nil {
			<-exited
			require.NoError(t, os.RemoveAll(lake))
		}
	}
	require.NotNil(t, stopped, "never caught the replay holding a temporary file")
	t.Logf("stopped the replay holding %d temporary files", len(held))

	// Another run while the first is alive: its files stay.
	r := ddblake(t, nil, "replay", "--to", lake, other)
	require.Equal(t, 0, r.code, r.stderr)
	for _, f := range held {
		require.FileExists(t, f, "a live writer's temporary file is not removed")
	}

	require.NoError(t, stopped.Process.Signal(syscall.SIGKILL))
	_ = stopped.Process.Signal(syscall.SIGCONT)
	<-stoppedExited // its locks go with it
	for _, f := range held {
		require.FileExists(t, f, "kill -9 leaves the file being written")
	}

	r = ddblake(t, nil, "replay", "--to", lake, in)
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, hiddenFiles(t, lake), "the next run removed what the killed run left")
	require.Equal(t, laketest.Files(t, clean), laketest.Files(t, lake), "a killed run, rerun, gives the lake of a clean run")
}

// TestLeftoversOfDeadProcess leaves the files a dead writer leaves (a
// temporary file, a lock file) in a lake: the next replay removes them.
func TestLeftoversOfDeadProcess(t *testing.T) {
	lake := t.TempDir()
	for _, name := range []string{".ddblake/tmp/0123456789abcdef-b-0000.parquet", ".ddblake/locks/0a1b.lock"} {
		p := filepath.Join(lake, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("PAR1 half"), 0o644))
	}
	r := ddblake(t, nil, "replay", "--to", lake, "../../testdata/sample/lambda")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, hiddenFiles(t, lake))
}
