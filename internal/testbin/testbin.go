// Package testbin builds the binaries that tests run as processes (the
// CLI, the Lambda bootstrap) so that a run of the tests links each one at
// most once: the go tool links again only when the sources or flags
// changed since the last build of the same binary.
//
// Exported names: Build.
package testbin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Build runs `go build args... -o BIN pkg` in dir with env added to the
// environment and copies BIN to dst, which it returns.
//
// BIN lives in a folder under the system's temporary folder named after
// dir, pkg, env and args, where it stays between runs: the go tool skips
// the link when BIN is up to date, which is most of the cost of building
// a binary whose packages are in the build cache. Processes building the
// same binary take turns (a file lock, on unix). The copy is the
// caller's: a later build does not change it under a running test.
func Build(dst, dir, pkg string, env []string, args ...string) (string, error) {
	cache, err := cacheDir(dir, pkg, env, args)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(filepath.Join(cache, "lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	bin := filepath.Join(cache, "bin")
	cmd := exec.Command(goTool(), append(append([]string{"build"}, args...), "-o", bin, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s %s: %w\n%s", strings.Join(args, " "), pkg, err, out)
	}
	return dst, copyFile(dst, bin)
}

// cacheDir is the folder of the binary Build keeps for these arguments.
func cacheDir(dir, pkg string, env, args []string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, s := range append(append([]string{abs, pkg}, env...), args...) {
		fmt.Fprintf(h, "%q\n", s)
	}
	return filepath.Join(os.TempDir(), "ddblake-testbin", hex.EncodeToString(h.Sum(nil))[:20]), nil
}

// goTool is the go command on PATH, else the one of the Go that built
// the test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
