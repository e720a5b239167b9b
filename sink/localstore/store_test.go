package localstore_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/storetest"
)

func newStore(t *testing.T) sink.Store {
	st, err := localstore.New(filepath.Join(t.TempDir(), "lake"))
	require.NoError(t, err)
	return st
}

func TestStore(t *testing.T) {
	storetest.Run(t, newStore)
}

// TestNothingEscapes checks the file system, not just the errors: refused
// keys and symbolic links leave nothing outside the lake.
func TestNothingEscapes(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	lake := filepath.Join(parent, "lake")
	st, err := localstore.New(lake)
	require.NoError(t, err)
	for _, k := range []string{"../outside", "a/../../outside", "/tmp/outside"} {
		require.ErrorIs(t, st.Put(ctx, k, []byte("x")), sink.ErrBadKey)
	}
	// A symbolic link inside the lake pointing out of it is not followed.
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.Mkdir(outside, 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(lake, "link")))
	require.Error(t, st.Put(ctx, "link/x.parquet", []byte("x")))
	_, err = st.PutIf(ctx, "link/x.json", []byte("x"), "")
	require.Error(t, err)
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Empty(t, entries)
	entries, err = os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 2, "only lake/ and outside/")
}

// TestNoTemporaryLeftovers checks that writes leave only the objects: no
// temporary or lock file, in the object's folder or the store's own.
func TestNoTemporaryLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := localstore.New(dir)
	require.NoError(t, err)
	require.NoError(t, st.Put(ctx, "t/dt=2026-04-01/a.parquet", []byte("a")))
	_, err = st.PutIf(ctx, "_ddblake/schemas/t.json", []byte("{}"), "")
	require.NoError(t, err)
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	}))
	require.ElementsMatch(t, []string{"t/dt=2026-04-01/a.parquet", "_ddblake/schemas/t.json"}, files)
	objs, err := st.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, objs, 2)
}

// TestCrossProcessPutIf has several processes increment one counter
// through PutIf in one directory: the lock holds across processes.
func TestCrossProcessPutIf(t *testing.T) {
	if os.Getenv("LOCALSTORE_HELPER_DIR") != "" {
		t.Skip("helper process")
	}
	dir := t.TempDir()
	const procs, each = 3, 15
	var cmds []*exec.Cmd
	for range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIncrement$", "-test.count=1")
		cmd.Env = append(os.Environ(), "LOCALSTORE_HELPER_DIR="+dir, "LOCALSTORE_HELPER_N="+strconv.Itoa(each))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		require.NoError(t, cmd.Start())
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait())
	}
	st, err := localstore.New(dir)
	require.NoError(t, err)
	data, err := st.Get(context.Background(), "counter")
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(procs*each), string(data))
}

// TestHelperIncrement is the child of TestCrossProcessPutIf.
func TestHelperIncrement(t *testing.T) {
	dir := os.Getenv("LOCALSTORE_HELPER_DIR")
	if dir == "" {
		t.Skip("run by TestCrossProcessPutIf")
	}
	n, err := strconv.Atoi(os.Getenv("LOCALSTORE_HELPER_N"))
	require.NoError(t, err)
	st, err := localstore.New(dir)
	require.NoError(t, err)
	ctx := context.Background()
	for done := 0; done < n; {
		data, ver, err := st.GetVersion(ctx, "counter")
		v := 0
		if errors.Is(err, sink.ErrNotExist) {
			ver = ""
		} else {
			require.NoError(t, err)
			v, err = strconv.Atoi(string(data))
			require.NoError(t, err)
		}
		_, err = st.PutIf(ctx, "counter", []byte(strconv.Itoa(v+1)), ver)
		if errors.Is(err, sink.ErrPrecondition) {
			continue
		}
		require.NoError(t, err)
		done++
	}
}
