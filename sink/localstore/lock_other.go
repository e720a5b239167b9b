//go:build !unix

package localstore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"time"
)

// tryLock reports that f is locked: without flock, a process cannot tell
// a file in use from one whose writer died, so RemoveStale removes none.
func tryLock(f *os.File) (bool, error) { return false, nil }

// lock creates the lock file exclusively, polling until it can, and
// removes it on unlock. Unlike flock, a process that dies holding it
// leaves the file behind; it must then be removed by hand.
func lock(ctx context.Context, root *os.Root, name string) (func(), error) {
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return nil, err
	}
	name += ".excl"
	wait := 200 * time.Microsecond
	for {
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_ = f.Close()
			return func() { _ = root.Remove(name) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
}
