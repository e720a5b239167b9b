package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/testbin"
)

// The tests of this file run the ddblake binary as a user does.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ddblake once for the tests of the package.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ddblake-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = testbin.Build(filepath.Join(dir, "ddblake"), ".", ".", nil)
	})
	require.NoError(t, buildErr)
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

type run struct {
	code           int
	stdout, stderr string
}

// ddblake runs the binary with args and the environment variables env
// (DDBLAKE_ ones of the test process left out).
func ddblake(t *testing.T, env []string, args ...string) run {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DDBLAKE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return run{code: code, stdout: out.String(), stderr: errOut.String()}
}

const testMaskKey = "binary-privacy-test-key-01234567"

func mask(s string) string {
	h := hmac.New(sha256.New, []byte(testMaskKey))
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// TestPrivacyBinary replays, flattens and infers inputs of every format
// whose items hold omitted and masked values (many records bad for other
// reasons) with the built binary, and reads back every file the replay
// wrote and everything the commands printed: no hidden value anywhere,
// the masks where the values were.
func TestPrivacyBinary(t *testing.T) {
	in, work := t.TempDir(), t.TempDir()
	laketest.WritePrivacyInputs(t, in)
	config := filepath.Join(work, "ddblake.yaml")
	require.NoError(t, os.WriteFile(config, []byte(laketest.PrivacyConfig), 0o644))
	withKey := []string{"DDBLAKE_MASK_KEY=" + testMaskKey}
	secrets := laketest.PrivacySecrets()

	t.Run("replay", func(t *testing.T) {
		lake := filepath.Join(work, "lake")
		r := ddblake(t, withKey, "replay", "--config", config, "--table", "chat", "--to", lake, in)
		require.Equal(t, 3, r.code, "records set aside: %s", r.stderr)
		require.Contains(t, r.stderr, "set aside: ")
		all := laketest.RequireHidden(t, lake, secrets, r.stdout, r.stderr)
		for _, v := range laketest.PrivacyVisible() {
			require.Contains(t, all, v)
		}
		for _, v := range laketest.PrivacyMasked() {
			require.Contains(t, all, mask(v), "the mask of %s", v)
		}

		before := laketest.Files(t, lake)
		again := ddblake(t, withKey, "replay", "--config", config, "--table", "chat", "--to", lake, in)
		require.Equal(t, 3, again.code)
		require.Equal(t, before, laketest.Files(t, lake), "a rerun with the same key writes the same bytes: masks are stable")
	})

	t.Run("flatten", func(t *testing.T) {
		r := ddblake(t, withKey, "flatten", "--config", config, "--table", "chat", in)
		require.Equal(t, 3, r.code, r.stderr)
		require.Contains(t, r.stdout, "alice-visible")
		require.Contains(t, r.stdout, mask(laketest.SecretPhone))
		laketest.RequireHidden(t, t.TempDir(), secrets, r.stdout, r.stderr)
	})

	t.Run("infer needs no key", func(t *testing.T) {
		r := ddblake(t, nil, "infer", "--config", config, "--table", "chat", in)
		require.Equal(t, 3, r.code, r.stderr)
		require.Contains(t, r.stdout, "phone: string")
		laketest.RequireHidden(t, t.TempDir(), secrets, r.stdout, r.stderr)
	})

	t.Run("no key", func(t *testing.T) {
		lake := filepath.Join(work, "nokey")
		r := ddblake(t, nil, "replay", "--config", config, "--table", "chat", "--to", lake, in)
		require.Equal(t, 2, r.code)
		require.Contains(t, r.stderr, "mask rules need a mask key")
		require.Contains(t, r.stderr, "DDBLAKE_MASK_KEY")
		require.NoDirExists(t, lake, "nothing is written without a key")

		r = ddblake(t, []string{"DDBLAKE_MASK_KEY=too-short"}, "flatten", "--config", config, "--table", "chat", in)
		require.Equal(t, 2, r.code)
		require.NotContains(t, r.stderr, "too-short", "the key is never shown")
	})

	t.Run("key file", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(work, "mask.key"), []byte(testMaskKey+"\n"), 0o600))
		cfg := filepath.Join(work, "with-file.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte(laketest.PrivacyConfig+"mask_key: file://mask.key\n"), 0o644))
		r := ddblake(t, nil, "flatten", "--config", cfg, "--table", "chat", in)
		require.Equal(t, 3, r.code, r.stderr)
		require.Contains(t, r.stdout, mask(laketest.SecretPhone), "the same key from a file gives the same masks")

		r = ddblake(t, withKey, "flatten", "--config", cfg, "--table", "chat", in)
		require.Equal(t, 2, r.code)
		require.Contains(t, r.stderr, "mask key given twice")
	})
}
