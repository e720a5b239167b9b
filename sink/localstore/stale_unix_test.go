//go:build unix

package localstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
)

// privateFiles lists the files in the store's private folder.
func privateFiles(t *testing.T, lake string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(filepath.Join(lake, localstore.PrivateDir), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(lake, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// TestStaleFilesOfDeadWriters leaves the files a killed writer leaves (a
// temporary file half written, a lock file), and one a live writer in
// another process holds: the next store removes the dead writer's, keeps
// the live one's until that writer is killed too.
func TestStaleFilesOfDeadWriters(t *testing.T) {
	if os.Getenv("LOCALSTORE_HOLD") != "" {
		t.Skip("helper process")
	}
	lake := t.TempDir()
	for _, name := range []string{".ddblake/tmp/0123456789abcdef-b-0000.parquet", ".ddblake/locks/0123.lock"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(lake, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(lake, name), []byte("PAR1 half a file"), 0o644))
	}

	// A live writer, in another process, holds its temporary file.
	live := filepath.Join(lake, ".ddblake/tmp/fedcba9876543210-b-0001.parquet")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldTemp$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LOCALSTORE_HOLD="+live)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "holding\n", line)

	st, err := localstore.New(lake)
	require.NoError(t, err)
	require.Equal(t, []string{".ddblake/tmp/fedcba9876543210-b-0001.parquet"}, privateFiles(t, lake),
		"the dead writer's files are gone, the live writer's file stays")
	n, err := st.RemoveStale()
	require.NoError(t, err)
	require.Zero(t, n)

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	n, err = st.RemoveStale()
	require.NoError(t, err)
	require.Equal(t, 1, n, "once its writer is dead, its file is stale")
	require.Empty(t, privateFiles(t, lake))
}

// TestHelperHoldTemp is the live writer of TestStaleFilesOfDeadWriters:
// it holds a locked temporary file until it is killed.
func TestHelperHoldTemp(t *testing.T) {
	name := os.Getenv("LOCALSTORE_HOLD")
	if name == "" {
		t.Skip("run by TestStaleFilesOfDeadWriters")
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	_, _ = f.WriteString("PAR1 being written")
	fmt.Println("holding")
	select {} // until killed
}

// TestRemoveStaleDuringWrites removes stale files over and over while
// writers put objects and commit conditional writes: no write fails, no
// write is lost, nothing is left over.
func TestRemoveStaleDuringWrites(t *testing.T) {
	lake := t.TempDir()
	st, err := localstore.New(lake)
	require.NoError(t, err)
	ctx := context.Background()
	done := make(chan struct{})
	var sweeps sync.WaitGroup
	sweeps.Add(1)
	go func() {
		defer sweeps.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			other, err := localstore.New(lake) // a second run starting
			if err == nil {
				_, err = other.RemoveStale()
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var writers sync.WaitGroup
	const n = 40
	for w := range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range n {
				key := fmt.Sprintf("t/dt=2026-04-01/w%d-%04d.parquet", w, i)
				if err := st.Put(ctx, key, []byte(key)); err != nil {
					t.Error(err)
					return
				}
				for {
					data, ver, err := st.GetVersion(ctx, "counter")
					if err != nil {
						data, ver = []byte(""), ""
					}
					if _, err := st.PutIf(ctx, "counter", append(data, 'x'), ver); err == nil {
						break
					} else if !errors.Is(err, sink.ErrPrecondition) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	sweeps.Wait()
	for w := range 4 {
		for i := range n {
			key := fmt.Sprintf("t/dt=2026-04-01/w%d-%04d.parquet", w, i)
			data, err := st.Get(ctx, key)
			require.NoError(t, err)
			require.Equal(t, key, string(data))
		}
	}
	data, err := st.Get(ctx, "counter")
	require.NoError(t, err)
	require.Len(t, data, 4*n, "no conditional write lost its update")
	require.Empty(t, privateFiles(t, lake))
}

// TestSpoolIsPrivateUntilPut: a spool is a file of the private folder,
// which a sweep of stale files leaves alone while it is written (its
// writer holds its lock), renamed into place by Put; nothing stays behind
// after Put or Discard.
func TestSpoolIsPrivateUntilPut(t *testing.T) {
	ctx := context.Background()
	lake := t.TempDir()
	st, err := localstore.New(lake)
	require.NoError(t, err)
	const key = "t/dt=2026-04-01/a-0000.parquet"
	sp, err := st.CreateSpool(key)
	require.NoError(t, err)
	_, err = sp.Write([]byte("PAR1 growing"))
	require.NoError(t, err)
	require.Len(t, privateFiles(t, lake), 1)
	removed, err := st.RemoveStale()
	require.NoError(t, err)
	require.Zero(t, removed, "a spool being written is not stale")
	objs, err := st.List(ctx, "")
	require.NoError(t, err)
	require.Empty(t, objs, "not an object before Put")
	require.NoError(t, sp.Put(ctx))
	got, err := st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "PAR1 growing", string(got))
	require.Empty(t, privateFiles(t, lake))

	sp, err = st.CreateSpool(key)
	require.NoError(t, err)
	require.NoError(t, sp.Discard())
	require.Empty(t, privateFiles(t, lake))
	got, err = st.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "PAR1 growing", string(got), "a discarded spool changes nothing")
}
