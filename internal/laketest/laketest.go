// Package laketest holds helpers for tests that look at a lake on disk,
// shared by the unit tests and the end-to-end module.
package laketest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddblake/ddblake/sink"
)

// Files maps every file under dir (relative path, with slashes) to the
// hex SHA-256 of its content; hidden files and folders (the store's
// temporary and lock files) are left out. Comparing two maps tells whether two lakes, or one lake
// before and after a rerun, are byte-identical. A walk error fails t.
func Files(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return out
}

// StoreFiles maps every object of a store (its key) to the hex SHA-256 of
// its content, like Files for a store of any kind.
func StoreFiles(t testing.TB, st sink.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	objs, err := st.List(ctx, "")
	if err != nil {
		t.Fatalf("list %s: %v", st.URI(), err)
	}
	out := map[string]string{}
	for _, o := range objs {
		b, err := st.Get(ctx, o.Key)
		if err != nil {
			t.Fatalf("get %s: %v", o.Key, err)
		}
		sum := sha256.Sum256(b)
		out[o.Key] = hex.EncodeToString(sum[:])
	}
	return out
}
