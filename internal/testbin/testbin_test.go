package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBuildFollowsTheSources builds a program, builds it again, changes
// it and builds it once more: each copy runs the program as its sources
// were at its build (the binary kept between builds is never stale), and
// a later build leaves an earlier copy as it was.
func TestBuildFollowsTheSources(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/hello\n\ngo 1.22\n"), 0o644))
	write := func(msg string) {
		require.NoError(t, os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Print(\""+msg+"\") }\n"), 0o644))
	}
	run := func(bin string) string {
		out, err := exec.Command(bin).Output()
		require.NoError(t, err)
		return string(out)
	}
	env := []string{"CGO_ENABLED=0"}
	cache, err := cacheDir(src, ".", env, []string{"-trimpath"})
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(cache) })
	build := func() string {
		bin, err := Build(filepath.Join(t.TempDir(), "hello"), src, ".", env, "-trimpath")
		require.NoError(t, err)
		return bin
	}

	write("hello")
	first := build()
	require.Equal(t, "hello", run(first))
	second := build()
	require.NotEqual(t, first, second)
	require.Equal(t, "hello", run(second))

	write("changed")
	third := build()
	require.Equal(t, "changed", run(third))
	require.Equal(t, "hello", run(first), "an earlier copy is the caller's")
}
