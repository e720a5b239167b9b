package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
	"github.com/ddblake/ddblake/sink/catalog"
	"github.com/ddblake/ddblake/sink/catalog/gluetest"
)

// TestDDLAlterReadmeRecipe runs the README's recipe as written: copy the
// registry with cp -r lake/_ddblake before/, whether before/ exists or
// not, replay more, then ddl --format alter --previous before.
func TestDDLAlterReadmeRecipe(t *testing.T) {
	t.Parallel()
	for _, exists := range []bool{false, true} {
		lake := t.TempDir()
		res := ddblake(t, "", "replay", "--to", lake, fixture("sample", "lambda", "chat-messages", "shard-0", "001.json"))
		require.Equal(t, cli.ExitOK, res.code, res.stderr)
		before := filepath.Join(t.TempDir(), "before")
		if exists {
			require.NoError(t, os.Mkdir(before, 0o755))
		}
		out, err := exec.Command("cp", "-r", filepath.Join(lake, "_ddblake"), before+"/").CombinedOutput()
		require.NoError(t, err, string(out))
		res = ddblake(t, "", "replay", "--to", lake, fixture("sample"))
		require.Equal(t, cli.ExitOK, res.code, res.stderr)

		res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "alter", "--previous", before)
		require.Equal(t, cli.ExitOK, res.code, res.stderr)
		require.Contains(t, res.stdout, "ALTER TABLE `ddblake`.`chat_messages` ADD COLUMNS (", "before/ existing: %v", exists)
		require.NotContains(t, res.stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `ddblake`.`chat_messages`")
	}
}

// TestDDLAlterRefusesEmptyPrevious: a --previous holding no registry would
// make every table look new, and CREATE ... IF NOT EXISTS a silent no-op.
func TestDDLAlterRefusesEmptyPrevious(t *testing.T) {
	t.Parallel()
	lake := t.TempDir()
	res := ddblake(t, "", "replay", "--to", lake, fixture("sample", "lambda", "chat-messages", "shard-0", "001.json"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	empty := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(empty, "other"), 0o755))
	res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "alter", "--previous", empty)
	require.Equal(t, cli.ExitUsage, res.code, res.stderr)
	require.Contains(t, res.stderr, "holds no registry")
	require.Empty(t, res.stdout)
}

// TestCatalogSync syncs a replayed lake into the fake Glue through the
// real SDK client, then again after more columns arrive, then once more
// with nothing new.
func TestCatalogSync(t *testing.T) {
	g := gluetest.NewServer(t)
	t.Setenv("AWS_ENDPOINT_URL_GLUE", g.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	lake := t.TempDir()
	sync := func() result {
		return ddblake(t, "", "catalog", "sync", "--lake", lake, "--location", "s3://my-lake/ddb", "--database", "chat")
	}

	res := ddblake(t, "", "replay", "--to", lake, fixture("sample", "lambda", "chat-messages", "shard-0", "001.json"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	res = sync()
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stderr, "chat_messages created")
	require.Contains(t, res.stderr, "chat_messages_latest created")
	first, ok := g.Table("chat", "chat_messages")
	require.True(t, ok)

	res = ddblake(t, "", "replay", "--to", lake, fixture("sample"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	res = sync()
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stderr, "chat_messages updated (+")
	require.Contains(t, res.stderr, "chat_rooms created")
	after, _ := g.Table("chat", "chat_messages")
	require.Greater(t, len(after.Columns()), len(first.Columns()))
	require.Equal(t, first.Columns(), after.Columns()[:len(first.Columns())], "columns appended")
	require.NotEqual(t, first.VersionID, after.VersionID)
	for _, c := range after.StorageDescriptor.Columns {
		require.NotEmpty(t, c.Parameters[catalog.CatalogedAtParam], c.Name)
	}

	calls := len(g.Calls())
	res = sync()
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stderr, "nothing changed")
	for _, c := range g.Calls()[calls:] {
		require.Equal(t, "GetTable", c.Op)
	}

	res = ddblake(t, "", "catalog", "sync", "--lake", lake, "--location", "s3://my-lake/ddb")
	require.Equal(t, cli.ExitUsage, res.code)
	require.True(t, strings.Contains(res.stderr, "--database"), res.stderr)
}

// TestReplaySyncsCatalog: replay --database creates and updates the Glue
// tables as it commits columns, without a separate step.
func TestReplaySyncsCatalog(t *testing.T) {
	g := gluetest.NewServer(t)
	t.Setenv("AWS_ENDPOINT_URL_GLUE", g.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	lake := t.TempDir()
	res := ddblake(t, "", "replay", "--to", lake, "--database", "chat", "--location", "s3://my-lake/ddb", fixture("sample"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.NotContains(t, res.stderr, "warning: catalog")

	// What the replay left in Glue is what catalog sync would write.
	calls := len(g.Calls())
	res = ddblake(t, "", "catalog", "sync", "--lake", lake, "--location", "s3://my-lake/ddb", "--database", "chat")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stderr, "nothing changed")
	for _, c := range g.Calls()[calls:] {
		require.Equal(t, "GetTable", c.Op)
	}
	for _, name := range []string{"chat_messages", "chat_rooms", "chat_messages_latest"} {
		_, ok := g.Table("chat", name)
		require.True(t, ok, name)
	}

	res = ddblake(t, "", "replay", "--to", t.TempDir(), "--database", "chat", fixture("sample"))
	require.Equal(t, cli.ExitUsage, res.code)
	require.Contains(t, res.stderr, "--location")
}
