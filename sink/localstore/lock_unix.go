//go:build unix

package localstore

import (
	"context"
	"errors"
	"os"
	"path"
	"syscall"
	"time"
)

// tryLock takes an exclusive flock on f without waiting; false when
// another open file (this process's or another's) holds one.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		}
		return false, err
	}
}

// lock takes an exclusive flock on the lock file name (created if
// needed), polling so ctx can cancel the wait, and removes the file when
// it unlocks. The kernel drops the lock if the process dies, so a crash
// never leaves the key locked (RemoveStale then removes the file). As a
// holder removes the file before it unlocks, a waiter that gets the lock
// checks that name is still the file it locked, and starts again when it
// is not: two processes never hold the lock of one name.
func lock(ctx context.Context, root *os.Root, name string) (func(), error) {
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return nil, err
	}
	wait := 200 * time.Microsecond
	for {
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		for {
			ok, err := tryLock(f)
			if err != nil {
				_ = f.Close()
				return nil, err
			}
			if ok {
				break
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				_ = f.Close()
				return nil, ctx.Err()
			case <-t.C:
			}
			wait = min(2*wait, 10*time.Millisecond)
		}
		same, err := sameFile(root, name, f)
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		if same {
			return func() {
				_ = root.Remove(name)
				_ = f.Close() // releases the lock
			}, nil
		}
		_ = f.Close() // the holder before removed it: lock the new one
	}
}
