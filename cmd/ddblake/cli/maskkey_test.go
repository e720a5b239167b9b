package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
)

// TestMaskKeySources reads the mask key from an S3 object the
// configuration names, and refuses the keys that cannot be used with
// exit code 2 and a line that does not show them.
func TestMaskKeySources(t *testing.T) {
	backend := fakeS3(t, "keys")
	const key = "cli-test-mask-key-from-s3-0123"
	_, err := backend.PutObject("keys", "ddblake/mask.key", nil, strings.NewReader(key+"\n"), int64(len(key)+1), nil)
	require.NoError(t, err)
	t.Setenv("DDBLAKE_MASK_KEY", "")
	in, work := t.TempDir(), t.TempDir()
	laketest.WritePrivacyInputs(t, in)
	write := func(name, extra string) string {
		p := filepath.Join(work, name)
		require.NoError(t, os.WriteFile(p, []byte(laketest.PrivacyConfig+extra), 0o644))
		return p
	}

	r := ddblake(t, "", "flatten", "--config", write("s3.yaml", "mask_key: s3://keys/ddblake/mask.key\n"), "--table", "chat", in)
	require.Equal(t, 3, r.code, r.stderr)
	require.Contains(t, r.stdout, "alice-visible")
	laketest.RequireHidden(t, t.TempDir(), laketest.PrivacySecrets(), r.stdout, r.stderr)

	for name, extra := range map[string]string{
		"missing.yaml":  "mask_key: s3://keys/none\n",
		"nofile.yaml":   "mask_key: file://none.key\n",
		"inline.yaml":   "mask_key: " + key + "\n",
		"unknown.yaml":  "mask_key: https://example.com/k\n",
		"badmode.yaml":  "quarantine: everything\n",
		"nokey.yaml":    "",
		"shortkey.yaml": "mask_key: file://short.key\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(work, "short.key"), []byte("short"), 0o600))
		r := ddblake(t, "", "replay", "--config", write(name, extra), "--to", filepath.Join(work, "lake"), in)
		require.Equal(t, 2, r.code, "%s: %s", name, r.stderr)
		require.Contains(t, r.stderr, "ddblake: config ", name)
		require.NotContains(t, r.stderr, key, name)
		require.NotContains(t, r.stderr, "short\n", name)
		require.NoDirExists(t, filepath.Join(work, "lake"), name)
	}
}
